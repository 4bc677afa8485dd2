/**
 * The cache identity of a COPY/ADD step, computed from its sources alone — no snapshot of the
 * step's image is prepared or mounted for it, so a cached COPY costs a few lstat calls and, for
 * context files, no reads at all (their digests were taken while the context was received, see context.ts).
 *
 * The summary (`file:<hex>`, `dir:<hex>`, `multi:<hex>`, Docker's wording in history) hashes, for
 * every matched source in order, its name and, for each object it copies (a directory's contents
 * recursively, in name order): the path below the source, the type, the permission bits, the
 * size, the link target and the content digest. Like moby's tarsum (v1) it leaves out the
 * modification time and the source's owner: neither changes what COPY writes except the mtime
 * carried over, which Docker's cache ignores too.
 *
 * What the step does with the files beyond that — `--chown`, `--chmod`, the destination — is
 * added to the cache key by `copyKeyExtra`; the parent image fixes what is at the destination.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { MatchedSource } from './copy.ts';
import { type SourceFs, type SourceStat, diskFs } from './source-fs.ts';

/** Content digests (hex sha256) of regular files, by host path, taken while receiving the context. */
export interface FileDigests {
  get(path: string): string | undefined;
}

export async function sourceSummary(
  matched: MatchedSource[],
  digests?: FileDigests,
  fs: SourceFs = diskFs,
): Promise<string> {
  const h = createHash('sha256');
  let kind = matched.length > 1 ? 'multi' : 'file';
  for (const m of matched) {
    const st = fs.lstat(m.host);
    if (!st) throw new Error(`${m.host} vanished`);
    if (st.isDirectory() && matched.length === 1) kind = 'dir';
    h.update(`source\0${m.rel}\0`);
    await hashObject(h, fs, m.host, '.', st, digests);
  }
  return `${kind}:${h.digest('hex')}`;
}

async function hashObject(
  h: ReturnType<typeof createHash>,
  fs: SourceFs,
  host: string,
  rel: string,
  st: SourceStat,
  digests: FileDigests | undefined,
): Promise<void> {
  const type = st.isDirectory()
    ? 'dir'
    : st.isSymbolicLink()
      ? 'symlink'
      : st.isFile()
        ? 'file'
        : st.isFIFO()
          ? 'fifo'
          : 'other';
  const link = st.isSymbolicLink() ? fs.readlink(host) : '';
  h.update(`${rel}\0${type}\0${(st.mode & 0o7777).toString(8)}\0${st.isFile() ? st.size : 0}\0${link}\0`);
  if (st.isFile()) h.update(digests?.get(host) ?? (await fileDigest(host)));
  else if (st.isDirectory()) {
    for (const name of fs.readdir(host).sort()) {
      const child = posix.join(host, name);
      const cst = fs.lstat(child);
      if (!cst || cst.isSocket()) continue;
      await hashObject(h, fs, child, rel === '.' ? name : `${rel}/${name}`, cst, digests);
    }
  }
}

/** Hex sha256 of a file's bytes. */
export async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The part of a COPY/ADD's cache key that Docker's history comment does not show: the owner and
 * mode flags as written (their lookup in the image is fixed by the parent image).
 */
export function copyKeyExtra(flags: { chown?: string; chmod?: string; from?: string }): string {
  return JSON.stringify({ chown: flags.chown ?? null, chmod: flags.chmod ?? null, from: flags.from ?? null });
}
