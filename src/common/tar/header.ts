/**
 * Tar header blocks: the 512-byte ustar/GNU/V7 header layout, its numeric fields (octal, or
 * GNU base-256 when the high bit of the first byte is set) and its checksum. Pure functions over
 * Buffers; readTar/packTar build on them. Field layout: POSIX.1-2017 pax(1) "ustar Interchange
 * Format", GNU tar manual "Basic Tar Format".
 */
export const BLOCK_SIZE = 512;

export type TarEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char'
  | 'block'
  | 'directory'
  | 'fifo'
  /** A typeflag we do not interpret (GNU sparse 'S', volume label 'V', …); its body is data. */
  | 'unknown';

/**
 * One archive member's metadata after PAX/GNU extensions are applied. `name` and `linkname` are
 * exactly as archived (no cleaning: callers that touch the filesystem clean them themselves).
 */
export interface TarHeader {
  name: string;
  type: TarEntryType;
  /** The raw typeflag character ('0', '5', 'S', …). */
  typeflag: string;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Body size in bytes (0 for everything but files and unknown types). */
  size: number;
  /** Seconds since the epoch; fractional when a PAX record carried sub-second precision. */
  mtime: number;
  atime?: number;
  ctime?: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.<name>` (or `LIBARCHIVE.xattr.*`), binary-safe. */
  xattrs: Map<string, Buffer>;
  /** Every PAX record (global and per-entry) that applied to this entry, raw. */
  pax: Map<string, Buffer>;
}

/** What packTar needs to write a header: name and type, everything else defaults to 0/empty. */
export type TarHeaderInput = Pick<TarHeader, 'name' | 'type'> &
  Partial<Omit<TarHeader, 'name' | 'type' | 'typeflag' | 'pax' | 'xattrs'>> & {
    typeflag?: string;
    xattrs?: Map<string, Uint8Array> | Record<string, Uint8Array>;
    /** Extra PAX records to write verbatim (keys other than the ones derived from fields). */
    pax?: Map<string, Uint8Array | string> | Record<string, Uint8Array | string>;
  };

export const TYPEFLAG: Record<Exclude<TarEntryType, 'unknown'>, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

/** The entry type for a typeflag. '\0' and '7' (contiguous) are regular files. */
export function entryType(typeflag: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'unknown';
  }
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(`invalid tar header: ${message}`);
    this.name = 'TarFormatError';
  }
}

/** Header field offsets and lengths. */
export const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

type FieldName = keyof typeof FIELD;

function field(block: Uint8Array, f: FieldName): Uint8Array {
  const [off, len] = FIELD[f];
  return block.subarray(off, off + len);
}

/** A NUL-terminated (or full-width) string field, decoded as UTF-8. */
export function parseString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, end === -1 ? b.length : end).toString('utf8');
}

/**
 * A numeric field: base-256 (GNU; first byte has the high bit set, 0xff means negative) or octal
 * ASCII padded with spaces/NULs, as Go's archive/tar parseNumeric accepts.
 */
export function parseNumeric(b: Uint8Array, what = 'numeric field'): number {
  if (b.length > 0 && (b[0]! & 0x80) !== 0) {
    const negative = b[0] === 0xff;
    let v = 0;
    for (let i = 0; i < b.length; i++) {
      let byte = negative ? b[i]! ^ 0xff : b[i]!;
      if (i === 0) byte &= 0x7f;
      v = v * 256 + byte;
    }
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${what} overflows`);
    return negative ? -v - 1 : v;
  }
  let start = 0;
  let end = b.length;
  while (start < end && (b[start] === 0x20 || b[start] === 0)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  if (start === end) return 0;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 7) throw new TarFormatError(`${what} is not octal: ${JSON.stringify(parseString(b))}`);
    v = v * 8 + d;
  }
  return v;
}

/** Both checksums tar implementations have used: bytes summed unsigned and signed. */
function checksums(block: Uint8Array): [unsigned: number, signed: number] {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return [unsigned, signed];
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

/** The raw fields of one header block (before PAX/GNU extensions), checksum verified. */
export interface RawHeader {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  format: 'v7' | 'ustar' | 'gnu';
}

export function decodeHeaderBlock(block: Uint8Array): RawHeader {
  if (block.length !== BLOCK_SIZE) throw new TarFormatError('short block');
  const stored = parseNumeric(field(block, 'chksum'), 'checksum');
  const [unsigned, signed] = checksums(block);
  if (stored !== unsigned && stored !== signed) throw new TarFormatError('checksum mismatch');
  const magic = Buffer.from(field(block, 'magic')).toString('latin1');
  const version = Buffer.from(field(block, 'version')).toString('latin1');
  const format = magic === 'ustar\0' ? 'ustar' : magic === 'ustar ' && version === ' \0' ? 'gnu' : 'v7';
  let name = parseString(field(block, 'name'));
  if (format === 'ustar') {
    const prefix = parseString(field(block, 'prefix'));
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeflag = String.fromCharCode(block[156]!);
  return {
    name,
    typeflag,
    mode: parseNumeric(field(block, 'mode'), 'mode'),
    uid: parseNumeric(field(block, 'uid'), 'uid'),
    gid: parseNumeric(field(block, 'gid'), 'gid'),
    size: parseNumeric(field(block, 'size'), 'size'),
    mtime: parseNumeric(field(block, 'mtime'), 'mtime'),
    linkname: parseString(field(block, 'linkname')),
    uname: format === 'v7' ? '' : parseString(field(block, 'uname')),
    gname: format === 'v7' ? '' : parseString(field(block, 'gname')),
    devmajor: format === 'v7' ? 0 : parseNumeric(field(block, 'devmajor'), 'devmajor'),
    devminor: format === 'v7' ? 0 : parseNumeric(field(block, 'devminor'), 'devminor'),
    format,
  };
}

/** Writes `s` into the field, NUL-terminated when it is shorter than the field (Go's formatString). */
function writeString(block: Buffer, f: FieldName, s: string | Uint8Array): void {
  const [off, len] = FIELD[f];
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  block.set(bytes.subarray(0, len), off);
}

/** Largest value an octal field of `len` bytes holds with its NUL terminator. */
export function octalFits(value: number, len: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 8 ** (len - 1);
}

/** Octal with leading zeros and a NUL terminator (Go's formatOctal); 0 when it does not fit. */
function writeOctal(block: Buffer, f: FieldName, value: number): void {
  const [, len] = FIELD[f];
  writeString(block, f, (octalFits(value, len) ? value : 0).toString(8).padStart(len - 1, '0'));
}

/** The fields of a header block to encode; strings must already fit (callers use PAX otherwise). */
export interface BlockFields {
  name: string;
  prefix?: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** One ustar header block ("ustar\0" "00"), checksum filled in. Values that do not fit become 0. */
export function encodeHeaderBlock(h: BlockFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, 'name', h.name);
  writeOctal(block, 'mode', h.mode);
  writeOctal(block, 'uid', h.uid);
  writeOctal(block, 'gid', h.gid);
  writeOctal(block, 'size', h.size);
  writeOctal(block, 'mtime', h.mtime);
  block.write(h.typeflag, 156, 1, 'latin1');
  writeString(block, 'linkname', h.linkname);
  writeString(block, 'magic', 'ustar\0');
  writeString(block, 'version', '00');
  writeString(block, 'uname', h.uname);
  writeString(block, 'gname', h.gname);
  writeOctal(block, 'devmajor', h.devmajor);
  writeOctal(block, 'devminor', h.devminor);
  if (h.prefix) writeString(block, 'prefix', h.prefix);
  // Go's layout: six octal digits, NUL, space.
  const [sum] = checksums(block);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}
