/**
 * Errors that cross a boundary carry a kind; api/server/errors.ts maps kinds to HTTP statuses
 * (the only place that knows HTTP). Messages are for users: short, say what was wrong and what
 * to do, and match Docker's wording where clients parse it.
 */
export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidParameter'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotModified'
  | 'NotImplemented'
  | 'Unavailable'
  | 'Internal';

export class BerthError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.kind = kind;
  }
}

export const notFound = (message: string, options?: { cause?: unknown }) =>
  new BerthError('NotFound', message, options);
export const conflict = (message: string, options?: { cause?: unknown }) =>
  new BerthError('Conflict', message, options);
export const invalidParameter = (message: string, options?: { cause?: unknown }) =>
  new BerthError('InvalidParameter', message, options);
export const notImplemented = (message: string, options?: { cause?: unknown }) =>
  new BerthError('NotImplemented', message, options);
export const unavailable = (message: string, options?: { cause?: unknown }) =>
  new BerthError('Unavailable', message, options);
export const internal = (message: string, options?: { cause?: unknown }) =>
  new BerthError('Internal', message, options);
export const forbidden = (message: string, options?: { cause?: unknown }) =>
  new BerthError('Forbidden', message, options);
export const unauthorized = (message: string, options?: { cause?: unknown }) =>
  new BerthError('Unauthorized', message, options);
export const notModified = (message: string, options?: { cause?: unknown }) =>
  new BerthError('NotModified', message, options);

export function isBerthError(err: unknown, kind?: ErrorKind): err is BerthError {
  return err instanceof BerthError && (kind === undefined || err.kind === kind);
}

/** The errno code of a Node system error (`ENOENT`, …), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
