/**
 * The hijacked connection of attach and exec start (Docker's "hijack"): after the request head
 * the socket becomes a raw bidirectional stream. Node hands such requests to the server's
 * 'upgrade' event without parsing their body, so we read it here: by Content-Length, or
 * de-chunked — dockerode sends `Transfer-Encoding: chunked` and never ends the body, so a JSON
 * body is complete as soon as its chunks parse (Go's json.Decoder stops there too).
 */
import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from './detach-keys.ts';
import type { Duplex } from 'node:stream';
import { invalidParameter, type Logger } from '../../common/index.ts';
import type { IoSession } from '../../engine/index.ts';
import { errorResponse, STATUS_SWITCHING_PROTOCOLS, statusText } from './errors.ts';

const MAX_HIJACK_BODY = 1024 * 1024;

/** Incremental decoder for `Transfer-Encoding: chunked` (RFC 9112 §7.1), trailers ignored. */
export class ChunkedDecoder {
  #buf: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #state: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size';
  #body: Buffer[] = [];

  /** Feeds bytes; returns false on a framing error. */
  push(bytes: Buffer): boolean {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, bytes]) : bytes;
    for (;;) {
      if (this.#state === 'done') return true;
      if (this.#state === 'data') {
        if (this.#buf.length === 0) return true;
        const take = Math.min(this.#remaining, this.#buf.length);
        this.#body.push(this.#buf.subarray(0, take));
        this.#buf = this.#buf.subarray(take);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'data-crlf';
        continue;
      }
      const eol = this.#buf.indexOf('\r\n');
      if (eol < 0) return this.#buf.length < 4096;
      const line = this.#buf.subarray(0, eol).toString('latin1');
      this.#buf = this.#buf.subarray(eol + 2);
      if (this.#state === 'data-crlf') {
        if (line !== '') return false;
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const size = Number.parseInt(line.split(';')[0]!.trim(), 16);
        if (!/^[0-9a-fA-F]+/.test(line) || Number.isNaN(size)) return false;
        if (size === 0) this.#state = 'trailer';
        else {
          this.#remaining = size;
          this.#state = 'data';
        }
      } else if (line === '') {
        this.#state = 'done';
      }
    }
  }

  /** True after the terminating zero-size chunk and its trailer. */
  get isDone(): boolean {
    return this.#state === 'done';
  }

  /**
   * True between chunks, unless what follows could still become the terminating `0\r\n\r\n`
   * (then more bytes decide; clients send stdin only after our response, so they come soon).
   */
  get isAtChunkBoundary(): boolean {
    if (this.#state === 'done') return true;
    if (this.#state !== 'size') return false;
    const terminator = Buffer.from('0\r\n\r\n');
    const n = Math.min(this.#buf.length, terminator.length);
    return this.#buf.length === 0 || !this.#buf.subarray(0, n).equals(terminator.subarray(0, n));
  }

  get body(): Buffer {
    return Buffer.concat(this.#body);
  }

  /** Bytes received past what was decoded: after the body, the start of the raw stream. */
  get rest(): Buffer {
    return this.#buf;
  }
}

/** One read from a paused socket: the next chunk, or null at end of stream. */
function readOnce(socket: Duplex): Promise<Buffer | null> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const done = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    const onData = (chunk: Buffer) => {
      done();
      resolve(chunk);
    };
    const onEnd = () => {
      done();
      resolve(null);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}

/**
 * Reads the body of a hijacked request. Returns the body and the bytes after it (the start of
 * the client's raw stream). With `isJson`, a chunked body that never ends is complete once what
 * arrived parses as JSON; without it, a chunked body counts only if it is already terminated
 * (an attach has no body, and whatever follows the headers is stdin).
 */
export async function readHijackBody(
  socket: Duplex,
  head: Buffer,
  headers: Record<string, string | string[] | undefined>,
  isJson: boolean,
): Promise<{ body: Buffer; rest: Buffer }> {
  const length = headers['content-length'];
  const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
  if (typeof length === 'string' && length !== '') {
    const n = Number(length);
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_HIJACK_BODY) {
      throw invalidParameter(`invalid Content-Length ${length}`);
    }
    let buf = head;
    while (buf.length < n) {
      const more = await readOnce(socket);
      if (more === null) throw invalidParameter('unexpected EOF reading the request body');
      buf = Buffer.concat([buf, more]);
    }
    return { body: buf.subarray(0, n), rest: buf.subarray(n) };
  }
  if (!te.includes('chunked')) return { body: Buffer.alloc(0), rest: head };
  if (!isJson) {
    const terminator = Buffer.from('0\r\n\r\n');
    return head.subarray(0, terminator.length).equals(terminator)
      ? { body: Buffer.alloc(0), rest: head.subarray(terminator.length) }
      : { body: Buffer.alloc(0), rest: head };
  }
  const decoder = new ChunkedDecoder();
  let next: Buffer | null = head;
  let received = 0;
  for (;;) {
    if (next !== null && next.length > 0) {
      received += next.length;
      if (received > MAX_HIJACK_BODY) throw invalidParameter('request body too large');
      if (!decoder.push(next)) throw invalidParameter('malformed chunked request body');
    }
    if (decoder.isDone || (decoder.isAtChunkBoundary && isCompleteJson(decoder.body))) {
      return { body: decoder.body, rest: decoder.rest };
    }
    if (next === null) throw invalidParameter('unexpected EOF reading the request body');
    next = await readOnce(socket);
  }
}

function isCompleteJson(body: Buffer): boolean {
  const text = body.toString('utf8');
  if (text.trim() === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Sockets that already carry a response head: an error after that can only close them. */
const socketsWithHead = new WeakSet<Duplex>();

export function hasRawHead(socket: Duplex): boolean {
  return socketsWithHead.has(socket);
}

/** Writes a status line and headers on a raw socket. */
export function writeRawHead(socket: Duplex, status: number, headers: Record<string, string | number>): void {
  socketsWithHead.add(socket);
  let head = `HTTP/1.1 ${status} ${statusText(status)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.write(`${head}\r\n`);
}

/** Answers a hijacked request with Docker's error response and closes the connection. */
export function writeRawError(socket: Duplex, err: unknown, commonHeaders: Record<string, string>): void {
  if (socket.destroyed) return;
  const { status, body } = errorResponse(err);
  const headers: Record<string, string | number> = { ...commonHeaders, Connection: 'close' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  writeRawHead(socket, status, headers);
  socket.end(body ?? '', () => socket.destroy());
}

/** The head of a successful hijack: `101 UPGRADED` with Docker's headers. */
export function writeUpgradeHead(
  socket: Duplex,
  contentType: string,
  commonHeaders: Record<string, string>,
): void {
  writeRawHead(socket, STATUS_SWITCHING_PROTOCOLS, {
    'Content-Type': contentType,
    Connection: 'Upgrade',
    Upgrade: 'tcp',
    ...commonHeaders,
  });
}

/**
 * Joins a session to a hijacked socket until either side is done:
 * session.output → socket, closing the socket when the output ends (dockerd closes the
 * connection then); socket → session.input, where the client's half-close is stdin EOF.
 * The client closing the connection detaches the session. Resolves when the socket is closed.
 */
export function runSession(
  socket: Duplex,
  session: IoSession,
  pending: Buffer,
  log: Logger,
  detachKeys?: string,
): Promise<void> {
  return new Promise((resolve) => {
    const { output, input } = session;
    const finish = () => {
      session.close();
      resolve();
    };
    socket.once('close', finish);
    socket.on('error', (err) => {
      log.debug('hijacked connection failed', { err });
      socket.destroy();
    });

    output.on('error', (err) => {
      log.debug('session output failed', { err });
      socket.destroy();
    });
    output.once('end', () => socket.end(() => socket.destroy()));
    output.pipe(socket, { end: false });

    if (input) {
      input.on('error', (err) => {
        // The process went away or closed its stdin: drop what the client still sends.
        log.debug('session input failed', { err });
        socket.unpipe(input);
        socket.resume();
      });
      if (session.tty) {
        // With a TTY the daemon watches stdin for the detach keys (default Ctrl-P Ctrl-Q).
        const filter = new DetachKeyFilter(parseDetachKeys(detachKeys || DEFAULT_DETACH_KEYS), () => {
          log.debug('session detached by its detach keys');
          socket.unpipe(filter);
          socket.end(() => socket.destroy());
        });
        filter.pipe(input);
        if (pending.length > 0) filter.write(pending);
        socket.pipe(filter);
      } else {
        if (pending.length > 0) input.write(pending);
        socket.pipe(input);
      }
    } else {
      socket.resume();
    }
  });
}

/**
 * The fallback for a client that asked for a stream without `Connection: Upgrade`: Node keeps
 * parsing its socket as HTTP, so stdin cannot be taken over; the output is sent as the body
 * (dockerd sends `200 OK` and `application/vnd.docker.raw-stream` on this path too).
 * Resolves when the output ends or the client goes away.
 */
export async function streamSessionOutput(
  res: import('node:http').ServerResponse,
  session: IoSession,
  contentType: string,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  await new Promise<void>((resolve) => {
    const done = () => {
      session.close();
      resolve();
    };
    res.once('close', done);
    session.output.once('end', () => res.end());
    session.output.once('error', () => res.destroy());
    session.output.pipe(res, { end: false });
  });
}
