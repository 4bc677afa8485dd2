/**
 * ADD from an http(s) URL, as moby's classic builder does it (builder/dockerfile/copy.go
 * downloadSource, remotecontext.GetWithStatusError):
 * - the file is downloaded on every build (the step cache then compares its content, so an
 *   unchanged download is a cache hit);
 * - its name is the last element of the URL path, else the Content-Disposition filename, else
 *   `__unnamed__` (and a destination ending in `/` is then an error);
 * - it is written with mode 0600 and its mtime is the Last-Modified header (the Unix epoch
 *   without one); it is never unpacked, even when it is an archive;
 * - a status of 400 or more fails the step with `failed to GET <url> with status <status>: <body>`.
 * `--checksum=<algo>:<hex>` (which the classic builder ignores) is checked as BuildKit does:
 * one http(s) source only, and a different digest fails with `digest mismatch <got>: <want>`.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, utimes } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { forbidden, invalidParameter, notFound, unauthorized } from '../../common/index.ts';
import type { CopyPlan } from './copy.ts';

export const UNNAMED = '__unnamed__';

export function isRemoteUrl(source: string): boolean {
  return /^https?:\/\//.test(source);
}

const CHECKSUM_ALGOS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** BuildKit's checks of `--checksum` (dockerfile2llb dispatchCopy) before anything is fetched. */
export function checkChecksumFlag(checksum: string, verb: 'ADD' | 'COPY', sources: string[]): void {
  if (verb === 'COPY') throw invalidParameter("checksum can't be specified for COPY");
  if (sources.length !== 1) throw invalidParameter("checksum can't be specified for multiple sources");
  if (!isRemoteUrl(sources[0]!)) throw invalidParameter('checksum requires HTTP(S) or Git sources');
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(checksum);
  if (!m) throw invalidParameter('invalid checksum digest format');
  const len = CHECKSUM_ALGOS[m[1]!];
  if (len === undefined) throw invalidParameter('unsupported digest algorithm');
  if (m[2]!.length !== len || !/^[a-f0-9]+$/.test(m[2]!))
    throw invalidParameter('invalid checksum digest length');
}

/** File name of a download: URL path, then Content-Disposition, else '' (getFilenameForDownload). */
export function downloadName(url: URL, contentDisposition: string | null): string {
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {}
  if (path !== '' && !path.endsWith('/')) {
    const base = posix.basename(path);
    if (base !== '') return base;
  }
  if (contentDisposition) {
    const m = /;\s*filename\*?=(?:"([^"]*)"|([^;\s]*))/i.exec(contentDisposition);
    const name = m?.[1] ?? m?.[2];
    if (name && !name.endsWith('/')) {
      const base = posix.basename(name);
      if (base !== '') return base;
    }
  }
  return '';
}

export interface Download {
  /** Directory holding the one downloaded file (the source root for the copy). */
  dir: string;
  /** Its name there ('__unnamed__' when no name could be found). */
  file: string;
  /** Whether a name was found. */
  named: boolean;
}

/** Downloads `url` into a new directory `dir` (removed by the caller). */
export async function downloadSource(
  url: string,
  dir: string,
  options: {
    checksum?: string;
    signal?: AbortSignal;
    onProgress?: (received: number, total: number) => void;
  },
): Promise<Download> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw invalidParameter(`parse "${url}": invalid URL`, { cause: err });
  }
  let resp: Response;
  try {
    resp = await fetch(url, { redirect: 'follow', ...(options.signal && { signal: options.signal }) });
  } catch (err) {
    options.signal?.throwIfAborted();
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw invalidParameter(`Get "${url}": ${cause}`, { cause: err });
  }
  if (resp.status >= 400) {
    const body = (await resp.text().catch(() => '')).trim();
    const msg = `failed to GET ${url} with status ${resp.status} ${resp.statusText || STATUS_CODES[resp.status] || ''}: ${body}`;
    if (resp.status === 404) throw notFound(msg);
    if (resp.status === 401) throw unauthorized(msg);
    if (resp.status === 403) throw forbidden(msg);
    throw invalidParameter(msg);
  }
  const name = downloadName(parsed, resp.headers.get('content-disposition'));
  const file = name || UNNAMED;
  await mkdir(dir, { recursive: true });
  const path = join(dir, file);
  const algo = options.checksum?.split(':')[0] ?? 'sha256';
  const hash = createHash(algo);
  const total = Number(resp.headers.get('content-length') ?? -1);
  let received = 0;
  const body = resp.body ? Readable.fromWeb(resp.body as never) : Readable.from([]);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    options.onProgress?.(received, total);
  });
  await pipeline(body, createWriteStream(path, { mode: 0o600, flags: 'wx' }), {
    ...(options.signal && { signal: options.signal }),
  });
  if (options.checksum) {
    const got = `${algo}:${hash.digest('hex')}`;
    if (got !== options.checksum) throw invalidParameter(`digest mismatch ${got}: ${options.checksum}`);
  }
  const lastModified = resp.headers.get('last-modified');
  const ms = lastModified ? Date.parse(lastModified) : Number.NaN;
  const mtime = Number.isNaN(ms) ? new Date(0) : new Date(ms);
  await utimes(path, mtime, mtime);
  return { dir, file, named: name !== '' };
}

/** Several copy plans (local sources, each download) as one step's plan. */
export function mergePlans(plans: CopyPlan[]): CopyPlan {
  if (plans.length === 1) return plans[0]!;
  const parents = [...new Set(plans.flatMap((p) => p.parents))].sort(
    (a, b) => a.split('/').length - b.split('/').length,
  );
  return {
    items: plans.flatMap((p) => p.items),
    archives: plans.flatMap((p) => p.archives),
    parents,
  };
}

/**
 * The source summaries of one step's parts (local sources, each download) as one: a single part
 * keeps its own, several make `multi:<sha256 of theirs>` (moby getSourceHashFromInfos).
 */
export function mergeSummaries(summaries: string[]): string {
  if (summaries.length === 1) return summaries[0]!;
  const hash = createHash('sha256');
  for (const s of summaries) hash.update(`${s}\0`);
  return `multi:${hash.digest('hex')}`;
}
