/**
 * daemon.json "builder" (moby daemon/config/builder.go). Keys match case-insensitively, as Go's
 * encoding/json matches them. What berth does with it: `gc` drives the classic builder's step
 * cache collection (engine/build/build-cache-gc.ts). `entitlements` and `history` configure
 * BuildKit, which berth does not serve: refused rather than ignored.
 */
import { invalidParameter } from '../common/index.ts';
import { type BuildCacheGcPolicy, type BuildCacheGcRule, checkGcFilters } from '../engine/index.ts';

export type BuilderGcConfig = BuildCacheGcPolicy;

type Obj = Record<string, unknown>;

/** The value of `key` in `obj`, matched as Go matches JSON field names (case-insensitive). */
function field(obj: Obj, key: string): unknown {
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : obj[k];
}

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(obj: Obj, where: string, keys: string[]): void {
  const known = new Set(keys.map((k) => k.toLowerCase()));
  const bad = Object.keys(obj).filter((k) => !known.has(k.toLowerCase()));
  if (bad.length) throw invalidParameter(`${where}: unknown option ${bad.join(', ')}`);
}

/**
 * BuildKit's disk-space syntax: bytes as a number or with a unit (`20GB`, `512MiB`; go-units
 * RAMInBytes: binary multiples), or a percentage of the disk, which berth refuses.
 */
export function parseSpace(v: unknown, where: string): number {
  if (v === undefined || v === '' || v === null) return 0;
  if (typeof v !== 'string') throw invalidParameter(`${where}: invalid size ${JSON.stringify(v)}`);
  if (v.trim().endsWith('%'))
    throw invalidParameter(`${where}: a percentage of the disk is not supported by berth: ${v}`);
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$/i.exec(v.trim());
  if (!m) throw invalidParameter(`${where}: invalid size: '${v}'`);
  const mult: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  return Math.floor(Number(m[1]) * (mult[m[2]!.toLowerCase()] ?? 1));
}

/** A GC filter list: `["unused-for=48h", "type=regular"]` (or moby's older `{"unused-for": {"48h": true}}`). */
function parseFilters(v: unknown, where: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (k: string, val: string) => {
    const key = k.trim().toLowerCase();
    out[key] = [...(out[key] ?? []), val.trim()];
  };
  if (v === undefined || v === null) return out;
  if (Array.isArray(v)) {
    for (const s of v) {
      if (typeof s !== 'string') throw invalidParameter(`${where}: filters must be strings`);
      const i = s.indexOf('=');
      add(i < 0 ? s : s.slice(0, i), i < 0 ? '' : s.slice(i + 1));
    }
  } else if (isObj(v)) {
    for (const [k, vals] of Object.entries(v)) {
      if (!isObj(vals)) throw invalidParameter(`${where}: invalid filter ${k}`);
      for (const val of Object.keys(vals)) add(k, val);
    }
  } else throw invalidParameter(`${where}: filter must be a list of key=value`);
  checkGcFilters(out);
  return out;
}

function parseRule(v: unknown, i: number): BuildCacheGcRule {
  const where = `builder.gc.policy[${i}]`;
  if (!isObj(v)) throw invalidParameter(`${where}: not an object`);
  onlyKeys(v, where, ['All', 'Filter', 'ReservedSpace', 'MaxUsedSpace', 'MinFreeSpace', 'KeepStorage']);
  const all = field(v, 'All');
  if (all !== undefined && typeof all !== 'boolean')
    throw invalidParameter(`${where}: All must be a boolean`);
  return {
    all: all === true,
    filters: parseFilters(field(v, 'Filter'), where),
    reservedSpace: parseSpace(field(v, 'ReservedSpace') || field(v, 'KeepStorage'), `${where}.reservedSpace`),
    maxUsedSpace: parseSpace(field(v, 'MaxUsedSpace'), `${where}.maxUsedSpace`),
    minFreeSpace: parseSpace(field(v, 'MinFreeSpace'), `${where}.minFreeSpace`),
  };
}

/**
 * moby's DefaultGCPolicy for the rules that can select a classic step record (the first rule
 * selects BuildKit-only record types). Without any default space, the rules reserve a share of
 * the disk, which the step cache (no bytes of its own) never reaches: no rules.
 */
function defaultRules(reservedSpace: number, maxUsedSpace: number, minFreeSpace: number): BuildCacheGcRule[] {
  if (reservedSpace === 0 && maxUsedSpace === 0 && minFreeSpace === 0) return [];
  const limits = { reservedSpace, maxUsedSpace, minFreeSpace };
  return [
    { all: false, filters: { 'unused-for': ['1440h'] }, ...limits },
    { all: false, filters: {}, ...limits },
    { all: true, filters: {}, ...limits },
  ];
}

/** The GC policy from "builder" (moby getGCPolicy): the given rules, else the default ones. */
export function parseBuilderConfig(raw: Obj | undefined): BuilderGcConfig {
  if (raw === undefined) return { enabled: false, rules: [] };
  onlyKeys(raw, 'builder', ['GC', 'Entitlements', 'History']);
  for (const k of ['Entitlements', 'History']) {
    if (field(raw, k) !== undefined) {
      throw invalidParameter(
        `builder.${k.toLowerCase()} configures BuildKit, which berth does not serve (it runs the classic builder)`,
      );
    }
  }
  const gc = field(raw, 'GC');
  if (gc === undefined) return { enabled: false, rules: [] };
  if (!isObj(gc)) throw invalidParameter('builder.gc: not an object');
  onlyKeys(gc, 'builder.gc', [
    'Enabled',
    'Policy',
    'DefaultReservedSpace',
    'DefaultMaxUsedSpace',
    'DefaultMinFreeSpace',
    'DefaultKeepStorage',
  ]);
  const enabled = field(gc, 'Enabled');
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw invalidParameter('builder.gc.enabled must be a boolean');
  }
  const reservedSpace = parseSpace(
    field(gc, 'DefaultReservedSpace') || field(gc, 'DefaultKeepStorage'),
    'builder.gc.defaultReservedSpace',
  );
  const maxUsedSpace = parseSpace(field(gc, 'DefaultMaxUsedSpace'), 'builder.gc.defaultMaxUsedSpace');
  const minFreeSpace = parseSpace(field(gc, 'DefaultMinFreeSpace'), 'builder.gc.defaultMinFreeSpace');
  const policy = field(gc, 'Policy');
  if (policy !== undefined && policy !== null && !Array.isArray(policy)) {
    throw invalidParameter('builder.gc.policy must be a list of rules');
  }
  if (Array.isArray(policy)) return { enabled: enabled !== false, rules: policy.map(parseRule) };
  return { enabled: enabled !== false, rules: defaultRules(reservedSpace, maxUsedSpace, minFreeSpace) };
}
