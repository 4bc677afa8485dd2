/**
 * HTTP/1.1 to the daemon over node:http, on a Unix socket or TCP. Three shapes of exchange:
 * `request` (a response stream, status already checked), `hijack` (Docker's connection upgrade
 * for attach and exec: the raw socket afterwards carries both directions), and the JSON helpers
 * built on `request` in client.ts.
 *
 * Lifecycle: one Transport per client; it owns a keep-alive Agent (idle sockets do not hold the
 * process open). Hijacked connections bypass the agent, so the caller owns and must end them.
 */
import http, { type IncomingMessage } from 'node:http';
import { Duplex, Readable } from 'node:stream';
import { errnoCode } from '../common/errors.ts';
import { loadHttps } from '../common/lazy-builtins.ts';
import { DaemonError, DaemonUnreachableError, errorMessageFromBody } from './errors.ts';
import type { DaemonAddress } from './host.ts';
import type { ClientTls } from './tls.ts';

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A JSON value (sent with Content-Length) or a byte stream (sent chunked). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Encodes a query the way Docker's Go client does: booleans as 1/0, absent values omitted. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    params.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export class Transport {
  readonly #address: DaemonAddress;
  readonly #agent: http.Agent;
  /** TLS options for tcp (https) connections; undefined: plain HTTP. */
  readonly #tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } | undefined;

  constructor(address: DaemonAddress, tls?: ClientTls) {
    this.#address = address;
    this.#tls =
      tls && address.kind === 'tcp'
        ? {
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
            rejectUnauthorized: tls.verify,
          }
        : undefined;
    this.#agent = this.#tls
      ? new (loadHttps().Agent)({ keepAlive: true, ...this.#tls })
      : new http.Agent({ keepAlive: true });
  }

  get address(): DaemonAddress {
    return this.#address;
  }

  /** Sends a request; resolves with the response once the status is known to be a success (< 400). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const { req, body } = this.#open(method, path, opts, this.#agent);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', (err) => reject(this.#connectionError(err)));
      this.#send(req, body);
    });
    await throwIfError(res);
    return res;
  }

  /**
   * Docker's hijack (Engine API "Hijacking"): asks for `Upgrade: tcp` and returns the raw socket
   * once the daemon answers 101. A daemon that answers 200 without upgrading gets a read-only
   * stream of the body. An error status throws DaemonError.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Duplex> {
    const headers = { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers };
    const { req, body } = this.#open(method, path, { ...opts, headers }, false);
    return new Promise<Duplex>((resolve, reject) => {
      req.once('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.once('response', (res: IncomingMessage) => {
        throwIfError(res).then(() => resolve(readOnlyDuplex(res)), reject);
      });
      req.once('error', (err) => reject(this.#connectionError(err)));
      this.#send(req, body);
    });
  }

  /** Frees idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  #open(
    method: string,
    path: string,
    opts: RequestOptions,
    agent: http.Agent | false,
  ): { req: http.ClientRequest; body: Buffer | Readable | undefined } {
    const headers: Record<string, string> = { ...opts.headers };
    let body: Buffer | Readable | undefined;
    if (opts.body instanceof Readable) {
      body = opts.body;
      headers['Content-Type'] ??= 'application/x-tar';
    } else if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] ??= 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const addr = this.#address;
    const target =
      addr.kind === 'unix' ? { socketPath: addr.socketPath } : { host: addr.host, port: addr.port };
    const req = (this.#tls ? loadHttps().request : http.request)({
      ...target,
      // Plain HTTP has no TLS server name: '' spares http.Agent deriving one from the Host header
      // (its first isIP() compiles Node's IPv6 regex, milliseconds of each CLI call).
      ...(this.#tls ?? { servername: '' }),
      method,
      path: path + encodeQuery(opts.query),
      headers: {
        Host: addr.kind === 'unix' ? 'api.moby.localhost' : `${addr.host}:${addr.port}`,
        ...headers,
      },
      agent,
      signal: opts.signal,
    });
    return { req, body };
  }

  #send(req: http.ClientRequest, body: Buffer | Readable | undefined): void {
    if (body instanceof Readable) {
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    } else {
      req.end(body);
    }
  }

  #connectionError(err: Error): Error {
    const code = errnoCode(err);
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND') {
      return new DaemonUnreachableError(this.#address.url, { cause: err });
    }
    if (code === 'EACCES') {
      // docker/cli: "permission denied while trying to connect to the Docker daemon socket at …"
      return new DaemonUnreachableError(this.#address.url, { cause: err });
    }
    return err;
  }
}

/** Reads the whole body of an error response and throws it as a DaemonError. */
async function throwIfError(res: IncomingMessage): Promise<void> {
  const status = res.statusCode ?? 0;
  if (status < 400) return;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  throw new DaemonError(status, errorMessageFromBody(status, Buffer.concat(chunks).toString('utf8')));
}

function readOnlyDuplex(res: IncomingMessage): Duplex {
  const d = new Duplex({
    read() {
      res.resume();
    },
    write(_chunk, _enc, done) {
      done();
    },
    final(done) {
      done();
    },
    destroy(err, done) {
      res.destroy();
      done(err);
    },
  });
  res.on('data', (c: Buffer) => {
    if (!d.push(c)) res.pause();
  });
  res.once('end', () => d.push(null));
  res.once('error', (err) => d.destroy(err));
  return d;
}

/** Reads a whole response body as text. */
export async function readBody(res: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
