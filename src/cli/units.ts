/**
 * Docker's unit helpers (github.com/docker/go-units): byte sizes in and out, human durations,
 * Go durations, and the timestamps `--since`/`--until` accept (docker/cli timetypes).
 */

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

function parseSize(input: string, units: Record<string, number>): number {
  // go-units parseSize: the number ends at the last digit, dot or space; the rest is the suffix.
  let sep = -1;
  for (let i = input.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(input[i] as string)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${input}'`);
  const num = input[sep] === ' ' ? input.slice(0, sep) : input.slice(0, sep + 1);
  let sfx = input.slice(sep + 1);
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) {
    throw new Error(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  }
  let size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${input}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = units[sfx[0] as string];
  if (mul === undefined) throw bad();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** go-units RAMInBytes: `64m` → 67108864 (binary multipliers, optional b/ib suffix). */
export function ramInBytes(input: string): number {
  return parseSize(input, BINARY);
}

/** go-units FromHumanSize: decimal multipliers (`1kB` → 1000). */
export function fromHumanSize(input: string): number {
  return parseSize(input, DECIMAL);
}

/**
 * Go's `%.<p>g`: shortest of %e/%f at `p` significant digits with trailing zeros removed, and
 * exponents written with at least two digits (`1e+03`).
 */
export function formatGoG(x: number, precision: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  const expForm = x.toExponential(Math.max(precision - 1, 0));
  const [mantissa = '', expText = '0'] = expForm.split('e');
  const exp = Number(expText);
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= precision) {
    const sign = exp < 0 ? '-' : '+';
    return `${strip(mantissa)}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return strip(x.toFixed(Math.max(precision - 1 - exp, 0)));
}

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, abbrs: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return [size, abbrs[i] as string];
}

/** go-units HumanSizeWithPrecision (decimal units): 4261000 → "4.26MB" at precision 3. */
export function humanSize(bytes: number, precision = 4): string {
  const [size, unit] = sizeAndUnit(bytes, 1000, DECIMAL_ABBRS);
  return `${formatGoG(size, precision)}${unit}`;
}

/** go-units BytesSize (binary units, `%.4g`): 1048576 → "1MiB". */
export function bytesSize(bytes: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1024, BINARY_ABBRS);
  return `${formatGoG(size, 4)}${unit}`;
}

/** go-units HumanDuration (ms in): "Less than a second", "About a minute", "3 hours", … */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

const GO_DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds (`1h30m`, `1.5s`, `-10m`). */
export function parseGoDuration(input: string): number {
  const orig = input;
  let s = input;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration "${orig}"`);
  let total = 0;
  while (s) {
    const m = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/.exec(s);
    if (!m || m[1] === '' || m[1] === '.') {
      if (m && /^(\d*\.?\d*)$/.test(s)) throw new Error(`time: missing unit in duration "${orig}"`);
      const unit = /^[\d.]*([^\d.]*)/.exec(s)?.[1];
      if (unit && m === null && /^\d/.test(s))
        throw new Error(`time: unknown unit "${unit}" in duration "${orig}"`);
      if (/^[\d.]+$/.test(s)) throw new Error(`time: missing unit in duration "${orig}"`);
      throw new Error(`time: invalid duration "${orig}"`);
    }
    total += Number(m[1]) * (GO_DURATION_UNITS[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/**
 * docker/cli timetypes.GetTimestamp: `--since`/`--until` values become the API's
 * `seconds[.nanoseconds]` string. Accepts Unix timestamps, RFC3339 (with or without zone,
 * date only) and Go durations relative to `now` (`10m` means ten minutes ago).
 */
export function toApiTimestamp(value: string, now: Date = new Date()): string {
  if (value === '') return '';
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  if (/^-?[\d.]+(ns|us|µs|ms|s|m|h)/.test(value)) {
    let ms: number | undefined;
    try {
      ms = parseGoDuration(value);
    } catch {
      ms = undefined;
    }
    if (ms !== undefined) return secondsString(now.getTime() - ms);
  }
  let text = value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00';
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  if (!/T/.test(text) || Number.isNaN(Date.parse(hasZone ? text : `${text}Z`))) {
    throw new Error(`failed to parse value as time or duration: "${value}"`);
  }
  // Docker interprets a timestamp without zone in the local time zone.
  const parsed = hasZone ? Date.parse(text) : new Date(text).getTime();
  const nanos = /\.(\d{1,9})/.exec(text)?.[1];
  const seconds = Math.floor(parsed / 1000);
  return nanos ? `${seconds}.${nanos.padEnd(9, '0')}` : `${seconds}.000000000`;
}

function secondsString(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return `${seconds}.${String(nanos).padStart(9, '0')}`;
}
