/**
 * Value parsers for commander options, failing with pflag's wording so the usage error reads
 * like docker's: `invalid argument "12x" for "-m, --memory" flag: invalid suffix: 'x'`.
 */
import { InvalidArgumentError } from 'commander';
import { parseGoDuration, ramInBytes } from './units.ts';

/** Appends a repeated flag's value (`-e A=1 -e B=2`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Appends comma-separated values (pflag StringSlice flags such as `ps --filter` do not; only flags that split use this). */
export function collectCsv(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((v) => v !== '')];
}

export function parseInteger(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  }
  return Number(value);
}

export function parseUnsigned(value: string): number {
  if (!/^\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`strconv.ParseUint: parsing "${value}": invalid syntax`);
  }
  return Number(value);
}

/** opts.MemBytes: RAMInBytes. */
export function parseBytes(value: string): number {
  try {
    return ramInBytes(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** opts.MemSwapBytes: like parseBytes, and `-1` means unlimited. */
export function parseSwapBytes(value: string): number {
  if (value === '-1') return -1;
  return parseBytes(value);
}

/** opts.NanoCPUs: a decimal number of CPUs → nanocpus; more than 9 decimals is "too precise". */
export function parseNanoCpus(value: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || (m[1] === '' && !m[2]))
    throw new InvalidArgumentError(`failed to parse ${value} as a rational number`);
  const frac = m[2] ?? '';
  if (frac.replace(/0+$/, '').length > 9) throw new InvalidArgumentError('value is too precise');
  return Number(m[1] || '0') * 1e9 + Number(frac.padEnd(9, '0').slice(0, 9) || '0');
}

/** A Go duration flag, stored in nanoseconds as the API wants. */
export function parseDurationNanos(value: string): number {
  try {
    return Math.round(parseGoDuration(value) * 1e6);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
