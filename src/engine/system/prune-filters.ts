/** The `until` and `label`/`label!` filters the prune endpoints share (moby daemon/prune.go). */
import { invalidParameter } from '../../common/index.ts';
import type { Filters } from '../engine.ts';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds; undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * UNIT_MS[part[2]!]!;
  }
  return m[1] === '-' ? -total : total;
}

/**
 * timetypes.GetTimestamp as the daemon applies it to `until`: a Go duration counts back from
 * `now`; otherwise a Unix timestamp (seconds, optional fraction) or an RFC 3339 date/time.
 * Returns milliseconds since the epoch.
 */
export function untilTime(value: string, now: number = Date.now()): number {
  if (value !== '0') {
    const d = parseGoDuration(value);
    if (d !== undefined) return now - d;
  }
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw invalidParameter(`failed to parse value as time or duration: "${value}"`);
}

/** `key` or `key=value` against a label map. */
function matchKV(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Every `label` filter matches, and not every `label!` filter does (moby matchLabels). */
export function labelsMatch(labels: Record<string, string>, filters: Filters): boolean {
  if (!(filters.label ?? []).every((f) => matchKV(labels, f))) return false;
  const not = filters['label!'] ?? [];
  if (not.length > 0 && not.every((f) => matchKV(labels, f))) return false;
  return true;
}
