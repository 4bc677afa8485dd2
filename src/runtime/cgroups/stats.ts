import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

/**
 * Resource usage of one cgroup, shaped after what Docker's GET /containers/{id}/stats reports
 * (memory_stats, cpu_stats, pids_stats, blkio_stats) so the engine maps it field by field.
 * Times are nanoseconds, sizes bytes. `null` limits mean unlimited.
 */
export interface CgroupStats {
  memory: {
    /** v1 memory.usage_in_bytes, v2 memory.current. */
    usage: number;
    /** v1 memory.max_usage_in_bytes, v2 memory.peak (null where the kernel has none). */
    maxUsage: number | null;
    limit: number | null;
    /** v1 memory.failcnt; v2 memory.events "max" (times the limit was hit). */
    failcnt: number;
    /** v2 memory.events "oom" (Docker's failcnt on cgroup v2); absent on v1. */
    oomEvents?: number;
    /** Memory + swap usage as v1 memsw reports it (v2: memory.current + memory.swap.current); null without swap accounting. */
    swapUsage: number | null;
    swapLimit: number | null;
    /** memory.stat as the kernel writes it (v1: cache, rss, total_*; v2: anon, file, …). */
    stats: Record<string, number>;
  };
  cpu: {
    totalUsage: number;
    /** Per-CPU usage (v1 cpuacct.usage_percpu); empty on v2, as Docker reports it there. */
    perCpuUsage: number[];
    usageInKernelmode: number;
    usageInUsermode: number;
    /** Host CPU time from /proc/stat, Docker's system_cpu_usage. */
    systemUsage: number;
    onlineCpus: number;
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  pids: { current: number; limit: number | null };
  blkio: { ioServiceBytesRecursive: BlkioStatEntry[]; ioServicedRecursive: BlkioStatEntry[] };
}

export interface BlkioStatEntry {
  major: number;
  minor: number;
  /** v1: "Read", "Write", "Sync", "Async", "Discard", "Total"; v2: "read", "write" (as Docker reports them). */
  op: string;
  value: number;
}

/** USER_HZ: the unit of /proc/stat and cpuacct.stat (100 on every Linux architecture we run on). */
const clockTicksPerSecond = 100;
export const nanosecondsPerTick = 1e9 / clockTicksPerSecond;

/**
 * Host CPU time in nanoseconds: the sum of the first seven fields of /proc/stat's "cpu" line
 * (user nice system idle iowait irq softirq), as Docker's getSystemCPUUsage computes it.
 */
export async function readSystemCpuUsage(procStat = '/proc/stat'): Promise<number> {
  const text = await readFile(procStat, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const ticks = line
    .split(/\s+/)
    .slice(1, 8)
    .reduce((sum, f) => sum + Number(f || 0), 0);
  return ticks * nanosecondsPerTick;
}

export function onlineCpus(): number {
  return availableParallelism();
}

/** v1 blkio files: "8:0 Read 4096" lines (and a trailing "Total N", skipped). */
export function parseBlkioV1(text: string): BlkioStatEntry[] {
  const out: BlkioStatEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [dev, op, value] = parts as [string, string, string];
    const m = /^(\d+):(\d+)$/.exec(dev);
    if (!m) continue;
    out.push({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(value) });
  }
  return out;
}

/**
 * v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. Bytes go to
 * ioServiceBytesRecursive and ios to ioServicedRecursive with ops "read"/"write", as Docker maps them.
 */
export function parseIoStatV2(text: string): CgroupStats['blkio'] {
  const bytes: BlkioStatEntry[] = [];
  const ios: BlkioStatEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = dev ? /^(\d+):(\d+)$/.exec(dev) : null;
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    for (const field of fields) {
      const [key, value] = field.split('=');
      const v = Number(value);
      if (key === 'rbytes') bytes.push({ major, minor, op: 'read', value: v });
      else if (key === 'wbytes') bytes.push({ major, minor, op: 'write', value: v });
      else if (key === 'rios') ios.push({ major, minor, op: 'read', value: v });
      else if (key === 'wios') ios.push({ major, minor, op: 'write', value: v });
    }
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}
