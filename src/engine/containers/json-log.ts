/**
 * Reads Docker json-file logs as the shim writes them: one JSON object per line,
 * `{"log":"hi\n","stream":"stdout","time":"2026-11-23T03:11:47.123456789Z"}`. Supports tail,
 * since/until and follow (new lines are picked up as the shim appends them, until `isDone`).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../../common/index.ts';
import type { LogEntry, LogsOptions } from '../engine.ts';

interface RawEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

/** Parses one json-file line; undefined for a torn or foreign line. */
export function parseLogLine(line: string): LogEntry | undefined {
  try {
    const raw = JSON.parse(line) as RawEntry;
    if (typeof raw.log !== 'string') return undefined;
    return {
      stream: raw.stream === 'stderr' ? 'stderr' : 'stdout',
      line: Buffer.from(raw.log),
      time: raw.time,
    };
  } catch {
    return undefined;
  }
}

/** Seconds since the epoch of an RFC 3339 time with up to nanosecond precision. */
export function logTimeSeconds(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return Date.parse(time) / 1000;
  return Date.parse(`${m[1]}${m[3]}`) / 1000 + Number(m[2] ?? 0);
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

  let position = 0;
  let size = 0;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }

  // The existing part: with a tail, only the last N wanted lines.
  if (options.tail !== 0 && size > 0) {
    const lines = readLines(path, 0, size);
    if (options.tail === 'all') {
      for await (const l of lines) {
        const e = parseLogLine(l);
        if (e && wanted(e)) yield e;
      }
    } else {
      const ring: LogEntry[] = [];
      for await (const l of lines) {
        const e = parseLogLine(l);
        if (!e || !wanted(e)) continue;
        ring.push(e);
        if (ring.length > options.tail) ring.shift();
      }
      yield* ring;
    }
  }
  position = size;
  if (!options.follow) return;

  // Follow: poll for growth. The shim appends whole lines; a partial line waits for the next round.
  let pending = '';
  let idleRounds = 0;
  while (!follow.signal.aborted) {
    let newSize = position;
    try {
      newSize = (await stat(path)).size;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    if (newSize > position) {
      idleRounds = 0;
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(newSize - position);
        const { bytesRead } = await fh.read(buf, 0, buf.length, position);
        position += bytesRead;
        const text = pending + buf.subarray(0, bytesRead).toString('utf8');
        const parts = text.split('\n');
        pending = parts.pop() ?? '';
        for (const l of parts) {
          const e = parseLogLine(l);
          if (!e || !wanted(e)) continue;
          if (options.until && logTimeSeconds(e.time) > options.until) return;
          yield e;
        }
      } finally {
        await fh.close();
      }
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
}

async function* readLines(path: string, start: number, end: number): AsyncIterable<string> {
  let rest = '';
  for await (const chunk of createReadStream(path, { start, end: end - 1, encoding: 'utf8' })) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
  if (rest) yield rest;
}
