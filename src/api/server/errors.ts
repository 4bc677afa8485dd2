/**
 * The only place that knows HTTP statuses (STYLE.md "Errors"). A BerthError's kind picks the
 * status; the body is Docker's `{"message": "..."}`. Anything else reaching here is a bug:
 * 500 with its message, and the stack is logged once by the caller.
 */
import type { ErrorKind } from '../../common/index.ts';
import { isBerthError } from '../../common/index.ts';

const statusByKind: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidParameter: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotModified: 304,
  NotImplemented: 501,
  Unavailable: 503,
  Internal: 500,
};

export const STATUS_OK = 200;
export const STATUS_CREATED = 201;
export const STATUS_NO_CONTENT = 204;
export const STATUS_SWITCHING_PROTOCOLS = 101;
export const STATUS_NOT_FOUND = 404;

/** What an error becomes on the wire. `body` is undefined for statuses that carry none (304). */
export interface ErrorResponse {
  status: number;
  body: string | undefined;
  /** True when the error was not a BerthError: a bug whose stack deserves a log line. */
  isUnexpected: boolean;
}

export function errorResponse(err: unknown): ErrorResponse {
  const status = isBerthError(err) ? statusByKind[err.kind] : 500;
  const message = err instanceof Error ? err.message : String(err);
  return {
    status,
    // Docker answers 304 with no body (net/http forbids one), everything else with {"message"}.
    body: status === 304 ? undefined : `${JSON.stringify({ message })}\n`,
    isUnexpected: !isBerthError(err),
  };
}

/** The reason phrase for a status line we write ourselves on a hijacked socket. */
export function statusText(status: number): string {
  const texts: Record<number, string> = {
    101: 'UPGRADED',
    200: 'OK',
    304: 'Not Modified',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    500: 'Internal Server Error',
    501: 'Not Implemented',
    503: 'Service Unavailable',
  };
  return texts[status] ?? 'Unknown';
}

/** True for the error a stream or engine call throws when the request's signal aborted. */
export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR')
  );
}
