import pino from 'pino';

/**
 * The daemon's structured, levelled logger. Callers use only this interface so the backend
 * (pino today) can change without touching them. Messages are short lowercase facts; data goes
 * in fields: `log.info('container started', { pid })`.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Changes the level of this logger and every child (berthd's SIGHUP reload). */
  setLevel?(level: LogLevel): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** A logger writing JSON lines to stderr (fd 2) at `level`. */
export function createLogger(level: LogLevel = 'info'): Logger {
  const shared = { rank: RANK[level] };
  const log = wrap(
    pino({ level: 'debug', base: undefined }, pino.destination({ fd: 2, sync: false })),
    shared,
  );
  return log;
}

const RANK: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/** A logger that drops everything: for tests and library callers that pass none. */
export function silentLogger(): Logger {
  const noop = () => {};
  const log: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => log };
  return log;
}

function wrap(p: pino.Logger, shared: { rank: number }): Logger {
  const fieldsFirst =
    (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Record<string, unknown>) => {
      if (RANK[level] < shared.rank) return;
      const f = fields && 'err' in fields && fields.err instanceof Error ? withErr(fields) : fields;
      if (f) p[level](f, msg);
      else p[level](msg);
    };
  return {
    debug: fieldsFirst('debug'),
    info: fieldsFirst('info'),
    warn: fieldsFirst('warn'),
    error: fieldsFirst('error'),
    child: (fields) => wrap(p.child(fields), shared),
    setLevel: (level) => {
      shared.rank = RANK[level];
    },
  };
}

function withErr(fields: Record<string, unknown>): Record<string, unknown> {
  const err = fields.err as Error;
  return { ...fields, err: { message: err.message, stack: err.stack, cause: String(err.cause ?? '') } };
}
