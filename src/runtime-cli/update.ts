/**
 * `berth-runtime update`: runc's update flags (or `-r FILE|-`, the OCI LinuxResources as JSON,
 * in which case the flags are ignored) turned into the resources to write. As with runc, a zero
 * or absent value leaves that limit as it is; "-1" for a memory value means unlimited.
 */
import type { LinuxResources } from '../oci/index.ts';
import type { OptionDef, Parsed } from './args.ts';

export class UpdateError extends Error {}

export const UPDATE_OPTIONS: OptionDef[] = [
  { name: 'resources', alias: 'r', kind: 'string' },
  { name: 'blkio-weight', kind: 'string' },
  { name: 'cpu-period', kind: 'string' },
  { name: 'cpu-quota', kind: 'string' },
  { name: 'cpu-share', kind: 'string' },
  { name: 'cpu-rt-period', kind: 'string' },
  { name: 'cpu-rt-runtime', kind: 'string' },
  { name: 'cpuset-cpus', kind: 'string' },
  { name: 'cpuset-mems', kind: 'string' },
  { name: 'kernel-memory', kind: 'string' },
  { name: 'kernel-memory-tcp', kind: 'string' },
  { name: 'memory', kind: 'string' },
  { name: 'memory-reservation', kind: 'string' },
  { name: 'memory-swap', kind: 'string' },
  { name: 'pids-limit', kind: 'string' },
  { name: 'l3-cache-schema', kind: 'string' },
  { name: 'mem-bw-schema', kind: 'string' },
];

const UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: "64m", "1.5g", "512", "2GiB" (binary units). */
export function ramInBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw new UpdateError(`invalid size: '${text}'`);
  return Math.trunc(Number.parseFloat(m[1]!) * (m[2] ? UNITS[m[2].toLowerCase()]! : 1));
}

function parseUint(opt: string, text: string): number {
  if (!/^\d+$/.test(text))
    throw new UpdateError(
      `invalid value for ${opt}: strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`,
    );
  return Number(text);
}

function parseInt64(opt: string, text: string): number {
  if (!/^[+-]?\d+$/.test(text))
    throw new UpdateError(
      `invalid value for ${opt}: strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`,
    );
  return Number(text);
}

/** urfave/cli's IntFlag: a Go int, or its parse error. */
function intFlag(opt: string, text: string): number {
  if (!/^[+-]?\d+$/.test(text))
    throw new UpdateError(`invalid value ${JSON.stringify(text)} for flag -${opt}: parse error`);
  return Number(text);
}

/** The resources the flags ask for (only what they set). Warnings are runc's, for ignored flags. */
export function resourcesFromFlags(p: Parsed, warn: (msg: string) => void): LinuxResources {
  const s = (name: string) => {
    const v = p.strings.get(name);
    return v === undefined || v === '' ? undefined : v;
  };
  const r: LinuxResources = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  const weight = s('blkio-weight');
  if (weight !== undefined && intFlag('blkio-weight', weight) !== 0) r.blockIO = { weight: Number(weight) };
  if (s('cpuset-cpus')) cpu.cpus = s('cpuset-cpus')!;
  if (s('cpuset-mems')) cpu.mems = s('cpuset-mems')!;
  for (const [opt, key] of [
    ['cpu-period', 'period'],
    ['cpu-rt-period', 'realtimePeriod'],
    ['cpu-share', 'shares'],
  ] as const) {
    const v = s(opt);
    if (v !== undefined) cpu[key] = parseUint(opt, v);
  }
  for (const [opt, key] of [
    ['cpu-quota', 'quota'],
    ['cpu-rt-runtime', 'realtimeRuntime'],
  ] as const) {
    const v = s(opt);
    if (v !== undefined) cpu[key] = parseInt64(opt, v);
  }
  for (const [opt, key] of [
    ['memory', 'limit'],
    ['memory-swap', 'swap'],
    ['memory-reservation', 'reservation'],
  ] as const) {
    const v = s(opt);
    if (v === undefined) continue;
    try {
      memory[key] = v === '-1' ? -1 : ramInBytes(v);
    } catch (err) {
      throw new UpdateError(`invalid value for ${opt}: ${(err as Error).message}`);
    }
  }
  if (s('kernel-memory') !== undefined || s('kernel-memory-tcp') !== undefined)
    warn('Kernel memory settings are ignored and will be removed');
  const pids = s('pids-limit');
  if (pids !== undefined && intFlag('pids-limit', pids) !== 0) r.pids = { limit: Number(pids) };
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (Object.keys(memory).length) r.memory = memory;
  return r;
}

/**
 * `-r`'s JSON (runc decodes it into the OCI LinuxResources): the fields runc's update applies,
 * zero values dropped (they leave the limit as it is).
 */
export function resourcesFromJson(text: string): LinuxResources {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UpdateError((err as Error).message);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UpdateError('json: cannot unmarshal into Go value of type specs.LinuxResources');
  const obj = raw as Record<string, Record<string, unknown> | undefined>;
  const num = (section: string, key: string, signed: boolean): number | undefined => {
    const v = obj[section]?.[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || (!signed && v < 0))
      throw new UpdateError(
        `json: cannot unmarshal ${typeof v === 'number' ? 'number' : typeof v} into Go struct field ${section}.${key}`,
      );
    return v === 0 ? undefined : v;
  };
  const str = (section: string, key: string): string | undefined => {
    const v = obj[section]?.[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string')
      throw new UpdateError(
        `json: cannot unmarshal ${typeof v} into Go struct field ${section}.${key} of type string`,
      );
    return v;
  };
  const r: LinuxResources = {};
  const memory = {
    limit: num('memory', 'limit', true),
    reservation: num('memory', 'reservation', true),
    swap: num('memory', 'swap', true),
  };
  const cpu = {
    shares: num('cpu', 'shares', false),
    quota: num('cpu', 'quota', true),
    period: num('cpu', 'period', false),
    realtimeRuntime: num('cpu', 'realtimeRuntime', true),
    realtimePeriod: num('cpu', 'realtimePeriod', false),
    cpus: str('cpu', 'cpus'),
    mems: str('cpu', 'mems'),
  };
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  if (Object.keys(defined(memory)).length) r.memory = defined(memory);
  if (Object.keys(defined(cpu)).length) r.cpu = defined(cpu);
  const weight = num('blockIO', 'weight', false);
  if (weight !== undefined) r.blockIO = { weight };
  const pids = num('pids', 'limit', true);
  if (pids !== undefined) r.pids = { limit: pids };
  const unified = obj.unified;
  if (unified && typeof unified === 'object' && Object.keys(unified).length)
    r.unified = unified as Record<string, string>;
  return r;
}
