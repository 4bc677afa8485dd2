/**
 * Stat, pack or extract one path of a container's filesystem in a chrooted worker process
 * (in-root-worker.ts), with the container's volumes and binds mounted in the worker's own
 * mount namespace: the host never sees those mounts, and no path can lead out of the root.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { BerthError, invalidParameter, notFound, packageRoot } from '../../common/index.ts';
import type { IdMap } from './id-map.ts';

export interface InRootRequest {
  /** The container's mounted root filesystem. */
  rootfs: string;
  /** Host paths to bind at container paths before the chroot. */
  binds: { source: string; destination: string; readOnly: boolean }[];
  op: 'stat' | 'get' | 'put';
  /** Absolute path inside the container. */
  path: string;
  noOverwriteDirNonDir?: boolean;
  /** A user-namespaced container's maps: archives hold container ids, its files remapped ids. */
  idMap?: IdMap;
}

/** Docker's container path stat (X-Docker-Container-Path-Stat): `mode` holds Go's FileMode bits. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

// tsc's output of in-root-worker.ts, found from the package root so a bundled berthd finds it too.
const worker = () => join(packageRoot(), 'dist', 'src', 'platform', 'archive', 'in-root-worker.js');

type Message = { stat?: PathStat; done?: boolean; error?: { code: string; message: string } };

function start(req: InRootRequest, signal?: AbortSignal) {
  const child = spawn(
    'unshare',
    ['-m', '--propagation', 'private', '--', process.execPath, worker(), JSON.stringify(req)],
    { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) },
  );
  let stderr = '';
  child.stderr?.on('data', (c) => {
    if (stderr.length < 4096) stderr += c;
  });
  child.on('error', () => {});
  const lines = createInterface({ input: child.stdio[3] as Readable });
  const messages = lines[Symbol.asyncIterator]();
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const next = async (): Promise<Message> => {
    const r = await messages.next();
    if (r.done) {
      const code = await exited;
      throw new Error(`archive worker exited (${code}) without an answer: ${stderr.trim()}`);
    }
    const msg = JSON.parse(r.value) as Message;
    if (msg.error) throw toError(msg.error, req.path);
    return msg;
  };
  return { child, next, exited, stderr: () => stderr };
}

function toError(e: { code: string; message: string }, path: string): BerthError {
  if (e.code === 'ENOENT') return notFound(`Could not find the file ${path} in container`);
  if (e.code === 'ENOTDIR')
    return invalidParameter(
      e.message.includes('extraction point') ? 'extraction point is not a directory' : e.message,
    );
  if (e.code === 'EROFS') return new BerthError('Forbidden', `mounted volume is marked read-only`);
  return invalidParameter(e.message);
}

export async function statInRoot(req: Omit<InRootRequest, 'op'>): Promise<PathStat> {
  const w = start({ ...req, op: 'stat' });
  try {
    return (await w.next()).stat!;
  } finally {
    await w.exited;
  }
}

/** The stat and the tar stream of a path; the stream ends when the worker has written all. */
export async function getInRoot(
  req: Omit<InRootRequest, 'op'>,
  signal?: AbortSignal,
): Promise<{ stat: PathStat; tar: Readable; done: Promise<void> }> {
  const w = start({ ...req, op: 'get' }, signal);
  let stat: PathStat;
  try {
    stat = (await w.next()).stat!;
  } catch (err) {
    await w.exited;
    throw err;
  }
  const done = w.exited.then((code) => {
    if (code !== 0) throw new Error(`archive worker failed: ${w.stderr().trim()}`);
  });
  done.catch(() => {});
  return { stat, tar: w.child.stdout!, done };
}

/** Extracts `tar` at `path` (an existing directory) in the container. */
export async function putInRoot(
  req: Omit<InRootRequest, 'op'>,
  tar: Readable,
  signal?: AbortSignal,
): Promise<void> {
  const w = start({ ...req, op: 'put' }, signal);
  const feeding = pipeline(tar, w.child.stdin!).catch(() => {});
  try {
    await w.next();
  } finally {
    tar.unpipe?.();
    w.child.stdin?.destroy();
    await feeding;
    await w.exited;
  }
}
