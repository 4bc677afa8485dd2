/**
 * The Engine API server: node:http plus our router (DEPENDENCIES.md §3). One ApiServer per
 * daemon: `createApiServer` wires it to an Engine, `listen` binds a Unix socket (or TCP), `close`
 * stops accepting, ends streams and hijacked sessions, and resolves once every connection is gone.
 *
 * Per request: route → negotiate the version → common headers → handler; a throw becomes
 * Docker's error response (errors.ts). Requests with `Connection: Upgrade` arrive on the
 * 'upgrade' event and go to the route's hijack handler with the raw socket.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { conflict, errnoCode, invalidParameter, type Logger, notFound } from '../../common/index.ts';
import type { Engine, IoSession } from '../../engine/index.ts';
import { BERTH_VERSION } from '../types/index.ts';
import type { HijackContext, RequestContext, Route } from './context.ts';
import { errorResponse, isAbortError } from './errors.ts';
import { hasRawHead, writeRawError } from './hijack.ts';
import type { Router } from './router.ts';
import { buildRouter } from './routes.ts';
import { commonHeaders, effectiveApiVersion } from './version.ts';

export interface ApiServerOptions {
  engine: Engine;
  log: Logger;
  /** The version in the `Server: Docker/<ver> (linux)` header; berth's own by default. */
  serverVersion?: string;
  /** berthd --experimental: the Docker-Experimental header every response carries. */
  experimental?: boolean;
}

/**
 * Where to listen: a Unix socket (chmod to `mode`, default 0o660) or a TCP host and port,
 * optionally with TLS (`requestCert`: clients must present a certificate signed by `ca`).
 */
export type ListenAddress =
  | { unix: string; mode?: number }
  | { host: string; port: number; tls?: TlsListenOptions };

export interface TlsListenOptions {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  requestCert: boolean;
}

export interface ApiServer {
  /**
   * Starts serving. For a Unix socket, a stale socket file left by a dead daemon is removed
   * first; one that still answers is a Conflict (another daemon owns it).
   */
  listen(address: ListenAddress): Promise<void>;
  /** The bound address: the socket path, or the TCP address (its port when listening on 0). */
  address(): string | AddressInfo | null;
  /** Stops accepting, aborts streaming requests, ends hijacked sessions; resolves when idle. */
  close(): Promise<void>;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const { engine, log } = options;
  const headers = commonHeaders(options.serverVersion ?? BERTH_VERSION, options.experimental);
  const router = buildRouter();
  const inflight = new Set<AbortController>();
  const hijacked = new Set<Duplex>();
  const sessions = new Set<IoSession>();
  let isClosing = false;

  // One node server per listening address, all with the same handlers.
  const servers: Server[] = [];
  const makeServer = (tls?: TlsListenOptions): Server => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void handleRequest(req, res);
    // requestTimeout 0: long uploads (import, later build and load) must not be cut at 300 s.
    const s: Server = tls
      ? createHttpsServer(
          {
            requestTimeout: 0,
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca ? { ca: tls.ca } : {}),
            requestCert: tls.requestCert,
            rejectUnauthorized: tls.requestCert,
            minVersion: 'TLSv1.2',
          },
          onRequest,
        )
      : createServer({ requestTimeout: 0 }, onRequest);
    s.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // The client's half-close is stdin EOF (the docker CLI's CloseWrite, a TLS close_notify
      // on https): output must still flow. http sockets are half-open already; TLS ones are not.
      socket.allowHalfOpen = true;
      void handleUpgrade(req, socket, head);
    });
    // A client without a valid certificate fails the handshake: log it, keep serving.
    s.on('tlsClientError', (err: Error) => log.warn('tls handshake refused', { err: err.message }));
    servers.push(s);
    return s;
  };
  const closeIdle = () => {
    for (const s of servers) s.closeIdleConnections();
  };

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const controller = new AbortController();
    inflight.add(controller);
    const method = req.method ?? 'GET';
    let path = req.url ?? '/';
    res.on('close', () => {
      inflight.delete(controller);
      if (!res.writableFinished) controller.abort();
      log.debug('request', {
        method,
        path,
        status: res.statusCode,
        ms: Math.round(performance.now() - startedAt),
      });
      if (isClosing) setImmediate(closeIdle);
    });
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (isClosing) res.setHeader('Connection', 'close');
    try {
      const target = resolve(router, method, req.url ?? '/');
      path = target.path;
      const ctx: RequestContext = {
        engine,
        req,
        res,
        params: target.params,
        query: target.query,
        version: target.version,
        signal: controller.signal,
        log,
      };
      await target.route.handle(ctx);
    } catch (err) {
      if (controller.signal.aborted && isAbortError(err)) return;
      const { status, body, isUnexpected } = errorResponse(err);
      if (isUnexpected) log.error('request failed', { err, method, path });
      if (res.headersSent) {
        // Mid-stream: the status is gone, so tell the client by cutting the connection.
        res.destroy();
        return;
      }
      if (body === undefined) {
        res.writeHead(status);
        res.end();
      } else {
        res.writeHead(status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      }
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const startedAt = performance.now();
    const controller = new AbortController();
    const method = req.method ?? 'POST';
    let path = req.url ?? '/';
    hijacked.add(socket);
    socket.once('close', () => {
      hijacked.delete(socket);
      controller.abort();
      log.debug('hijacked request', { method, path, ms: Math.round(performance.now() - startedAt) });
    });
    socket.on('error', () => socket.destroy());
    try {
      const target = resolve(router, method, req.url ?? '/');
      path = target.path;
      if (!target.route.hijack) throw invalidParameter(`${method} ${target.path} cannot be upgraded`);
      const ctx: HijackContext = {
        engine,
        req,
        socket,
        head,
        params: target.params,
        query: target.query,
        version: target.version,
        signal: controller.signal,
        log,
        commonHeaders: headers,
        track: (session) => {
          sessions.add(session);
          return () => sessions.delete(session);
        },
      };
      await target.route.hijack(ctx);
    } catch (err) {
      const { isUnexpected } = errorResponse(err);
      if (isUnexpected && !isAbortError(err)) log.error('request failed', { err, method, path });
      if (hasRawHead(socket)) socket.destroy();
      else writeRawError(socket, err, headers);
    }
  }

  return {
    async listen(address: ListenAddress): Promise<void> {
      if ('unix' in address) {
        await removeStaleSocket(address.unix);
        await listenOn(makeServer(), address.unix);
        await chmod(address.unix, address.mode ?? 0o660);
      } else {
        await listenOn(makeServer(address.tls), { host: address.host, port: address.port });
      }
      log.info('api listening', {
        address: 'unix' in address ? address.unix : `${address.host}:${address.port}`,
      });
    },

    address() {
      return servers[0]?.address() ?? null;
    },

    async close(): Promise<void> {
      isClosing = true;
      const closed = Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
      for (const controller of inflight) controller.abort();
      for (const session of sessions) session.close();
      for (const socket of hijacked) socket.destroy();
      closeIdle();
      await closed;
    },
  };
}

interface ResolvedTarget {
  route: Route;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  version: string;
}

/**
 * Splits the request target, decodes the path (as gorilla/mux matches on the decoded path, so
 * `%2F` in an image name is a '/'), routes and negotiates the version.
 */
function resolve(router: Router<Route>, method: string, url: string): ResolvedTarget {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw invalidParameter(`invalid URL escape in ${rawPath}`);
  }
  const match = router.match(method, path);
  // moby's notFoundHandler: the same body for every unknown route.
  if (!match) throw notFound('page not found');
  return {
    route: match.handler,
    path,
    params: match.params,
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    version: effectiveApiVersion(match.urlVersion),
  };
}

function listenOn(server: Server, target: string | { host: string; port: number }): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (err: Error) => fail(err);
    server.once('error', onError);
    const onListening = () => {
      server.off('error', onError);
      done();
    };
    if (typeof target === 'string') server.listen(target, onListening);
    else server.listen(target.port, target.host, onListening);
  });
}

/** Removes a socket file nobody answers on (a daemon that died); refuses to touch anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw conflict(`${path} exists and is not a socket: refusing to replace it`);
  const isAnswering = await new Promise<boolean>((done) => {
    const probe: Socket = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      done(true);
    });
    probe.once('error', () => done(false));
  });
  if (isAnswering) throw conflict(`${path} is in use: another daemon is listening on it`);
  await unlink(path);
}
