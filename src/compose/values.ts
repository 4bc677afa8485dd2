/**
 * Typed values as compose-go decodes them: durations (go-str2duration: ns…h plus d and w) kept as
 * Go's time.Duration.String() ("1m30s"), byte sizes (docker/go-units RAMInBytes: 1024-based
 * k/m/g/t/p, optional "b"/"ib") kept as a number of bytes, cpus as a number.
 */
import { invalidParameter } from '../common/errors.ts';
import type { Service } from './model.ts';

type Obj = Record<string, unknown>;

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86400e9,
  w: 7 * 86400e9,
};

/** "1m30s", "1.5h", "2d", 10 (seconds? no: a bare number is invalid unless 0) -> nanoseconds. */
export function parseDuration(v: unknown, where = 'duration'): number {
  const s = String(v).trim();
  if (s === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h|d|w)/gy;
  let total = 0;
  let pos = 0;
  let sign = 1;
  let body = s;
  if (body.startsWith('-') || body.startsWith('+')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  re.lastIndex = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  if (!body || pos !== body.length) throw invalidParameter(`${where}: time: invalid duration "${s}"`);
  return sign * Math.round(total);
}

function fmtFrac(v: number, prec: number): string {
  // v has `prec` digits of fraction; trailing zeros are dropped as Go does.
  const int = Math.floor(v / 10 ** prec);
  let frac = String(v % 10 ** prec).padStart(prec, '0');
  frac = frac.replace(/0+$/, '');
  return frac ? `${int}.${frac}` : String(int);
}

/** Go's time.Duration.String(). */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${fmtFrac(u, 3)}µs`;
    else out = `${fmtFrac(u, 6)}ms`;
  } else {
    const secNs = u % 60e9;
    out = `${fmtFrac(secNs, 9)}s`;
    u = Math.floor(u / 60e9);
    if (u > 0) {
      out = `${u % 60}m${out}`;
      u = Math.floor(u / 60);
      if (u > 0) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

export function normalizeDuration(v: unknown, where?: string): string {
  return formatDuration(parseDuration(v, where));
}

/** docker/go-units RAMInBytes: "512m", "1.5g", "100kb", 1024 -> bytes. */
export function ramInBytes(v: unknown, where = 'size'): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(String(v).trim());
  if (!m) throw invalidParameter(`${where}: invalid size: '${v}'`);
  const mult: Record<string, number> = {
    '': 1,
    k: 1024,
    m: 1024 ** 2,
    g: 1024 ** 3,
    t: 1024 ** 4,
    p: 1024 ** 5,
  };
  return Math.trunc(Number.parseFloat(m[1] as string) * (mult[(m[2] ?? '').toLowerCase()] as number));
}

function at(o: Obj | undefined, key: string, fn: (v: unknown) => unknown): void {
  if (o && o[key] !== undefined && o[key] !== null) o[key] = fn(o[key]);
}

/** Converts a service's typed values in place of a copy, as compose-go's decoder would. */
export function normalizeServiceValues(svc: Service, name: string): Service {
  const s = structuredClone(svc) as Obj;
  const p = `services.${name}`;
  const dur = (where: string) => (v: unknown) => normalizeDuration(v, `${p}.${where}`);
  const size = (where: string) => (v: unknown) => ramInBytes(v, `${p}.${where}`);
  at(s, 'stop_grace_period', dur('stop_grace_period'));
  for (const k of ['mem_limit', 'mem_reservation', 'memswap_limit', 'mem_swappiness', 'shm_size'])
    at(s, k, (v) => (k === 'memswap_limit' && Number(v) === -1 ? -1 : size(k)(v)));
  for (const k of ['cpus', 'cpu_percent']) at(s, k, Number);
  const h = s.healthcheck as Obj | undefined;
  for (const k of ['timeout', 'interval', 'start_period', 'start_interval'])
    at(h, k, dur(`healthcheck.${k}`));
  const d = s.deploy as Obj | undefined;
  const rp = d?.restart_policy as Obj | undefined;
  at(rp, 'delay', dur('deploy.restart_policy.delay'));
  at(rp, 'window', dur('deploy.restart_policy.window'));
  for (const u of ['update_config', 'rollback_config']) {
    const c = d?.[u] as Obj | undefined;
    at(c, 'delay', dur(`deploy.${u}.delay`));
    at(c, 'monitor', dur(`deploy.${u}.monitor`));
  }
  const res = d?.resources as Obj | undefined;
  for (const r of ['limits', 'reservations']) {
    const x = res?.[r] as Obj | undefined;
    at(x, 'memory', size(`deploy.resources.${r}.memory`));
    at(x, 'cpus', Number);
  }
  for (const v of (s.volumes as Obj[] | undefined) ?? [])
    at(v.tmpfs as Obj | undefined, 'size', size('volumes.tmpfs.size'));
  at(s.build as Obj | undefined, 'shm_size', size('build.shm_size'));
  const blkio = s.blkio_config as Obj | undefined;
  for (const k of ['device_read_bps', 'device_read_iops', 'device_write_bps', 'device_write_iops']) {
    for (const d of (blkio?.[k] as Obj[] | undefined) ?? []) at(d, 'rate', size(`blkio_config.${k}.rate`));
  }
  return s as Service;
}
