/**
 * Stream shapes the Engine API uses: newline-delimited JSON (events, pull/import progress) and
 * output streams that are either stdcopy-framed (no TTY) or raw (TTY).
 */
import type { Readable } from 'node:stream';
import { StdcopyDecoder, type StdStream } from '../common/stdcopy.ts';

export interface OutputFrame {
  /** 1 stdout, 2 stderr (3 is a system error message from the daemon). */
  stream: StdStream;
  payload: Buffer;
}

/** Parses a stream of JSON values separated by newlines (blank lines are skipped). */
export async function* jsonLines<T>(source: Readable): AsyncGenerator<T> {
  let pending = '';
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
      nl = pending.indexOf('\n');
    }
  }
  const rest = pending.trim();
  if (rest) yield JSON.parse(rest) as T;
}

/**
 * The frames of a container output stream. With a TTY the daemon sends raw bytes (all of it is
 * stdout); without one it multiplexes with stdcopy headers.
 */
export async function* outputFrames(source: Readable, tty: boolean): AsyncGenerator<OutputFrame> {
  if (tty) {
    for await (const chunk of source) {
      yield { stream: 1, payload: typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer) };
    }
    return;
  }
  const decoder = new StdcopyDecoder();
  source.once('error', (err) => decoder.destroy(err));
  // A destroyed source (the caller hung up) closes without 'end'; finish the frames anyway.
  source.once('close', () => {
    if (!decoder.writableEnded) decoder.end();
  });
  source.pipe(decoder);
  for await (const frame of decoder) yield frame as OutputFrame;
}
