/**
 * PAX extended header records (POSIX.1-2017 pax(1) "pax Extended Header"): `"%d %s=%s\n"` where
 * the decimal length counts the whole record. Values stay raw bytes: `SCHILY.xattr.*` values are
 * binary (security.capability), so nothing here decodes as UTF-8 except the key.
 */
import { TarFormatError } from './header.ts';

/** Parses the body of an 'x'/'g' header into key → raw value (later records win). */
export function parsePaxRecords(data: Uint8Array): Map<string, Buffer> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const records = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    // Trailing NUL padding is tolerated (some writers pad the body).
    if (buf[off] === 0) break;
    const space = buf.indexOf(0x20, off);
    if (space === -1 || space - off > 20) throw new TarFormatError('malformed pax record length');
    const lenText = buf.toString('latin1', off, space);
    if (!/^[0-9]+$/.test(lenText))
      throw new TarFormatError(`malformed pax record length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    const end = off + len;
    if (len <= space - off + 1 || end > buf.length || buf[end - 1] !== 0x0a) {
      throw new TarFormatError('malformed pax record');
    }
    const eq = buf.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1) throw new TarFormatError('pax record without "="');
    const key = buf.toString('utf8', space + 1, eq);
    if (key === '') throw new TarFormatError('pax record with an empty key');
    records.set(key, Buffer.from(buf.subarray(eq + 1, end - 1)));
    off = end;
  }
  return records;
}

/** One record with its self-inclusive length prefix. */
export function formatPaxRecord(key: string, value: Uint8Array | string): Buffer {
  const k = Buffer.from(key, 'utf8');
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const rest = 1 + k.length + 1 + v.length + 1; // ' ' key '=' value '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} `), k, Buffer.from('='), v, Buffer.from('\n')]);
}

/** The body of an 'x' header for `records`, keys sorted for reproducible output (as Go does). */
export function formatPaxRecords(records: Map<string, Uint8Array | string>): Buffer {
  const keys = [...records.keys()].sort();
  return Buffer.concat(keys.map((k) => formatPaxRecord(k, records.get(k)!)));
}

/** A PAX decimal time (`1700000000.123456789`, possibly negative) as seconds. */
export function parsePaxTime(value: string): number {
  if (!/^-?[0-9]+(\.[0-9]*)?$/.test(value))
    throw new TarFormatError(`invalid pax time ${JSON.stringify(value)}`);
  return Number(value);
}

/** A PAX decimal integer (size, uid, gid). */
export function parsePaxInt(value: string, key: string): number {
  if (!/^[0-9]+$/.test(value)) throw new TarFormatError(`invalid pax ${key} ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`pax ${key} overflows`);
  return n;
}

/** Seconds as PAX writes them: integer, or with up to 9 fractional digits and no trailing zeros. */
export function formatPaxTime(seconds: number): string {
  if (Number.isInteger(seconds)) return String(seconds);
  if (seconds < 0) return `-${formatPaxTime(-seconds)}`;
  const whole = Math.floor(seconds);
  const nanos = Math.round((seconds - whole) * 1e9);
  if (nanos === 0) return String(whole);
  if (nanos === 1e9) return String(whole + 1);
  return `${whole}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}`;
}
