/**
 * Query-string parsing with Docker's rules (moby api/server/httputils/form.go and
 * api/types/filters). Every parse error is an InvalidParameter, so it answers 400.
 */
import { invalidParameter } from '../../common/index.ts';
import type { Filters } from '../../engine/index.ts';

/**
 * moby httputils.BoolValue: a parameter is true unless it is absent, empty, "0", "no", "false"
 * or "none" (case-insensitive, surrounding spaces ignored). So `?all=1`, `?all=True` and
 * `?all=yes` are all true.
 */
export function boolValue(query: URLSearchParams, key: string): boolean {
  const s = (query.get(key) ?? '').trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/** Like boolValue, but `fallback` when the parameter is absent or empty (moby BoolValueOrDefault). */
export function boolValueOr(query: URLSearchParams, key: string, fallback: boolean): boolean {
  const s = query.get(key);
  return s === null || s === '' ? fallback : boolValue(query, key);
}

/**
 * An integer parameter, or undefined when absent or empty. A value that is not an integer is a
 * 400 with Go's strconv wording, as Docker reports it (`strconv.Atoi: parsing "x": invalid syntax`).
 */
export function intValue(query: URLSearchParams, key: string): number | undefined {
  const s = query.get(key);
  if (s === null || s === '') return undefined;
  if (!/^[+-]?\d+$/.test(s)) throw invalidParameter(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n))
    throw invalidParameter(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  return n;
}

/**
 * A Unix timestamp parameter (`since`/`until` of /events and /logs): seconds with an optional
 * fraction (`1700000000.123456789`), as the docker CLI sends after resolving durations and dates.
 * Returns undefined when absent or empty.
 */
export function timestampValue(query: URLSearchParams, key: string): number | undefined {
  const s = query.get(key);
  if (s === null || s === '') return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(s)) {
    throw invalidParameter(`invalid value for ${key}: ${goQuote(s)} is not a Unix timestamp`);
  }
  return Number(s);
}

/**
 * Decodes Docker's `filters` parameter (moby filters.FromJSON). Both forms are accepted:
 * the current `{"status":{"running":true}}` map-of-sets and the legacy `{"status":["running"]}`.
 * In the map form every key counts whatever its boolean, as moby's Args.Get does.
 */
export function filtersValue(query: URLSearchParams, key = 'filters'): Filters {
  const raw = query.get(key);
  if (raw === null || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter(`invalid filter '${raw}'`);
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidParameter(`invalid filter '${raw}'`);
  const filters: Filters = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      filters[name] = [...value];
    } else if (value === null) {
      filters[name] = [];
    } else if (typeof value === 'object' && Object.values(value).every((v) => typeof v === 'boolean')) {
      filters[name] = Object.keys(value);
    } else {
      throw invalidParameter(`invalid filter '${raw}'`);
    }
  }
  return filters;
}

/** Go's %q for the ASCII strings we quote in messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
