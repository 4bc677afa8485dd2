/**
 * Garbage collection of the classic builder's step cache by daemon.json's "builder.gc" rules
 * (moby daemon/config/builder.go, applied as BuildKit applies its GC policy): each rule removes
 * the records its filters select while the cache uses more than the rule's max-used space or the
 * disk has less than its min-free space, never going below its reserved space; a rule without
 * limits removes all it selects. A step record holds no bytes of its own (its image's layers
 * belong to the image store; /system/df shows Size 0): a reserved or max-used space is never
 * exceeded, so such rules remove nothing; a min-free rule removes what it selects while the disk
 * is short.
 */
import { invalidParameter } from '../../common/index.ts';

export interface BuildCacheGcRule {
  /** BuildKit's `all`: include records shared with other builds (every classic record is). */
  all: boolean;
  /** BuildKit filter syntax: `unused-for=48h`, `until=24h`, `id=…`, `type=regular`, `inuse`, `shared`, `private`. */
  filters: Record<string, string[]>;
  reservedSpace: number;
  maxUsedSpace: number;
  minFreeSpace: number;
}

export interface BuildCacheGcPolicy {
  enabled: boolean;
  rules: BuildCacheGcRule[];
}

export interface GcRecord {
  key: string;
  created: Date;
  lastUsed: Date;
}

export const GC_FILTERS = new Set(['unused-for', 'until', 'id', 'type', 'inuse', 'shared', 'private']);

/** Go's time.ParseDuration (`1h30m`, `90s`, `2200h`), in milliseconds. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 36e5 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  if (text === '0') return 0;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== text.length) throw invalidParameter(`time: invalid duration "${text}"`);
  return total;
}

/** Checks a rule's filters (at start, so a typo fails berthd rather than a GC run). */
export function checkGcFilters(filters: Record<string, string[]>): void {
  for (const [k, values] of Object.entries(filters)) {
    if (!GC_FILTERS.has(k))
      throw invalidParameter(`builder.gc: filter ${k} is not supported (use ${[...GC_FILTERS].join(', ')})`);
    for (const v of values) if (k === 'unused-for' || k === 'until') parseGoDuration(v);
  }
}

function matches(rec: GcRecord, rule: BuildCacheGcRule, now: number): boolean {
  for (const [k, values] of Object.entries(rule.filters)) {
    const ok = values.every((v) => {
      switch (k) {
        case 'unused-for':
          return now - rec.lastUsed.getTime() >= parseGoDuration(v);
        case 'until':
          return now - rec.created.getTime() >= parseGoDuration(v);
        case 'id':
          return rec.key === v || rec.key.startsWith(v);
        case 'type':
          return v === 'regular';
        case 'inuse':
          return v === 'false';
        case 'shared':
          return v !== 'false';
        case 'private':
          return v === 'false';
        default:
          return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** The records the policy removes now (`diskFree`: bytes free where the cache lives). */
export function selectForGc(
  records: GcRecord[],
  policy: BuildCacheGcPolicy,
  diskFree: number,
  now = Date.now(),
): string[] {
  if (!policy.enabled) return [];
  const out = new Set<string>();
  const used = 0; // a step record holds no bytes of its own
  for (const rule of policy.rules) {
    // BuildKit: never below reservedSpace; above maxUsedSpace, or with less than minFreeSpace
    // free on the disk, remove what the rule selects; a rule without limits removes it all.
    if (rule.reservedSpace > 0 && used <= rule.reservedSpace) continue;
    const limited = rule.maxUsedSpace > 0 || rule.minFreeSpace > 0;
    const over = rule.maxUsedSpace > 0 && used > rule.maxUsedSpace;
    const short = rule.minFreeSpace > 0 && diskFree < rule.minFreeSpace;
    if (limited && !over && !short) continue;
    for (const rec of records) if (!out.has(rec.key) && matches(rec, rule, now)) out.add(rec.key);
  }
  return [...out];
}
