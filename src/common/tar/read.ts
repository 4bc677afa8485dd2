/**
 * Streaming tar reader. Usage:
 *
 *   for await (const entry of readTar(stream)) {
 *     if (entry.header.type === 'file') await pipeline(entry.body, createWriteStream(dest));
 *     // a body not read is skipped when the loop asks for the next entry
 *   }
 *
 * Nothing is buffered beyond one source chunk and the small meta entries (PAX, GNU long names:
 * at most 1 MiB each, like Go's archive/tar). Supports V7, ustar (prefix), GNU ('L'/'K' long
 * names, base-256 numbers) and PAX ('x' per entry, 'g' global) archives.
 *
 * The archive ends at two zero blocks, at one zero block followed by end of input, or at end of
 * input exactly on a header boundary (Go's archive/tar, which Docker uses, accepts all three).
 * End of input inside a header, body or padding is an error. Data after the end marker is read
 * and discarded so a piped producer (an HTTP upload) is never left blocked.
 */
import { Readable } from 'node:stream';
import {
  BLOCK_SIZE,
  decodeHeaderBlock,
  entryType,
  isZeroBlock,
  type RawHeader,
  type TarHeader,
  TarFormatError,
} from './header.ts';
import { parsePaxInt, parsePaxRecords, parsePaxTime } from './pax.ts';

/** Largest PAX or GNU long-name body we hold in memory. */
const MAX_META_SIZE = 1 << 20;

export interface TarEntry {
  header: TarHeader;
  /**
   * The entry's data (`header.size` bytes). Read it before asking for the next entry, or leave it:
   * asking for the next entry skips what is left and destroys this stream.
   */
  body: Readable;
  /** Where the body starts in the archive (bytes from the start of the input). */
  offset: number;
}

export interface ReadTarOptions {
  signal?: AbortSignal;
}

export class TarTruncatedError extends Error {
  constructor(where: string) {
    super(`unexpected end of tar archive ${where}`);
    this.name = 'TarTruncatedError';
  }
}

/** Pulls exact byte counts out of an async iterable of chunks. */
class ByteSource {
  #it: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #done = false;
  /** Bytes consumed so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#it =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (async function* () {
            yield* source;
          })();
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    for (;;) {
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      const c = r.value;
      if (c.length === 0) continue;
      this.#chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.length));
      this.#buffered += c.length;
      return true;
    }
  }

  /** Exactly n bytes; null on clean end of input before the first byte; throws when cut short. */
  async readExact(n: number, where: string): Promise<Buffer | null> {
    while (this.#buffered < n) {
      if (!(await this.#pull())) {
        if (this.#buffered === 0) return null;
        throw new TarTruncatedError(where);
      }
    }
    let out: Buffer;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      this.#consume(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.#chunks[0]!;
        const take = Math.min(c.length, n - off);
        c.copy(out, off, 0, take);
        off += take;
        this.#consume(take);
      }
    }
    return out;
  }

  /** Up to `max` bytes (at least one), without copying; null at end of input. */
  async readSome(max: number): Promise<Buffer | null> {
    if (this.#buffered === 0 && !(await this.#pull())) return null;
    const first = this.#chunks[0]!;
    const take = Math.min(first.length, max);
    const out = first.subarray(0, take);
    this.#consume(take);
    return out;
  }

  async skip(n: number, where: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const c = await this.readSome(left);
      if (!c) throw new TarTruncatedError(where);
      left -= c.length;
    }
  }

  /** Reads and drops everything that is left. */
  async drain(): Promise<void> {
    this.position += this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
    while (await this.#pull()) {
      this.position += this.#buffered;
      this.#chunks = [];
      this.#buffered = 0;
    }
  }

  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#it.return?.();
    }
  }

  #consume(n: number): void {
    this.position += n;
    const first = this.#chunks[0]!;
    if (n === first.length) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
  }
}

const padding = (size: number) => (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;

/** An entry body: pulls from the shared source, one read at a time (Readable never overlaps _read). */
class EntryBody extends Readable {
  readonly size: number;
  #src: ByteSource;
  #left: number;
  #name: string;
  inflight: Promise<void> | undefined;
  failure: unknown;

  constructor(src: ByteSource, size: number, name: string) {
    super({ highWaterMark: 64 * 1024 });
    this.size = size;
    this.#src = src;
    this.#left = size;
    this.#name = name;
  }

  get left(): number {
    return this.#left;
  }

  override _read(): void {
    if (this.#left === 0) {
      this.push(null);
      return;
    }
    this.inflight = this.#src.readSome(Math.min(this.#left, 1 << 20)).then(
      (chunk) => {
        this.inflight = undefined;
        if (!chunk) {
          this.failure = new TarTruncatedError(`in the body of ${this.#name}`);
          this.destroy(this.failure as Error);
          return;
        }
        this.#left -= chunk.length;
        this.push(chunk);
        if (this.#left === 0) this.push(null);
      },
      (err: unknown) => {
        this.inflight = undefined;
        this.failure = err;
        this.destroy(err as Error);
      },
    );
  }
}

async function readMeta(src: ByteSource, raw: RawHeader): Promise<Buffer> {
  if (raw.size > MAX_META_SIZE)
    throw new TarFormatError(`${raw.typeflag} header of ${raw.size} bytes is too large`);
  const data = (await src.readExact(raw.size, `in a '${raw.typeflag}' header`)) ?? Buffer.alloc(0);
  await src.skip(padding(raw.size), `in a '${raw.typeflag}' header`);
  return Buffer.from(data);
}

/** Applies PAX records over a raw header (POSIX precedence: the record wins over the field). */
function applyPax(h: TarHeader, records: Map<string, Buffer>): void {
  for (const [key, value] of records) {
    // An empty value deletes the record (global or field default applies); for the keys we map
    // onto header fields, it means "use the header block's value".
    if (value.length === 0) continue;
    h.pax.set(key, value);
    const text = () => value.toString('utf8');
    switch (key) {
      case 'path':
        h.name = text();
        break;
      case 'linkpath':
        h.linkname = text();
        break;
      case 'size':
        h.size = parsePaxInt(text(), key);
        break;
      case 'uid':
        h.uid = parsePaxInt(text(), key);
        break;
      case 'gid':
        h.gid = parsePaxInt(text(), key);
        break;
      case 'uname':
        h.uname = text();
        break;
      case 'gname':
        h.gname = text();
        break;
      case 'mtime':
        h.mtime = parsePaxTime(text());
        break;
      case 'atime':
        h.atime = parsePaxTime(text());
        break;
      case 'ctime':
        h.ctime = parsePaxTime(text());
        break;
      default:
        if (key.startsWith('SCHILY.xattr.')) {
          h.xattrs.set(key.slice('SCHILY.xattr.'.length), value);
        } else if (key.startsWith('LIBARCHIVE.xattr.')) {
          // libarchive: URL-encoded name, base64 value. SCHILY records take precedence.
          const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
          if (!records.has(`SCHILY.xattr.${name}`)) h.xattrs.set(name, Buffer.from(text(), 'base64'));
        }
    }
  }
}

/**
 * Reads the tar archive in `source` entry by entry. The generator must be driven to its end (or
 * returned early with `break`, which closes the source). Errors: TarFormatError for a malformed
 * header, TarTruncatedError when the input ends early, AbortError when `signal` aborts.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const { signal } = options;
  const src = new ByteSource(source);
  const global = new Map<string, Buffer>();
  let local: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let current: EntryBody | undefined;
  let ended = false;
  try {
    for (;;) {
      signal?.throwIfAborted();
      if (current) {
        const body = current;
        current = undefined;
        await body.inflight;
        if (body.failure) throw body.failure;
        const left = body.left;
        if (!body.readableEnded) body.destroy();
        await src.skip(left + padding(body.size), 'in an entry body');
      }
      const block = await src.readExact(BLOCK_SIZE, 'in a header');
      if (!block) break; // end of input on a header boundary
      if (isZeroBlock(block)) {
        const second = await src.readExact(BLOCK_SIZE, 'in the end-of-archive marker');
        if (second && !isZeroBlock(second)) throw new TarFormatError('a lone zero block inside the archive');
        ended = true;
        break;
      }
      const raw = decodeHeaderBlock(block);
      switch (raw.typeflag) {
        case 'x':
        case 'X': // Solaris' pre-POSIX spelling of 'x'
          local = parsePaxRecords(await readMeta(src, raw));
          continue;
        case 'g':
          for (const [k, v] of parsePaxRecords(await readMeta(src, raw))) {
            if (v.length === 0) global.delete(k);
            else global.set(k, v);
          }
          continue;
        case 'L':
          longName = nulTerminated(await readMeta(src, raw));
          continue;
        case 'K':
          longLink = nulTerminated(await readMeta(src, raw));
          continue;
      }
      let type = entryType(raw.typeflag);
      // V7 archives mark directories only by a trailing slash on a '\0' regular file.
      if (raw.typeflag === '\0' && raw.name.endsWith('/')) type = 'directory';
      const header: TarHeader = {
        name: raw.name,
        type,
        typeflag: raw.typeflag,
        mode: raw.mode & 0o7777,
        uid: raw.uid,
        gid: raw.gid,
        size: raw.size,
        mtime: raw.mtime,
        linkname: raw.linkname,
        uname: raw.uname,
        gname: raw.gname,
        devmajor: raw.devmajor,
        devminor: raw.devminor,
        xattrs: new Map(),
        pax: new Map(),
      };
      applyPax(header, global);
      if (local) applyPax(header, local);
      // GNU long names win over PAX, as in Go's archive/tar.
      if (longName !== undefined) header.name = longName;
      if (longLink !== undefined) header.linkname = longLink;
      local = undefined;
      longName = undefined;
      longLink = undefined;
      // Links, directories, devices and fifos are header-only whatever their size field says,
      // as in Go's archive/tar (isHeaderOnlyType), which Docker uses.
      if (type !== 'file' && type !== 'unknown') header.size = 0;
      current = new EntryBody(src, header.size, header.name);
      yield { header, body: current, offset: src.position };
    }
    if (ended) await src.drain();
  } finally {
    current?.destroy();
    await src.close();
  }
}

function nulTerminated(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end === -1 ? b.length : end);
}

/** Reads a whole entry body into memory (for small entries: tests, config files). */
export async function readEntryBody(entry: TarEntry, limit = 16 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of entry.body) {
    n += c.length;
    if (n > limit) throw new Error(`tar entry ${entry.header.name} is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
