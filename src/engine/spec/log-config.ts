/**
 * Log drivers and their options (`--log-driver`, `--log-opt`, daemon `log-driver`/`log-opts`),
 * checked as dockerd checks them at create, and turned into what the shim does at start.
 *
 * - `json-file` (default): Docker's format; `max-size` (RAMInBytes: 10k, 20m, 1g), `max-file`
 *   (files kept, default 1), `compress` (gzip rotated files; needs max-file > 1 and max-size);
 *   `labels`, `labels-regex`, `env`, `env-regex` and `tag` add an `attrs` object to each line
 *   (log-attrs.ts, log-tag.ts).
 * - `local`: rotated by default (20 MiB x 5, compressed) as dockerd's local driver. berth stores
 *   it in the json-file format (readable by `logs`); its on-disk encoding is not Docker's
 *   protobuf one, which nothing but dockerd reads.
 * - `none`: no log; `logs` answers that the driver does not support reading.
 * Other drivers and unknown options are refused with dockerd's errors.
 */
import { invalidParameter } from '../../common/index.ts';
import { ATTRIBUTE_OPTS } from './log-attrs.ts';

/** What the runtime's shim does (platform's LogRotation). */
export interface LogRotation {
  maxSize: number;
  maxFiles: number;
  compress: boolean;
}

export const LOG_DRIVERS = ['json-file', 'local', 'none'] as const;
export type LogDriver = (typeof LOG_DRIVERS)[number];

export interface LogSettings {
  driver: LogDriver;
  /** Rotation the shim does; undefined = the file grows without bound. */
  rotate?: LogRotation;
}

const MIB = 1024 * 1024;
const JSON_FILE_OPTS = ['max-size', 'max-file', 'compress', 'tag', ...ATTRIBUTE_OPTS];

/** go-units RAMInBytes: binary multiples, `10m` = 10 MiB. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s.trim());
  if (!m) throw invalidParameter(`invalid size: '${s}'`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = { '': 1, k: 1024, m: MIB, g: 1024 * MIB, t: 1024 ** 4, p: 1024 ** 5 }[unit] ?? 1;
  return Math.floor(Number.parseFloat(m[1] ?? '0') * mult);
}

function parseBool(key: string, v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw invalidParameter(`error parsing ${key}: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** Validates a LogConfig and returns what the shim is to do. Throws InvalidParameter with Docker's texts. */
export function resolveLogSettings(
  type: string | undefined,
  config: Record<string, string> = {},
): LogSettings {
  const driver = (type || 'json-file') as LogDriver;
  if (!LOG_DRIVERS.includes(driver)) {
    throw invalidParameter(
      `logger: no log driver named '${driver}' is registered (berth supports ${LOG_DRIVERS.join(', ')})`,
    );
  }
  for (const key of Object.keys(config)) {
    const known =
      driver === 'none'
        ? false
        : driver === 'local'
          ? ['max-size', 'max-file', 'compress'].includes(key)
          : JSON_FILE_OPTS.includes(key);
    if (!known) {
      // moby's local driver words it the other way round.
      throw invalidParameter(
        driver === 'local'
          ? `unknown log opt '${key}' for log driver local`
          : `unknown log opt '${key}' for ${driver} log driver`,
      );
    }
  }
  if (driver === 'none') return { driver };
  const local = driver === 'local';
  let maxSize = local ? 20 * MIB : -1;
  if (config['max-size'] !== undefined) {
    maxSize = ramInBytes(config['max-size']);
    if (maxSize <= 0) throw invalidParameter('max-size must be a positive number');
  }
  let maxFiles = local ? 5 : 1;
  if (config['max-file'] !== undefined) {
    const v = config['max-file'];
    if (!/^-?\d+$/.test(v)) throw invalidParameter(`strconv.Atoi: parsing "${v}": invalid syntax`);
    maxFiles = Number(v);
    if (maxFiles < 1) throw invalidParameter('max-file cannot be less than 1');
  }
  const compress = config.compress !== undefined ? parseBool('compress', config.compress) : local;
  if (compress && !local && (maxFiles === 1 || maxSize === -1)) {
    throw invalidParameter('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
  if (maxSize <= 0) return { driver };
  return { driver, rotate: { maxSize, maxFiles, compress: compress && maxFiles > 1 } };
}

/**
 * dockerd's mergeAndVerifyLogConfig: an empty type takes the daemon's default driver, and a
 * container using the daemon's default driver inherits the daemon's options it does not set.
 */
export function mergeLogConfig(
  cfg: { Type?: string; Config?: Record<string, string> } | undefined,
  daemon: { type: string; config: Record<string, string> },
): { Type: string; Config: Record<string, string> } {
  const type = cfg?.Type || daemon.type;
  const config = { ...(cfg?.Config ?? {}) };
  if (type === daemon.type) {
    for (const [k, v] of Object.entries(daemon.config)) if (!(k in config)) config[k] = v;
  }
  return { Type: type, Config: config };
}
