/**
 * `berth-runtime events`: runc's event stream for one container, one JSON object a line:
 * `{"type":"stats","id":…,"data":{…}}` every --interval (with --stats: once, then exit) and
 * `{"type":"oom","id":…}` when the kernel's OOM killer kills one of its processes.
 *
 * The stats object is runc's (types.Stats as runc 1.1 writes it): cpu, cpuset, memory, pids,
 * blkio, hugetlb, intel_rdt and network_interfaces, with Go's omitempty rules, read from the
 * cgroup files as runc's fs (v1) and fs2 (v2) managers read them. Counters are uint64 in runc:
 * they are kept as bigints so that e.g. an unlimited v1 memory limit prints as the kernel wrote it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Go's time.ParseDuration for the units runc users write: "5s", "1m30s", "500ms", "1.5s". */
export function parseDuration(text: string): number {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ms += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (!text || pos !== text.length) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return ms;
}

type Json = { [k: string]: unknown };

/** JSON with bigints written as plain numbers (as Go encodes uint64), one object a line. */
export function encodeEvent(event: Json): string {
  const text = JSON.stringify(event, (_k, v) => (typeof v === 'bigint' ? `\u0000big:${v}\u0000` : v));
  return `${text.replace(/"\\u0000big:(-?\d+)\\u0000"/g, '$1')}\n`;
}

function isEmpty(v: unknown): boolean {
  return (
    v === 0 ||
    v === 0n ||
    v === '' ||
    v === null ||
    v === undefined ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)
  );
}

/** Drops the `omitempty` keys that hold Go's zero value. */
function omit(o: Json, keys: string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (!(keys.includes(k) && isEmpty(v))) out[k] = v;
  return out;
}

const MAX_UINT64 = 18446744073709551615n;

/** A cgroup value: a number, or "max" (unlimited: Go's MaxUint64 as runc's fs2 reports it). */
function big(text: string | undefined): bigint {
  const t = (text ?? '').trim();
  if (t === 'max') return MAX_UINT64;
  return /^-?\d+$/.test(t) ? BigInt(t) : 0n;
}

const bigList = (text: string | undefined): bigint[] =>
  (text ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => big(t));

/** "0-2,4" as runc lists cpuset.cpus: [0,1,2,4]. */
export function expandCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a!; i <= (b ?? a!); i++) out.push(i);
  }
  return out;
}

function flatKeyed(text: string | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = big(v);
  }
  return out;
}

/** The cgroup's directories: one per v1 hierarchy (from its cgroup.procs files), one on v2. */
export class CgroupFiles {
  readonly #dirs: string[];
  constructor(procsFiles: string[]) {
    this.#dirs = procsFiles.map((f) => dirname(f));
  }
  /** The first directory that has `file`, and its content. */
  async read(file: string): Promise<string | undefined> {
    for (const d of this.#dirs) {
      const text = await readFile(join(d, file), 'utf8').catch(() => undefined);
      if (text !== undefined) return text;
    }
    return undefined;
  }
  async big(file: string): Promise<bigint> {
    return big(await this.read(file));
  }
  async list(prefix: string): Promise<{ dir: string; files: string[] } | undefined> {
    for (const d of this.#dirs) {
      const files = (await readdir(d).catch(() => [] as string[])).filter((f) => f.startsWith(prefix));
      if (files.length) return { dir: d, files };
    }
    return undefined;
  }
}

function memoryEntry(limit: bigint, usage: bigint, max: bigint, failcnt: bigint): Json {
  return omit({ limit, usage, max, failcnt }, ['usage', 'max']);
}

/** v1 blkio lines "8:0 Read 4096" as runc's BlkioEntry list (the "Total" line skipped). */
function blkioV1(text: string | undefined): Json[] {
  const out: Json[] = [];
  for (const line of (text ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    const m = parts.length === 3 ? /^(\d+):(\d+)$/.exec(parts[0]!) : null;
    if (!m) continue;
    out.push(
      omit({ major: big(m[1]), minor: big(m[2]), op: parts[1], value: big(parts[2]) }, [
        'major',
        'minor',
        'op',
        'value',
      ]),
    );
  }
  return out;
}

async function cpusetStats(f: CgroupFiles, v2: boolean): Promise<Json> {
  const n = async (name: string) => f.big(`cpuset.${name}`);
  return omit(
    {
      cpus: expandCpuList((await f.read(v2 ? 'cpuset.cpus.effective' : 'cpuset.cpus')) ?? ''),
      cpu_exclusive: await n('cpu_exclusive'),
      mems: expandCpuList((await f.read(v2 ? 'cpuset.mems.effective' : 'cpuset.mems')) ?? ''),
      mem_hardwall: await n('mem_hardwall'),
      mem_exclusive: await n('mem_exclusive'),
      memory_migrate: await n('memory_migrate'),
      memory_spread_page: await n('memory_spread_page'),
      memory_spread_slab: await n('memory_spread_slab'),
      memory_pressure: await n('memory_pressure'),
      sched_load_balance: await n('sched_load_balance'),
      sched_relax_domain_level: await n('sched_relax_domain_level'),
    },
    ['cpus', 'mems'],
  );
}

async function hugetlbStats(f: CgroupFiles, v2: boolean): Promise<Json> {
  const out: Json = {};
  const found = await f.list('hugetlb.');
  if (!found) return out;
  const read = async (file: string) =>
    big(await readFile(join(found.dir, file), 'utf8').catch(() => undefined));
  for (const file of found.files) {
    const m = (v2 ? /^hugetlb\.([^.]+)\.current$/ : /^hugetlb\.([^.]+)\.usage_in_bytes$/).exec(file);
    if (!m) continue;
    const size = m[1]!;
    out[size] = omit(
      {
        usage: await read(file),
        max: v2 ? 0n : await read(`hugetlb.${size}.max_usage_in_bytes`),
        failcnt: v2
          ? (flatKeyed(await readFile(join(found.dir, `hugetlb.${size}.events`), 'utf8').catch(() => ''))
              .max ?? 0n)
          : await read(`hugetlb.${size}.failcnt`),
      },
      ['usage', 'max'],
    );
  }
  return out;
}

/** runc's stats on cgroup v1 (libcontainer/cgroups/fs). */
async function statsV1(f: CgroupFiles): Promise<Json> {
  const ticks = flatKeyed(await f.read('cpuacct.stat'));
  const nsPerTick = 10_000_000n; // USER_HZ 100
  const cpuStat = flatKeyed(await f.read('cpu.stat'));
  const raw = flatKeyed(await f.read('memory.stat'));
  const m = async (file: string) => f.big(`memory.${file}`);
  const entry = async (p: string) =>
    memoryEntry(
      await m(`${p}limit_in_bytes`),
      await m(`${p}usage_in_bytes`),
      await m(`${p}max_usage_in_bytes`),
      await m(`${p}failcnt`),
    );
  // CFQ's recursive stats when it has them, else BFQ's, else the throttle policy's (as runc).
  const cfq = blkioV1(await f.read('blkio.io_serviced_recursive'));
  const bfq = cfq.length ? [] : blkioV1(await f.read('blkio.bfq.io_serviced_recursive'));
  const blkio = async (name: string) => blkioV1(await f.read(`blkio.${name}`));
  const blk: Json = cfq.length
    ? {
        ioServiceBytesRecursive: await blkio('io_service_bytes_recursive'),
        ioServicedRecursive: cfq,
        ioQueueRecursive: await blkio('io_queued_recursive'),
        ioServiceTimeRecursive: await blkio('io_service_time_recursive'),
        ioWaitTimeRecursive: await blkio('io_wait_time_recursive'),
        ioMergedRecursive: await blkio('io_merged_recursive'),
        ioTimeRecursive: await blkio('time_recursive'),
        sectorsRecursive: await blkio('sectors_recursive'),
      }
    : bfq.length
      ? {
          ioServiceBytesRecursive: await blkio('bfq.io_service_bytes_recursive'),
          ioServicedRecursive: bfq,
        }
      : {
          ioServiceBytesRecursive: await blkio('throttle.io_service_bytes_recursive'),
          ioServicedRecursive: await blkio('throttle.io_serviced_recursive'),
        };
  return {
    cpu: {
      usage: omit(
        {
          total: await f.big('cpuacct.usage'),
          percpu: bigList(await f.read('cpuacct.usage_percpu')),
          percpu_kernel: bigList(await f.read('cpuacct.usage_percpu_sys')),
          percpu_user: bigList(await f.read('cpuacct.usage_percpu_user')),
          kernel: (ticks.system ?? 0n) * nsPerTick,
          user: (ticks.user ?? 0n) * nsPerTick,
        },
        ['total', 'percpu', 'percpu_kernel', 'percpu_user'],
      ),
      throttling: omit(
        {
          periods: cpuStat.nr_periods ?? 0n,
          throttledPeriods: cpuStat.nr_throttled ?? 0n,
          throttledTime: cpuStat.throttled_time ?? 0n,
        },
        ['periods', 'throttledPeriods', 'throttledTime'],
      ),
    },
    cpuset: await cpusetStats(f, false),
    memory: omit(
      {
        cache: raw.cache ?? 0n,
        usage: await entry(''),
        swap: await entry('memsw.'),
        kernel: await entry('kmem.'),
        kernelTCP: await entry('kmem.tcp.'),
        raw,
      },
      ['cache', 'raw'],
    ),
    pids: omit({ current: await f.big('pids.current'), limit: pidsLimit(await f.read('pids.max')) }, [
      'current',
      'limit',
    ]),
    blkio: omit(blk, Object.keys(blk)),
    hugetlb: await hugetlbStats(f, false),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** pids.max: "max" is no limit (runc reports 0, omitted). */
function pidsLimit(text: string | undefined): bigint {
  return (text ?? '').trim() === 'max' ? 0n : big(text);
}

/** runc's stats on cgroup v2 (libcontainer/cgroups/fs2). */
async function statsV2(f: CgroupFiles): Promise<Json> {
  const cpu = flatKeyed(await f.read('cpu.stat'));
  const raw = flatKeyed(await f.read('memory.stat'));
  const events = flatKeyed(await f.read('memory.events'));
  const usage = await f.big('memory.current');
  const limit = await f.big('memory.max');
  const swapUsage = (await f.big('memory.swap.current')) + usage;
  let swapLimit = await f.big('memory.swap.max');
  if (swapLimit !== MAX_UINT64) swapLimit += limit;
  const bytes: Json[] = [];
  const ios: Json[] = [];
  for (const line of ((await f.read('io.stat')) ?? '').split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = dev ? /^(\d+):(\d+)$/.exec(dev) : null;
    if (!m) continue;
    for (const field of fields) {
      const [key, value] = field.split('=');
      const op = { rbytes: 'Read', wbytes: 'Write', rios: 'Read', wios: 'Write' }[key ?? ''];
      if (!op) continue;
      const e = omit({ major: big(m[1]), minor: big(m[2]), op, value: big(value) }, [
        'major',
        'minor',
        'op',
        'value',
      ]);
      (key!.endsWith('bytes') ? bytes : ios).push(e);
    }
  }
  return {
    cpu: {
      usage: omit(
        {
          total: (cpu.usage_usec ?? 0n) * 1000n,
          kernel: (cpu.system_usec ?? 0n) * 1000n,
          user: (cpu.user_usec ?? 0n) * 1000n,
        },
        ['total'],
      ),
      throttling: omit(
        {
          periods: cpu.nr_periods ?? 0n,
          throttledPeriods: cpu.nr_throttled ?? 0n,
          throttledTime: (cpu.throttled_usec ?? 0n) * 1000n,
        },
        ['periods', 'throttledPeriods', 'throttledTime'],
      ),
    },
    cpuset: await cpusetStats(f, true),
    memory: omit(
      {
        cache: raw.file ?? 0n,
        usage: memoryEntry(limit, usage, 0n, events.max ?? 0n),
        swap: memoryEntry(swapLimit, swapUsage, 0n, 0n),
        kernel: memoryEntry(0n, 0n, 0n, 0n),
        kernelTCP: memoryEntry(0n, 0n, 0n, 0n),
        raw,
      },
      ['cache', 'raw'],
    ),
    pids: omit({ current: await f.big('pids.current'), limit: pidsLimit(await f.read('pids.max')) }, [
      'current',
      'limit',
    ]),
    blkio: omit({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios }, [
      'ioServiceBytesRecursive',
      'ioServicedRecursive',
    ]),
    hugetlb: await hugetlbStats(f, true),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** runc's stats object for a container's cgroup. */
export async function runcStats(procsFiles: string[], version: 1 | 2): Promise<Json> {
  const f = new CgroupFiles(procsFiles);
  return version === 1 ? await statsV1(f) : await statsV2(f);
}

/** How many times the OOM killer has killed in the cgroup (v1 memory.oom_control, v2 memory.events). */
export async function oomKills(procsFiles: string[], version: 1 | 2): Promise<bigint> {
  const f = new CgroupFiles(procsFiles);
  const text = await f.read(version === 1 ? 'memory.oom_control' : 'memory.events');
  return flatKeyed(text).oom_kill ?? 0n;
}
