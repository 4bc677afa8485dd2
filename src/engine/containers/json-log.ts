/**
 * Reads Docker json-file logs as the shim writes them: one JSON object per line,
 * `{"log":"hi\n","stream":"stdout","time":"2026-11-23T03:11:47.123456789Z"}`. Supports tail,
 * since/until and follow (new lines are picked up as the shim appends them, until `isDone`).
 */
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../../common/index.ts';
import type { LogEntry, LogsOptions } from '../engine.ts';

interface RawEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  attrs?: Record<string, string>;
  time: string;
}

/** Parses one json-file line; undefined for a torn or foreign line. */
export function parseLogLine(line: string): LogEntry | undefined {
  try {
    const raw = JSON.parse(line) as RawEntry;
    if (typeof raw.log !== 'string') return undefined;
    const entry: LogEntry = {
      stream: raw.stream === 'stderr' ? 'stderr' : 'stdout',
      line: Buffer.from(raw.log),
      time: raw.time,
    };
    if (raw.attrs && typeof raw.attrs === 'object') entry.attrs = raw.attrs;
    return entry;
  } catch {
    return undefined;
  }
}

/**
 * What `logs --details` prints before a line (moby daemon/logs.go attrsByteSlice): the
 * attributes sorted by key as `k=v` pairs joined by commas, keys and values query-escaped as
 * Go's url.QueryEscape does, then a space. A line without attributes still gets the space.
 */
export function logDetailsPrefix(attrs: Record<string, string> | undefined): string {
  const pairs = Object.entries(attrs ?? {}).sort(([a], [b]) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  return `${pairs.map(([k, v]) => `${goQueryEscape(k)}=${goQueryEscape(String(v))}`).join(',')} `;
}

/**
 * A log time as `logs --timestamps` prints it (moby's rfc3339NanoFixed): always nine digits of
 * fraction, where the file has Go's RFC3339Nano with trailing zeros dropped.
 */
export function rfc3339NanoFixed(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3]}`;
}

/** Go's url.QueryEscape: unreserved bytes kept, space as '+', every other byte %XX. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e
    )
      out += String.fromCharCode(b);
    else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Seconds since the epoch of an RFC 3339 time with up to nanosecond precision. */
export function logTimeSeconds(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return Date.parse(time) / 1000;
  return Date.parse(`${m[1]}${m[3]}`) / 1000 + Number(m[2] ?? 0);
}

/**
 * The rotated files of a log, oldest first: `<path>.N[.gz]` … `<path>.1[.gz]` (the shim's
 * rotation, Docker's naming).
 */
export async function rotatedLogFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const found: Array<{ n: number; name: string }> = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (m) found.push({ n: Number(m[1]), name });
  }
  return found.sort((a, b) => b.n - a.n).map((f) => join(dir, f.name));
}

export async function* readJsonLog(
  path: string,
  options: LogsOptions,
  follow: { isDone: () => boolean; signal: AbortSignal },
): AsyncIterable<LogEntry> {
  const wanted = (e: LogEntry) => {
    if (e.stream === 'stdout' ? !options.stdout : !options.stderr) return false;
    if (options.since || options.until) {
      const t = logTimeSeconds(e.time);
      if (options.since && t < options.since) return false;
      if (options.until && t > options.until) return false;
    }
    return true;
  };

  // Entries already passed on, by time: after a rotation the rotated files are read again and
  // only what comes after the last entry seen is new (names shift and rotated files are
  // recompressed, so files cannot be matched by name or inode).
  let lastNs = -1n;
  let sameNs = 0;
  let skipSame = 0;
  const isNew = (e: LogEntry): boolean => {
    const ns = timeNs(e.time);
    if (ns < lastNs) return false;
    if (ns === lastNs) {
      if (skipSame > 0) {
        skipSame--;
        return false;
      }
      sameNs++;
      return true;
    }
    lastNs = ns;
    sameNs = 1;
    skipSame = 0;
    return true;
  };

  // Open every file first: the shim may rotate meanwhile, and an open file stays readable
  // after it is renamed, compressed or removed.
  let older: FileHandle[] = [];
  let current: FileHandle | undefined;
  const openAll = async () => {
    for (const fh of older) await fh.close().catch(() => {});
    older = [];
    for (const f of await rotatedLogFiles(path)) {
      const fh = await openIfExists(f);
      if (fh && f.endsWith('.gz')) gzipped.add(fh);
      if (fh) older.push(fh);
    }
    current = await openIfExists(path);
  };
  try {
    await openAll();
    let position = current ? (await current.stat()).size : 0;

    // The existing part: with a tail, only the last N wanted lines.
    const existing = async function* () {
      for (const fh of older) yield* readLines(fh, 0, Number.POSITIVE_INFINITY);
      if (current && position > 0) yield* readLines(current, 0, position);
    };
    const ring: LogEntry[] = [];
    for await (const l of existing()) {
      const e = parseLogLine(l);
      if (!e) continue;
      isNew(e);
      if (options.tail === 0 || !wanted(e)) continue;
      if (options.tail === 'all') {
        yield e;
      } else {
        ring.push(e);
        if (ring.length > options.tail) ring.shift();
      }
    }
    yield* ring;
    if (!options.follow) return;

    // Follow: poll for growth. The shim appends whole lines; a partial line waits for the next
    // round. When the shim rotates, the rest of the old file is read, then what is newer in the
    // rotated files, then the new file.
    let pending = '';
    let idleRounds = 0;
    while (!follow.signal.aborted) {
      if (!current) {
        current = await openIfExists(path);
        position = 0;
        if (!current && follow.isDone()) return;
      }
      let grew = false;
      if (current) {
        const size = (await current.stat()).size;
        if (size > position) {
          grew = true;
          const buf = Buffer.alloc(size - position);
          const { bytesRead } = await current.read(buf, 0, buf.length, position);
          position += bytesRead;
          const text = pending + buf.subarray(0, bytesRead).toString('utf8');
          const parts = text.split('\n');
          pending = parts.pop() ?? '';
          for (const l of parts) {
            const e = parseLogLine(l);
            if (!e || !isNew(e) || !wanted(e)) continue;
            if (options.until && logTimeSeconds(e.time) > options.until) return;
            yield e;
          }
        } else if (await rotatedAway(path, current)) {
          // Lines written to the old file just before the rename are read first.
          if ((await current.stat()).size > position) continue;
          await current.close();
          current = undefined;
          pending = '';
          await openAll();
          position = 0;
          // What was passed on is read again first: those entries are skipped.
          skipSame = sameNs;
          for await (const l of existing()) {
            const e = parseLogLine(l);
            if (!e || !isNew(e) || !wanted(e)) continue;
            if (options.until && logTimeSeconds(e.time) > options.until) return;
            yield e;
          }
          continue;
        }
      }
      if (grew) {
        idleRounds = 0;
        continue;
      }
      if (follow.isDone()) {
        // One more look after the container is done, so lines flushed at exit are not missed.
        if (idleRounds++ > 0) return;
      }
      if (options.until && Date.now() / 1000 > options.until) return;
      try {
        await sleep(idleRounds > 20 ? 100 : 20, undefined, { signal: follow.signal });
      } catch {
        return;
      }
    }
  } finally {
    for (const fh of older) await fh.close().catch(() => {});
    await current?.close().catch(() => {});
  }
}

/** An RFC 3339 time in nanoseconds since the epoch (exact, for ordering entries). */
export function timeNs(time: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return BigInt(Math.floor(Date.parse(time) || 0)) * 1_000_000n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
}

const gzipped = new WeakSet<FileHandle>();

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether `path` now names another file than the open one (the shim rotated it). */
async function rotatedAway(path: string, fh: FileHandle): Promise<boolean> {
  const [a, b] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
  return !!b && (a.ino !== b.ino || a.dev !== b.dev);
}

async function* readLines(fh: FileHandle, start: number, end: number): AsyncIterable<string> {
  let rest = '';
  const raw = fh.createReadStream({
    start,
    ...(Number.isFinite(end) ? { end: end - 1 } : {}),
    autoClose: false,
  });
  const input = gzipped.has(fh) ? raw.pipe(createGunzip()) : raw;
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
  if (rest) yield rest;
}
