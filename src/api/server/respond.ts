/** Writing Docker-shaped responses: JSON with a trailing newline (Go's json.Encoder), empty bodies, streams. */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** A JSON body as dockerd writes it: `application/json`, one value, then '\n'. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** A response with no body (204, 201 for tag, 200 for resize). A 204 carries no Content-Length (RFC 9110 §8.6). */
export function sendEmpty(res: ServerResponse, status: number): void {
  if (status === 204) res.writeHead(status);
  else res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** Resolves when `signal` aborts (never rejects): to stop waiting on work that ignores the signal. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Starts a streamed response: the status and headers go out at once (dockerd flushes before the
 * first event/log line/wait result, and clients wait for the headers), the body follows in chunks.
 */
export function startStream(res: ServerResponse, contentType: string): void {
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
}

/** Writes one chunk of a stream, waiting for the client to catch up when it is slow. */
export async function writeChunk(
  res: ServerResponse,
  data: string | Buffer,
  signal: AbortSignal,
): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  if (!res.write(data)) await once(res, 'drain', { signal });
}
