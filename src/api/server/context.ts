/**
 * What a route handler receives. The server builds one context per request after routing and
 * version negotiation; the handler answers through `res` (or, for hijacked routes, the raw
 * `socket`) and may throw: the server turns a throw into Docker's error response if nothing
 * was sent yet.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/index.ts';
import type { Engine, IoSession } from '../../engine/index.ts';

export interface RequestContext {
  readonly engine: Engine;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Decoded path variables (`id`, `name`). */
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The negotiated API version of this request (`1.41` when the URL had none). */
  readonly version: string;
  /** Aborts when the client disconnects or the server closes. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** A request that arrived with `Connection: Upgrade`: the handler owns the socket. */
export interface HijackContext extends Omit<RequestContext, 'res'> {
  readonly socket: Duplex;
  /** Bytes the HTTP parser read past the headers: the start of the body, then the raw stream. */
  readonly head: Buffer;
  /** The headers every response carries (Api-Version, Server, …), for the status line we write. */
  readonly commonHeaders: Record<string, string>;
  /** Registers a live session so the server can end it on close(). Returns an unregister function. */
  track(session: IoSession): () => void;
}

export type Handler = (ctx: RequestContext) => Promise<void>;
export type HijackHandler = (ctx: HijackContext) => Promise<void>;

/** A route: its ordinary HTTP handler, and for attach/exec start the hijacked one. */
export interface Route {
  handle: Handler;
  hijack?: HijackHandler;
}
