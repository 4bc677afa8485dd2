/**
 * Errors the client raises. A daemon's non-success answer becomes a DaemonError carrying the
 * server's `message` and a kind derived from the status (the inverse of api/server/errors.ts);
 * a daemon we cannot reach becomes DaemonUnreachableError with Docker's wording.
 */
import { BerthError, type ErrorKind } from '../common/errors.ts';

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  304: 'NotModified',
  400: 'InvalidParameter',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  501: 'NotImplemented',
  503: 'Unavailable',
};

export function kindForStatus(status: number): ErrorKind {
  return KIND_BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'InvalidParameter' : 'Internal');
}

/** The daemon answered with an error status; `message` is the server's own text. */
export class DaemonError extends BerthError {
  readonly statusCode: number;

  constructor(statusCode: number, message: string, options?: { cause?: unknown }) {
    super(kindForStatus(statusCode), message, options);
    this.name = 'DaemonError';
    this.statusCode = statusCode;
  }
}

/**
 * Nothing listens at the address. The text follows Docker's (client/errors.go
 * ErrorConnectionFailed) with the daemon's name adapted.
 */
export class DaemonUnreachableError extends BerthError {
  readonly host: string;

  constructor(host: string, options?: { cause?: unknown }) {
    super(
      'Unavailable',
      `Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`,
      options,
    );
    this.name = 'DaemonUnreachableError';
    this.host = host;
  }
}

export function isDaemonError(err: unknown): err is DaemonError {
  return err instanceof DaemonError;
}

/** Reads Docker's `{"message": …}` error body, falling back to the raw text or the status. */
export function errorMessageFromBody(status: number, body: string): string {
  const text = body.trim();
  if (text) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return text;
    }
  }
  return `request returned ${status} with no error message`;
}
