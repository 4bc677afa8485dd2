/**
 * GET /containers/{id}/stats (moby daemon/stats.go, daemon/stats_unix.go, daemon/stats/collector.go).
 *
 * A sample reads the container's cgroup (runtime/cgroups CgroupStats) and maps it field by field
 * to Docker's StatsJSON as dockerd does for cgroup v1 (statsV1) and v2 (statsV2), plus the host
 * CPU time, and the interface counters of the container's network namespace.
 *
 * Frames, as ContainerStats streams them:
 * - stream: one sample a second (the collector's interval), each with precpu_stats/preread of
 *   the sample before it (zero for the first). A container that is not running gives zero-valued
 *   samples carrying only name and id; the stream ends when the container is removed.
 * - no stream, one-shot: one sample at once, precpu zero.
 * - no stream, not one-shot (the docker CLI's `--no-stream`): a first sample only primes
 *   precpu; the second is sent (so about one second).
 * - no stream on a container that is not running: one zero-valued sample at once.
 */
import { totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ContainerStatsResponse,
  StatsBlkioEntry,
  StatsCpuStats,
  StatsNetworkStats,
} from '../../api/types/index.ts';
import type { BlkioStatEntry, CgroupStats } from '../../runtime/index.ts';
import type { Container, ContainerStore } from './container-store.ts';
import { isRunning, ZERO_TIME } from './state.ts';

export interface StatsDeps {
  store: ContainerStore;
  cgroupVersion: 1 | 2;
  /** The cgroup of a container, by id. */
  cgroupStats: (id: string) => Promise<CgroupStats>;
  /** RX/TX counters of the interfaces (without lo) in the network namespace of `pid`. */
  networkCounters: (pid: number) => Promise<Record<string, Record<string, number>>>;
  /** Host RAM (Docker's machineMemory): the limit shown when the cgroup has none. */
  machineMemory?: number;
  /** Time between streamed samples (the collector's 1 s). */
  intervalMs?: number;
}

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
}

/** Go's math.MaxUint64: containerd's value for "max" in cgroup v2 files. */
const MAX_UINT64 = 18446744073709551615n;

/** The memory.stat keys dockerd copies on cgroup v1 (statsV1), missing ones as 0. */
const V1_MEMORY_KEYS = [
  'cache',
  'rss',
  'rss_huge',
  'mapped_file',
  'dirty',
  'writeback',
  'pgpgin',
  'pgpgout',
  'pgfault',
  'pgmajfault',
  'inactive_anon',
  'active_anon',
  'inactive_file',
  'active_file',
  'unevictable',
  'hierarchical_memory_limit',
  'hierarchical_memsw_limit',
  'total_cache',
  'total_rss',
  'total_rss_huge',
  'total_mapped_file',
  'total_dirty',
  'total_writeback',
  'total_pgpgin',
  'total_pgpgout',
  'total_pgfault',
  'total_pgmajfault',
  'total_inactive_anon',
  'total_active_anon',
  'total_inactive_file',
  'total_active_file',
  'total_unevictable',
];

/** The memory.stat keys dockerd copies on cgroup v2 (statsV2). */
const V2_MEMORY_KEYS = [
  'anon',
  'file',
  'kernel_stack',
  'slab',
  'sock',
  'shmem',
  'file_mapped',
  'file_dirty',
  'file_writeback',
  'anon_thp',
  'inactive_anon',
  'active_anon',
  'inactive_file',
  'active_file',
  'unevictable',
  'slab_reclaimable',
  'slab_unreclaimable',
  'pgfault',
  'pgmajfault',
  'workingset_refault',
  'workingset_activate',
  'workingset_nodereclaim',
  'pgrefill',
  'pgscan',
  'pgsteal',
  'pgactivate',
  'pgdeactivate',
  'pglazyfree',
  'pglazyfreed',
  'thp_fault_alloc',
  'thp_collapse_alloc',
];

export function zeroCpuStats(): StatsCpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** The sample Docker sends for a container that is not running: only name and id are set. */
export function zeroStats(c: { id: string; name: string }): ContainerStatsResponse {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: {
      io_service_bytes_recursive: null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpuStats(),
    precpu_stats: zeroCpuStats(),
    memory_stats: {},
    name: `/${c.name}`,
    id: c.id,
  };
}

/** Sets `key` only when non-zero (Go's omitempty on a number). */
function nonZero<T extends object>(o: T, key: keyof T, value: number | bigint | null | undefined): void {
  if (value !== undefined && value !== null && value !== 0 && value !== 0n)
    (o as Record<keyof T, unknown>)[key] = value;
}

function blkio(entries: BlkioStatEntry[]): StatsBlkioEntry[] {
  return entries.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }));
}

/**
 * CgroupStats → Docker's StatsJSON for a running container, as dockerd's statsV1/statsV2 map
 * containerd's metrics (name, id, read, networks and precpu are the caller's).
 */
export function toDockerStats(
  cg: CgroupStats,
  version: 1 | 2,
  machineMemory: number,
): Omit<ContainerStatsResponse, 'read' | 'preread' | 'name' | 'id' | 'networks'> {
  const out = zeroStats({ id: '', name: '' });
  if (version === 1) {
    // copyBlkioEntry makes empty (not nil) lists; v1 has no per-op breakdown beyond these two here.
    out.blkio_stats = {
      io_service_bytes_recursive: blkio(cg.blkio.ioServiceBytesRecursive),
      io_serviced_recursive: blkio(cg.blkio.ioServicedRecursive),
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    };
  } else {
    // statsV2: read/write bytes per device, nil when no device had I/O; other lists unsupported.
    const bytes = cg.blkio.ioServiceBytesRecursive;
    out.blkio_stats.io_service_bytes_recursive = bytes.length > 0 ? blkio(bytes) : null;
  }

  // Field order as Go writes the structs; percpu_usage only on v1 ("not supported" on v2).
  const usage = { total_usage: cg.cpu.totalUsage } as StatsCpuStats['cpu_usage'];
  if (version === 1 && cg.cpu.perCpuUsage.length > 0) usage.percpu_usage = [...cg.cpu.perCpuUsage];
  usage.usage_in_kernelmode = cg.cpu.usageInKernelmode;
  usage.usage_in_usermode = cg.cpu.usageInUsermode;
  const cpu = { cpu_usage: usage } as StatsCpuStats;
  // dockerd samples the host's CPU time next to the container's (GetContainerStats).
  nonZero(cpu, 'system_cpu_usage', cg.cpu.systemUsage);
  nonZero(cpu, 'online_cpus', cg.cpu.onlineCpus);
  cpu.throttling_data = {
    periods: cg.cpu.throttling.periods,
    throttled_periods: cg.cpu.throttling.throttledPeriods,
    throttled_time: cg.cpu.throttling.throttledTime,
  };
  out.cpu_stats = cpu;

  const keys = version === 1 ? V1_MEMORY_KEYS : V2_MEMORY_KEYS;
  const stats: Record<string, number> = {};
  for (const k of [...keys].sort()) stats[k] = cg.memory.stats[k] ?? 0;
  let limit = cg.memory.limit ?? Number.POSITIVE_INFINITY;
  // "if the container does not set memory limit, use the machineMemory"
  if (limit > machineMemory && machineMemory > 0) limit = machineMemory;
  const mem: ContainerStatsResponse['memory_stats'] = {};
  nonZero(mem, 'usage', cg.memory.usage);
  if (version === 1) nonZero(mem, 'max_usage', cg.memory.maxUsage); // v2: "MaxUsage is not supported"
  mem.stats = stats;
  nonZero(mem, 'failcnt', version === 1 ? cg.memory.failcnt : (cg.memory.oomEvents ?? 0));
  nonZero(mem, 'limit', Number.isFinite(limit) ? limit : 0);
  out.memory_stats = mem;

  // containerd reads pids.max "max" as 0 on v1 (omitted) and as MaxUint64 on v2.
  const pids: ContainerStatsResponse['pids_stats'] = {};
  nonZero(pids, 'current', cg.pids.current);
  nonZero(pids, 'limit', cg.pids.limit ?? (version === 2 ? MAX_UINT64 : 0));
  out.pids_stats = pids;

  const { name: _n, id: _i, read: _r, preread: _p, ...body } = out;
  return body;
}

/** Interface counters → Docker's networks map (keys sorted, as Go writes a map). */
export function toNetworkStats(
  counters: Record<string, Record<string, number>>,
): Record<string, StatsNetworkStats> | undefined {
  const names = Object.keys(counters).sort();
  if (names.length === 0) return undefined;
  const out: Record<string, StatsNetworkStats> = {};
  for (const n of names) {
    const c = counters[n] ?? {};
    out[n] = {
      rx_bytes: c.rx_bytes ?? 0,
      rx_packets: c.rx_packets ?? 0,
      rx_errors: c.rx_errors ?? 0,
      rx_dropped: c.rx_dropped ?? 0,
      tx_bytes: c.tx_bytes ?? 0,
      tx_packets: c.tx_packets ?? 0,
      tx_errors: c.tx_errors ?? 0,
      tx_dropped: c.tx_dropped ?? 0,
    };
  }
  return out;
}

const epochAtStartNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** The current time as Go's RFC3339Nano in UTC ("2024-05-01T10:00:00.123456789Z", trailing zeros trimmed). */
export function goTimeNow(nowNs: bigint = epochAtStartNs + process.hrtime.bigint()): string {
  const ms = Number(nowNs / 1_000_000n);
  const frac = String(nowNs % 1_000_000_000n)
    .padStart(9, '0')
    .replace(/0+$/, '');
  const base = new Date(ms).toISOString().slice(0, 19);
  return frac ? `${base}.${frac}Z` : `${base}Z`;
}

export class ContainerStats {
  readonly #d: StatsDeps;
  readonly #machineMemory: number;
  readonly #interval: number;

  constructor(deps: StatsDeps) {
    this.#d = deps;
    this.#machineMemory = deps.machineMemory ?? totalmem();
    this.#interval = deps.intervalMs ?? 1000;
  }

  /**
   * Resolves the container (404 before anything is sent) and returns its frames for the
   * request's stream/one-shot mode (see the file comment).
   */
  open(ref: string, options: StatsOptions, signal: AbortSignal): AsyncIterable<ContainerStatsResponse> {
    const c = this.#d.store.get(ref);
    return this.#frames(c.record.id, options, signal);
  }

  /** One sample of a container now: zero-valued when it is not running. precpu is zero. */
  async sample(c: Container): Promise<ContainerStatsResponse> {
    const zero = zeroStats(c.record);
    if (!isRunning(c.state)) return zero;
    const pid = c.state.pid;
    let cg: CgroupStats;
    try {
      cg = await this.#d.cgroupStats(c.record.id);
    } catch {
      // The container stopped while we read (dockerd: errNotRunning/not found → empty stats).
      return zero;
    }
    const read = goTimeNow();
    const body = toDockerStats(cg, this.#d.cgroupVersion, this.#machineMemory);
    const out: ContainerStatsResponse = { read, preread: ZERO_TIME, ...body, name: zero.name, id: zero.id };
    const networks = await this.#networks(c, pid);
    if (networks) out.networks = networks;
    return out;
  }

  async #networks(c: Container, pid: number): Promise<Record<string, StatsNetworkStats> | undefined> {
    // dockerd skips NetworkDisabled; the host's namespace is no sandbox of the container's.
    if (c.record.config.NetworkDisabled) return undefined;
    const mode = c.record.hostConfig.NetworkMode ?? '';
    if (mode === 'host' || mode === 'none') return undefined;
    try {
      return toNetworkStats(await this.#d.networkCounters(pid));
    } catch {
      return undefined;
    }
  }

  async *#frames(
    id: string,
    options: StatsOptions,
    signal: AbortSignal,
  ): AsyncGenerator<ContainerStatsResponse> {
    let needPrevSample = false;
    if (!options.stream) {
      const c = this.#d.store.find(id);
      if (!c) return;
      if (!isRunning(c.state)) {
        yield zeroStats(c.record);
        return;
      }
      if (options.oneShot) {
        yield await this.sample(c);
        return;
      }
      needPrevSample = true;
    }
    let preRead = ZERO_TIME;
    let preCpu = zeroCpuStats();
    while (!signal.aborted) {
      const c = this.#d.store.find(id);
      if (!c) return; // removed: dockerd closes the publisher and the stream ends
      const s = await this.sample(c);
      if (needPrevSample) {
        needPrevSample = false;
        preRead = s.read;
        preCpu = s.cpu_stats;
      } else {
        s.preread = preRead;
        s.precpu_stats = preCpu;
        yield s;
        if (!options.stream) return;
        preRead = s.read;
        preCpu = s.cpu_stats;
      }
      try {
        await sleep(this.#interval, undefined, { signal });
      } catch {
        return;
      }
    }
  }
}
