/**
 * The build context of POST /build, received once and unpacked only when a step needs its files.
 *
 * The request body (a tar, plain or gzip) is written as one file (`context.tar` beside the
 * context directory) and indexed as it arrives: for every entry its type, permission
 * bits, size, mtime, link target and — for regular files — the sha256 of its bytes and where they
 * are in the tar. COPY/ADD match their sources and compute their cache key from that index (a
 * SourceFs), and a COPY/ADD that misses reads the files' bytes straight from their ranges of
 * the tar: the context is never unpacked, so each copied byte is written once, into the step's
 * snapshot. Only an archive with entries below a symlink (the index no longer says where they
 * land) is unpacked whole (`materialize`) with the safe extractor and matched on disk.
 *
 * The index follows what the extractor would leave: later entries replace earlier ones (a
 * replaced directory loses its contents), hard links share their target's content and mode,
 * parent directories missing from the archive exist (0755), names are cleaned the same way and
 * link targets that climb out are refused with the same errors.
 *
 * `.dockerignore` on the daemon side is what moby's classic builder does with it
 * (builder/remotecontext/detect.go removeDockerfile): the client already left the excluded files
 * out, and the daemon only removes `.dockerignore` itself and the Dockerfile from the context when
 * the patterns exclude them (after the Dockerfile has been read), so a COPY of the context does
 * not copy them. Other files a raw tar carries stay visible to COPY, as with dockerd 20.10
 * (checked with a raw API call: a context whose .dockerignore lists `secret.txt` still copies it).
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import dockerignoreModule from '@balena/dockerignore';
import { invalidParameter, readTar } from '../../common/index.ts';
import { fanOut } from '../../image/index.ts';
import { cleanEntryPath, extractTar, linkStaysInside } from '../../platform/index.ts';
import type { FileDigests } from './cache-key.ts';
import type { SourceFs, SourceStat } from './source-fs.ts';

// CommonJS whose typings declare an ES default export: at run time the default import is the factory.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

interface IndexEntry {
  type: 'dir' | 'file' | 'symlink' | 'fifo' | 'other';
  mode: number;
  size: number;
  linkname: string;
  /** Modification time (ms), as the extractor would set it. */
  mtimeMs: number;
  digest?: string;
  /** Where a regular file's bytes are in the spooled tar. */
  offset?: number;
}

/** Bytes per read of a file's range of the archive. */
const READ_CHUNK = 1 << 20;

/** Files whose bytes the receiver keeps in memory while indexing (the Dockerfile, .dockerignore). */
const KEEP_LIMIT = 16 << 20;

export class BuildContext implements SourceFs {
  /** Where the context is (or will be) unpacked (realpath); index paths are under it. */
  readonly dir: string;
  /** The Dockerfile's text. */
  dockerfile = '';
  /**
   * False when the archive has entries below a symlink or a file: then sources are matched on
   * the unpacked directory instead of the index.
   */
  exact = true;
  readonly #tar: string;
  readonly #entries = new Map<string, IndexEntry>();
  readonly #children = new Map<string, Set<string>>();
  readonly #removed: string[] = [];
  readonly #signal: AbortSignal;
  #unpacked: Promise<void> | undefined;
  /** The spooled tar, opened by the first read. */
  #fd: number | undefined;

  private constructor(dir: string, tar: string, signal: AbortSignal) {
    this.dir = dir;
    this.#tar = tar;
    this.#signal = signal;
    this.#entries.set('', dirEntry());
  }

  /**
   * Receives the body into `<work>/context.tar`, indexes it, reads the Dockerfile and applies
   * moby's .dockerignore removal. Nothing is unpacked yet.
   */
  static async receive(
    body: Readable,
    work: string,
    options: { dockerfile: string; signal: AbortSignal },
  ): Promise<BuildContext> {
    const dir = join(work, 'ctx');
    await mkdir(dir, { recursive: true });
    const tar = join(work, 'context.tar');
    const ctx = new BuildContext(await realpath(dir), tar, options.signal);
    const dfPath = contextPath(options.dockerfile);
    // One pass over the body: spooled to the file and indexed as it arrives. A bad archive is
    // still read to its end (the client is not cut off mid-upload) before its error is thrown.
    const [, kept] = await fanOut(
      await maybeGunzip(body),
      [
        (input) => pipeline(input, createWriteStream(tar), { signal: options.signal }),
        (input) =>
          ctx.#index(input, new Set([dfPath, '.dockerignore'])).catch(async (err: unknown) => {
            input.resume();
            await finished(input).catch(() => {});
            throw err;
          }),
      ],
      { signal: options.signal },
    );
    const df = ctx.#lookup(dfPath);
    const text = df?.type === 'file' ? kept.get(dfPath) : undefined;
    if (text === undefined)
      throw invalidParameter(`Cannot locate specified Dockerfile: ${options.dockerfile}`);
    ctx.dockerfile = text.toString('utf8');
    const ignore = kept.get('.dockerignore');
    if (ignore !== undefined && ctx.#lookup('.dockerignore')?.type === 'file') {
      const ig = dockerignore({ ignorecase: false }).add(ignore.toString('utf8').split('\n'));
      for (const name of ['.dockerignore', dfPath]) if (ig.ignores(name)) ctx.#remove(name);
    }
    return ctx;
  }

  /** Content digests of the regular files, by host path (for cache-key.ts). */
  readonly digests: FileDigests = {
    get: (path: string) => {
      const rel = this.#rel(path);
      return rel === undefined ? undefined : this.#entries.get(rel)?.digest;
    },
  };

  /**
   * Unpacks the whole context into `dir` (once), without what .dockerignore removed: only for an
   * archive whose index is not exact (entries below a symlink), where sources are matched on disk.
   */
  materialize(): Promise<void> {
    const removed = new Set(this.#removed);
    this.#unpacked ??= extractTar(createReadStream(this.#tar), this.dir, {
      whiteouts: 'none',
      sameOwner: true,
      signal: this.#signal,
      include: (rel) => !removed.has(rel),
    }).then(() => {});
    return this.#unpacked;
  }

  // ---- SourceFs over the index (paths are host paths under `dir`)

  lstat(path: string): SourceStat | undefined {
    const rel = this.#rel(path);
    const e = rel === undefined ? undefined : this.#entries.get(rel);
    if (!e) return undefined;
    return {
      isDirectory: () => e.type === 'dir',
      isSymbolicLink: () => e.type === 'symlink',
      isFile: () => e.type === 'file',
      isFIFO: () => e.type === 'fifo',
      isSocket: () => false,
      mode: e.mode,
      size: e.size,
      mtimeMs: e.mtimeMs,
    };
  }

  /** A regular file's bytes, read from its range of the spooled tar (nothing is unpacked). */
  read(path: string): Readable {
    const rel = this.#rel(path);
    const e = rel === undefined ? undefined : this.#entries.get(rel);
    if (e?.type !== 'file' || e.offset === undefined) throw invalidParameter(`not a file: ${path}`);
    // One descriptor for every read, and synchronous reads of what is (almost always) in the page
    // cache: an open, a threadpool round trip per chunk and a close per file cost more than the
    // copy itself for thousands of small files.
    this.#fd ??= openSync(this.#tar, 'r');
    const fd = this.#fd;
    const { offset, size } = e;
    return Readable.from(
      (function* () {
        for (let pos = 0; pos < size; ) {
          const n = Math.min(READ_CHUNK, size - pos);
          const buf = Buffer.allocUnsafe(n);
          const got = readSync(fd, buf, 0, n, offset + pos);
          if (got === 0) throw new Error(`${path}: the context archive ends early`);
          pos += got;
          yield got === n ? buf : buf.subarray(0, got);
        }
      })(),
      { objectMode: false },
    );
  }

  /** Closes the archive (after the build; reads are no longer possible). */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  readdir(path: string): string[] {
    const rel = this.#rel(path);
    return rel === undefined ? [] : [...(this.#children.get(rel) ?? [])];
  }

  readlink(path: string): string {
    const rel = this.#rel(path);
    const e = rel === undefined ? undefined : this.#entries.get(rel);
    if (e?.type !== 'symlink') throw invalidParameter(`not a symlink: ${path}`);
    return e.linkname;
  }

  #rel(path: string): string | undefined {
    if (path === this.dir) return '';
    if (!path.startsWith(`${this.dir}/`)) return undefined;
    return posix.normalize(path.slice(this.dir.length + 1)).replace(/\/+$/, '');
  }

  #lookup(rel: string): IndexEntry | undefined {
    return this.#entries.get(rel);
  }

  /** Reads the spooled tar once; returns the bytes of the `keep` files. */
  async #index(tar: Readable, keep: Set<string>): Promise<Map<string, Buffer>> {
    const kept = new Map<string, Buffer>();
    for await (const entry of readTar(tar, { signal: this.#signal })) {
      const h = entry.header;
      const rel = cleanEntryPath(h.name);
      if (rel === '') {
        entry.body.resume();
        continue;
      }
      const mtimeMs = h.mtime * 1000;
      let e: IndexEntry;
      switch (h.type) {
        case 'directory':
          e = { type: 'dir', mode: h.mode, size: 0, linkname: '', mtimeMs };
          break;
        case 'file': {
          const hash = createHash('sha256');
          const chunks: Buffer[] | undefined = keep.has(rel) && h.size <= KEEP_LIMIT ? [] : undefined;
          for await (const c of entry.body) {
            hash.update(c as Buffer);
            chunks?.push(c as Buffer);
          }
          if (chunks) kept.set(rel, Buffer.concat(chunks));
          e = {
            type: 'file',
            mode: h.mode,
            size: h.size,
            linkname: '',
            mtimeMs,
            digest: hash.digest('hex'),
            offset: entry.offset,
          };
          break;
        }
        case 'symlink':
          if (!linkStaysInside(rel, h.linkname)) {
            throw invalidParameter(
              `invalid symlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}`,
            );
          }
          e = { type: 'symlink', mode: 0o777, size: h.linkname.length, linkname: h.linkname, mtimeMs };
          break;
        case 'hardlink': {
          let target: IndexEntry | undefined;
          try {
            target = this.#entries.get(cleanEntryPath(h.linkname));
          } catch {}
          if (!target || cleanEntryPath(h.linkname) === '') {
            throw invalidParameter(
              `invalid hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}`,
            );
          }
          e = { ...target };
          const data = kept.get(cleanEntryPath(h.linkname));
          if (keep.has(rel) && data) kept.set(rel, data);
          break;
        }
        case 'fifo':
          e = { type: 'fifo', mode: h.mode, size: 0, linkname: '', mtimeMs };
          break;
        default:
          e = { type: 'other', mode: h.mode, size: 0, linkname: '', mtimeMs };
      }
      if (h.type !== 'file') entry.body.resume();
      this.#put(rel, e);
    }
    return kept;
  }

  #put(rel: string, e: IndexEntry): void {
    const prev = this.#entries.get(rel);
    if (prev && !(prev.type === 'dir' && e.type === 'dir')) this.#drop(rel);
    // Parents the archive did not list exist as plain directories (a non-directory in the way
    // is replaced, as the extractor's parent creation would fail on it otherwise).
    const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    if (parent !== '') {
      const p = this.#entries.get(parent);
      // An entry below a symlink or a file lands elsewhere (the extractor follows links in
      // parents): the index no longer says what is unpacked where.
      if (p?.type !== 'dir') {
        if (p) this.exact = false;
        this.#put(parent, dirEntry());
      }
    }
    this.#entries.set(rel, e);
    const kids = this.#children.get(parent) ?? new Set<string>();
    this.#children.set(parent, kids);
    kids.add(posix.basename(rel));
  }

  /** Forgets `rel` and everything under it. */
  #drop(rel: string): void {
    for (const name of this.#children.get(rel) ?? []) this.#drop(`${rel}/${name}`);
    this.#children.delete(rel);
    this.#entries.delete(rel);
    const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    this.#children.get(parent)?.delete(posix.basename(rel));
  }

  #remove(rel: string): void {
    if (!this.#entries.has(rel)) return;
    this.#drop(rel);
    this.#removed.push(rel);
  }
}

/** A directory the archive did not list (the extractor creates it 0755, now). */
function dirEntry(): IndexEntry {
  return { type: 'dir', mode: 0o755, size: 0, linkname: '', mtimeMs: Date.now() };
}

/** The Dockerfile's path inside the context, cleaned (`./a/../Dockerfile` → `Dockerfile`). */
export function contextPath(name: string): string {
  return posix.normalize(`/${name || 'Dockerfile'}`).slice(1);
}

/** The body as a tar stream: gunzipped when it starts with gzip's magic bytes. */
export async function maybeGunzip(stream: Readable): Promise<Readable> {
  const pass = new PassThrough();
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      cleanup();
      // Piped in the same tick: a stream that read() drained to its end emits 'end' on the next
      // tick, before an awaiting caller could attach the pipe.
      if (chunk) pass.write(chunk);
      stream.pipe(pass);
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      pass.end();
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
  stream.on('error', (e) => pass.destroy(e));
  if (first && first[0] === 0x1f && first[1] === 0x8b) return pass.pipe(createGunzip());
  return pass;
}
