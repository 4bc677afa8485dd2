/**
 * `POST /containers/{id}/attach?logs=1` (moby daemon/attach.go containerAttach): the stored log
 * is replayed first, the selected streams only, framed as the live output is (stdcopy without a
 * TTY, raw with one); then, with `stream=1`, the live output follows. The live session is
 * attached before the replay, as dockerd attaches its streams before reading the log, so
 * nothing written meanwhile is lost (a line written during the replay can show twice, as with
 * dockerd). With `stream=0` the output ends after the log.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { stdcopyFrame } from '../../common/index.ts';
import type { IoSession, LogEntry } from '../engine.ts';

export interface AttachReplay {
  tty: boolean;
  /** The log entries to replay (already limited to the selected streams); undefined: none. */
  entries?: AsyncIterable<LogEntry>;
  /** Written instead of the log when it cannot be read (moby: "Error attaching: …"). */
  error?: string;
  /** The live session (stream=1), attached already; undefined: the output ends after the log. */
  live?: IoSession;
  /** Aborted when the session is closed, to stop reading the log. */
  abort: AbortController;
}

export function attachWithReplay({ tty, entries, error, live, abort }: AttachReplay): IoSession {
  const output = new PassThrough();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    abort.abort();
    live?.close();
    output.end();
  };
  // Listened to from the start: the live side may fail while the log is being replayed.
  live?.output.once('error', close);
  const frame = (stream: 1 | 2, data: Buffer) => (tty ? data : stdcopyFrame(stream, data));
  const write = async (chunk: Buffer) => {
    if (!output.write(chunk)) await once(output, 'drain', { signal: abort.signal });
  };
  void (async () => {
    try {
      if (error !== undefined) await write(frame(1, Buffer.from(`Error attaching: ${error}\n`)));
      for await (const e of entries ?? []) {
        if (closed) return;
        await write(frame(e.stream === 'stderr' ? 2 : 1, e.line));
      }
    } catch {
      // The session was closed while reading or writing (an abort), or the log went away.
      if (closed) return;
    }
    if (closed) return;
    if (!live || error !== undefined) {
      close();
      return;
    }
    live.output.once('end', () => output.end());
    live.output.pipe(output, { end: false });
  })();
  return { tty, output, ...(live?.input ? { input: live.input } : {}), close };
}
