/**
 * Streaming tar writer producing what Go's archive/tar (and so Docker's pkg/archive) produces:
 * a plain ustar header when every field fits (long ASCII names split into prefix/name), and a
 * PAX 'x' header before it otherwise (non-ASCII or over-long names, big ids or sizes, sub-second
 * times, xattrs as binary-safe `SCHILY.xattr.*`). The archive ends with two zero blocks.
 *
 *   await pipeline(packTar(entries()), createWriteStream('layer.tar'));
 *
 * where entries() yields `{ header, body }`; a body must deliver exactly `header.size` bytes.
 */
import { Readable } from 'node:stream';
import {
  BLOCK_SIZE,
  type BlockFields,
  encodeHeaderBlock,
  FIELD,
  octalFits,
  type TarHeaderInput,
  TYPEFLAG,
} from './header.ts';
import { formatPaxRecords, formatPaxTime } from './pax.ts';

export interface TarWriteEntry {
  header: TarHeaderInput;
  /** The file's data; required when header.size > 0. */
  body?: Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);
const toAscii = (s: string) => s.replace(/[^\x00-\x7f]/g, '');

/** Go's splitUSTARPath: a name over 100 bytes split at a '/' into prefix (≤155) and name (≤100). */
export function splitUstarPath(name: string): [prefix: string, name: string] | undefined {
  let length = name.length;
  if (length <= 100 || !isAscii(name)) return undefined;
  if (length > 156) length = 156;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > 100 || nlen === 0 || i > 155) return undefined;
  return [name.slice(0, i), name.slice(i + 1)];
}

function defaultMode(type: TarHeaderInput['type']): number {
  return type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644;
}

function entries<T>(x: Map<string, T> | Record<string, T> | undefined): [string, T][] {
  if (!x) return [];
  return x instanceof Map ? [...x] : Object.entries(x);
}

/**
 * The header blocks for one entry: `[pax header, pax data + padding]` when needed, then the ustar
 * block. `size` is taken from the header (0 for everything but files and unknown types).
 */
export function encodeHeader(h: TarHeaderInput): Buffer {
  const typeflag = h.typeflag ?? (h.type === 'unknown' ? undefined : TYPEFLAG[h.type]);
  if (typeflag === undefined || typeflag.length !== 1) throw new Error(`tar entry ${h.name}: no typeflag`);
  const size = h.type === 'file' || h.type === 'unknown' ? (h.size ?? 0) : 0;
  const mtime = h.mtime ?? 0;
  const fields: BlockFields = {
    name: h.name,
    typeflag,
    mode: h.mode ?? defaultMode(h.type),
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    size,
    mtime: Math.floor(mtime),
    linkname: h.linkname ?? '',
    uname: h.uname ?? '',
    gname: h.gname ?? '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
  // Records that force PAX, and the path record (which ustar can still express by splitting).
  const pax = new Map<string, Uint8Array | string>();
  const text = (key: string, value: string, f: keyof typeof FIELD) => {
    if (!isAscii(value) || Buffer.byteLength(value) > FIELD[f][1]) pax.set(key, value);
  };
  const num = (key: string, value: number, f: keyof typeof FIELD) => {
    if (!octalFits(value, FIELD[f][1])) {
      if (!Number.isSafeInteger(value) || value < 0)
        throw new Error(`tar entry ${h.name}: invalid ${key} ${value}`);
      pax.set(key, String(value));
    }
  };
  text('linkpath', fields.linkname, 'linkname');
  text('uname', fields.uname, 'uname');
  text('gname', fields.gname, 'gname');
  num('uid', fields.uid, 'uid');
  num('gid', fields.gid, 'gid');
  num('size', size, 'size');
  if (!octalFits(fields.mode, FIELD.mode[1]))
    throw new Error(`tar entry ${h.name}: invalid mode ${fields.mode}`);
  if (mtime !== fields.mtime || mtime < 0 || !octalFits(fields.mtime, FIELD.mtime[1])) {
    pax.set('mtime', formatPaxTime(mtime));
  }
  if (h.atime !== undefined) pax.set('atime', formatPaxTime(h.atime));
  if (h.ctime !== undefined) pax.set('ctime', formatPaxTime(h.ctime));
  for (const [k, v] of entries(h.xattrs)) pax.set(`SCHILY.xattr.${k}`, v);
  for (const [k, v] of entries(h.pax)) pax.set(k, v);

  const nameFits = isAscii(h.name) && Buffer.byteLength(h.name) <= FIELD.name[1];
  if (pax.size === 0) {
    if (nameFits) return encodeHeaderBlock(fields);
    const split = splitUstarPath(h.name);
    if (split) return encodeHeaderBlock({ ...fields, prefix: split[0], name: split[1] });
  }
  if (!nameFits) pax.set('path', h.name);
  const data = formatPaxRecords(pax);
  const slash = h.name.replace(/\/+$/, '').lastIndexOf('/');
  const base = h.name.replace(/\/+$/, '').slice(slash + 1);
  const paxName = toAscii(`${slash >= 0 ? h.name.slice(0, slash + 1) : ''}PaxHeaders.0/${base}`)
    .slice(0, 100)
    .replace(/\/+$/, '');
  const paxBlock = encodeHeaderBlock({
    name: paxName,
    typeflag: 'x',
    mode: 0,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
  });
  const truncate = (s: string, n: number) => Buffer.from(toAscii(s)).subarray(0, n).toString('latin1');
  const main = encodeHeaderBlock({
    ...fields,
    name: truncate(fields.name, 100),
    linkname: truncate(fields.linkname, 100),
    uname: truncate(fields.uname, 32),
    gname: truncate(fields.gname, 32),
  });
  return Buffer.concat([paxBlock, data, Buffer.alloc(paddingFor(data.length)), main]);
}

export const paddingFor = (size: number) => (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK_SIZE);

async function* bodyChunks(body: TarWriteEntry['body']): AsyncGenerator<Buffer> {
  if (body === undefined) return;
  if (typeof body === 'string') {
    yield Buffer.from(body);
    return;
  }
  if (body instanceof Uint8Array) {
    yield Buffer.from(body.buffer, body.byteOffset, body.length);
    return;
  }
  for await (const c of body as AsyncIterable<Uint8Array>) {
    yield Buffer.isBuffer(c)
      ? c
      : typeof c === 'string'
        ? Buffer.from(c)
        : Buffer.from(c.buffer, c.byteOffset, c.length);
  }
}

/** The archive bytes for `list`, as an async generator of chunks (packTar wraps it in a Readable). */
export async function* tarChunks(
  list: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<Buffer> {
  for await (const entry of list) {
    options.signal?.throwIfAborted();
    const h = entry.header;
    let size = h.size;
    if (size === undefined && (h.type === 'file' || h.type === 'unknown')) {
      const b = entry.body;
      if (typeof b === 'string') size = Buffer.byteLength(b);
      else if (b instanceof Uint8Array) size = b.length;
      else if (b !== undefined) throw new Error(`tar entry ${h.name}: a streamed body needs header.size`);
    }
    const dataSize = h.type === 'file' || h.type === 'unknown' ? (size ?? 0) : 0;
    yield encodeHeader({ ...h, size: dataSize });
    let written = 0;
    for await (const chunk of bodyChunks(dataSize > 0 ? entry.body : undefined)) {
      written += chunk.length;
      if (written > dataSize)
        throw new Error(`tar entry ${h.name}: body is longer than its size ${dataSize}`);
      yield chunk;
    }
    if (written !== dataSize) {
      throw new Error(`tar entry ${h.name}: body has ${written} bytes, header says ${dataSize}`);
    }
    const pad = paddingFor(dataSize);
    if (pad) yield Buffer.alloc(pad);
  }
  yield END_OF_ARCHIVE;
}

/** A Readable tar archive of `list`. Errors (a body of the wrong size, an abort) destroy the stream. */
export function packTar(
  list: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>,
  options: { signal?: AbortSignal } = {},
): Readable {
  return Readable.from(tarChunks(list, options), { objectMode: false });
}
