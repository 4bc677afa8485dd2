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

/** dockerd's --log-format: logrus's JSON or text lines. */
export type LogFormat = 'json' | 'text';

/**
 * A logger writing to stderr (fd 2) at `level`, one line per entry as dockerd's logrus writes
 * them: JSON `{"level":"info","msg":…,"time":…,…fields}`, or text
 * `time="…" level=info msg="…" key=value` (`out`: another destination, for tests).
 */
export function createLogger(
  level: LogLevel = 'info',
  format: LogFormat = 'json',
  out?: { write(line: string): unknown },
): Logger {
  const shared = { rank: RANK[level] };
  const dest = out ?? pino.destination({ fd: 2, sync: false });
  const stream = format === 'text' ? { write: (line: string) => dest.write(textLine(line)) } : dest;
  const log = wrap(
    pino(
      {
        level: 'debug',
        base: undefined,
        timestamp: () => `,"time":"${new Date().toISOString()}"`,
        formatters: { level: (label) => ({ level: label === 'warn' ? 'warning' : label }) },
      },
      stream,
    ),
    shared,
  );
  return log;
}

/** One pino JSON line as logrus's TextFormatter writes it: time, level, msg, then sorted fields. */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, err, ...fields } = entry;
  const parts = [
    `time=${quote(String(time ?? ''))}`,
    `level=${String(level)}`,
    `msg=${quote(String(msg ?? ''))}`,
  ];
  if (err !== undefined) {
    fields.error =
      err && typeof err === 'object' && 'message' in err ? (err as { message: unknown }).message : err;
  }
  for (const k of Object.keys(fields).sort()) {
    const v = fields[k];
    parts.push(`${k}=${quote(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)))}`);
  }
  return `${parts.join(' ')}\n`;
}

/** logrus quotes a value unless it is only [A-Za-z0-9-._/@^+] (Go's %q: a JSON-style string). */
function quote(v: string): string {
  return v !== '' && /^[A-Za-z0-9\-._/@^+]+$/.test(v) ? v : JSON.stringify(v);
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
