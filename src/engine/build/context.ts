/**
 * The build context of POST /build: the request body (a tar, plain or gzip) unpacked once into
 * a temp directory, with the sha256 of every regular file taken on the way in, so a COPY's cache
 * key never reads the files again (cache-key.ts).
 *
 * `.dockerignore` on the daemon side is what moby's classic builder does with it
 * (builder/remotecontext/detect.go removeDockerfile): the client already left the excluded files
 * out, and the daemon only removes `.dockerignore` itself and the Dockerfile from the context when
 * the patterns exclude them (after the Dockerfile has been read), so a COPY of the context does
 * not copy them. Other files a raw tar carries stay visible to COPY, as with dockerd 20.10
 * (checked with a raw API call: a context whose .dockerignore lists `secret.txt` still copies it).
 */
import { readFile, realpath, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import dockerignoreModule from '@balena/dockerignore';
import { invalidParameter } from '../../common/index.ts';
import { extractTar } from '../../platform/index.ts';
import type { FileDigests } from './cache-key.ts';

// CommonJS whose typings declare an ES default export: at run time the default import is the factory.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

export interface BuildContext {
  /** The unpacked context (realpath). */
  dir: string;
  /** Content digests of its regular files, by host path. */
  digests: FileDigests;
  /** The Dockerfile's text. */
  dockerfile: string;
}

/** Unpacks the context into `dir`, reads the Dockerfile and applies moby's .dockerignore removal. */
export async function receiveContext(
  body: Readable,
  dir: string,
  options: { dockerfile: string; signal: AbortSignal },
): Promise<BuildContext> {
  const digests: FileDigests = new Map();
  await extractTar(await maybeGunzip(body), dir, {
    whiteouts: 'none',
    sameOwner: true,
    signal: options.signal,
    digests,
  });
  const root = await realpath(dir);
  const dfPath = contextPath(options.dockerfile);
  let dockerfile: string;
  try {
    dockerfile = await readFile(join(root, dfPath), 'utf8');
  } catch {
    throw invalidParameter(`Cannot locate specified Dockerfile: ${options.dockerfile}`);
  }
  await removeIgnoredBuildFiles(root, dfPath, digests);
  return { dir: root, digests, dockerfile };
}

/** The Dockerfile's path inside the context, cleaned (`./a/../Dockerfile` → `Dockerfile`). */
export function contextPath(name: string): string {
  return posix.normalize(`/${name || 'Dockerfile'}`).slice(1);
}

/** moby removeDockerfile: `.dockerignore` and the Dockerfile leave the context when excluded. */
async function removeIgnoredBuildFiles(root: string, dfPath: string, digests: FileDigests): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(root, '.dockerignore'), 'utf8');
  } catch {
    return;
  }
  const ig = dockerignore({ ignorecase: false }).add(text.split('\n'));
  for (const name of ['.dockerignore', dfPath]) {
    if (!ig.ignores(name)) continue;
    const host = join(root, name);
    await rm(host, { force: true, recursive: true });
    digests.delete(host);
  }
}

/** The body as a tar stream: gunzipped when it starts with gzip's magic bytes. */
export async function maybeGunzip(stream: Readable): Promise<Readable> {
  const pass = new PassThrough();
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      cleanup();
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', reject);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', reject);
  });
  if (first) pass.write(first);
  stream.on('error', (e) => pass.destroy(e));
  stream.pipe(pass);
  if (first && first[0] === 0x1f && first[1] === 0x8b) return pass.pipe(createGunzip());
  return pass;
}
