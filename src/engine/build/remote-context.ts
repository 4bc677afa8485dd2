/**
 * POST /build?remote=…: a build context the daemon fetches itself (moby
 * builder/remotecontext/detect.go). The docker CLI fetches URL and git contexts on its side and
 * sends a tar; raw API clients may name them instead:
 * - a git repository (`git://…`, `git@…`, `github.com/…`, or an http(s) URL ending in `.git`),
 *   with an optional `#ref:subdir` fragment: fetched with the git binary exactly as moby's
 *   gitutils does (init, fetch --depth 1 origin -- <ref>, checkout, submodules), `master` being
 *   the default ref;
 * - an http(s) URL serving a tar (plain or compressed): the context; or serving text: a
 *   Dockerfile alone (the context holds only it).
 * Either way the result is a tar stream, received like a context sent in the request body.
 */
import { execFile, spawn } from 'node:child_process';
import { lstat, mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { invalidParameter, packTar } from '../../common/index.ts';
import { resolveInScope } from './copy.ts';

const execFileAsync = promisify(execFile);

/** urlutil.IsGitURL. */
export function isGitUrl(s: string): boolean {
  if (/^https?:\/\//.test(s) && /\.git(?:#.+)?$/.test(s)) return true;
  return s.startsWith('git://') || s.startsWith('github.com/') || s.startsWith('git@');
}

/**
 * Fetches `remote` (using `work`, an empty directory the caller removes) and returns the context
 * as a tar stream; `dockerfile` names a Dockerfile served alone.
 */
export async function fetchRemoteContext(
  remote: string,
  work: string,
  options: { dockerfile: string; signal: AbortSignal },
): Promise<Readable> {
  if (remote === 'client-session')
    throw invalidParameter(
      'experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead',
    );
  if (isGitUrl(remote)) return tarDir(await cloneGit(remote, work, options.signal));
  if (/^https?:\/\//.test(remote)) return downloadContext(remote, work, options);
  throw invalidParameter(`remoteURL (${remote}) could not be recognized as URL`);
}

/** A directory as a tar stream (GNU tar, numeric owners, the directory's contents at the root). */
function tarDir(dir: string): Readable {
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // Piped at once: a child's stdout that nothing listens to when the child exits is resumed by
  // Node (child_process flushStdio), dropping its data, and the caller awaits before reading. The
  // stream ends when tar has exited, with its error when it failed.
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(err));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(invalidParameter(`error archiving the git context: ${stderr.trim()}`));
  });
  return out;
}

/** moby gitutils parseRemoteURL + clone + checkout: the directory of the context. */
async function cloneGit(remoteUrl: string, work: string, signal: AbortSignal): Promise<string> {
  let url = remoteUrl;
  if (!url.startsWith('git@') && !/^(git|https?|ssh):\/\//i.test(url)) url = `https://${url}`;
  const hash = url.indexOf('#');
  const remote = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || 'master';
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  if (ref.startsWith('-')) throw invalidParameter(`invalid refspec: ${ref}`);
  const root = join(work, 'git');
  await mkdir(root, { recursive: true });
  const env = {
    ...process.env,
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    HOME: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
  const git = async (args: string[], what: (out: string) => string) => {
    try {
      await execFileAsync('git', ['-c', 'protocol.file.allow=never', ...args], { cwd: root, env, signal });
    } catch (err) {
      signal.throwIfAborted();
      const e = err as { stdout?: string; stderr?: string; code?: string };
      if (e.code === 'ENOENT')
        throw invalidParameter('unable to find git: git is not installed on the daemon host');
      throw invalidParameter(what(`${e.stdout ?? ''}${e.stderr ?? ''}`), { cause: err });
    }
  };
  await git(['init'], (o) => `failed to init repo at ${root}: ${o}`);
  await git(['remote', 'add', 'origin', remote], (o) => `failed add origin repo at ${remote}: ${o}`);
  const shallow = /^https?:/.test(remote) ? await smartHttp(remote) : true;
  await git(
    ['fetch', ...(shallow ? ['--depth', '1'] : []), 'origin', '--', ref],
    (o) => `error fetching: ${o}`,
  );
  try {
    await execFileAsync('git', ['-c', 'protocol.file.allow=never', 'checkout', ref], {
      cwd: root,
      env,
      signal,
    });
  } catch (err) {
    await git(['checkout', 'FETCH_HEAD'], () => {
      const e = err as { stdout?: string; stderr?: string };
      return `error checking out ${ref}: ${e.stdout ?? ''}${e.stderr ?? ''}`;
    });
  }
  await git(
    ['submodule', 'update', '--init', '--recursive', '--depth=1'],
    (o) => `error initializing submodules: ${o}`,
  );
  let dir = await realpath(root);
  if (subdir !== '') {
    const inside = resolveInScope(dir, subdir);
    const st = await lstat(inside).catch(() => undefined);
    if (!st) throw invalidParameter(`stat ${inside}: no such file or directory`);
    if (!st.isDirectory()) throw invalidParameter(`error setting git context, not a directory: ${inside}`);
    dir = inside;
  }
  return dir;
}

/** moby supportsShallowClone: a smart HTTP server advertises git-upload-pack. */
async function smartHttp(remote: string): Promise<boolean> {
  const service = `${remote}/info/refs?service=git-upload-pack`;
  for (const method of ['HEAD', 'GET']) {
    try {
      const res = await fetch(service, { method });
      await res.body?.cancel();
      if (res.status === 200)
        return res.headers.get('content-type') === 'application/x-git-upload-pack-advertisement';
    } catch {}
  }
  return false;
}

const ACCEPTABLE = /(?:application\/(?:(?:x-)?tar|octet-stream|((?:x-)?(?:gzip|bzip2?|xz)))|(?:text\/plain))/;

/** moby newURLRemote: a tar context, or a Dockerfile alone when the URL serves text. */
async function downloadContext(
  url: string,
  work: string,
  options: { dockerfile: string; signal: AbortSignal },
): Promise<Readable> {
  const { signal } = options;
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal });
  } catch (err) {
    signal.throwIfAborted();
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw invalidParameter(`error downloading remote context ${url}: Get "${url}": ${cause}`);
  }
  if (res.status >= 400) {
    const body = (await res.text().catch(() => '')).trim();
    throw invalidParameter(
      `error downloading remote context ${url}: failed to GET ${url} with status ${res.status} ${res.statusText}: ${body}`,
    );
  }
  const data = Buffer.from(await res.arrayBuffer());
  if (data.length === 0)
    throw invalidParameter(`error detecting content type for remote ${url}: empty response`);
  const header = res.headers.get('content-type') ?? '';
  let ct = header;
  if (ct === '' || ct === 'application/octet-stream') ct = detectContentType(data.subarray(0, 100));
  const acceptable = ACCEPTABLE.exec(ct)?.[0];
  if (!acceptable)
    throw invalidParameter(
      `error detecting content type for remote ${url}: unsupported Content-Type "${header}"`,
    );
  if (acceptable === 'text/plain') {
    const name = options.dockerfile.replace(/^\/+/, '') || 'Dockerfile';
    return packTar(
      (async function* () {
        yield {
          header: { name, type: 'file' as const, mode: 0o644, size: data.length, mtime: 0 },
          body: data,
        };
      })(),
    );
  }
  // gzip is unpacked by the receiver, like a gzip body; bzip2 and xz here.
  if (data.subarray(0, 3).toString('latin1') === 'BZh' || data[0] === 0xfd) {
    await mkdir(work, { recursive: true });
    const tmp = join(work, 'context.compressed');
    await writeFile(tmp, data);
    const tool = data[0] === 0xfd ? 'xz' : 'bzip2';
    const { stdout } = await execFileAsync(tool, ['-dc', tmp], { encoding: 'buffer', maxBuffer: 1 << 30 });
    return Readable.from([stdout]);
  }
  return Readable.from([data]);
}

/** What http.DetectContentType tells of a build context: compressed, text, or binary. */
function detectContentType(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'application/x-gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'application/x-bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return 'application/x-xz';
  const binary = head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b));
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}
