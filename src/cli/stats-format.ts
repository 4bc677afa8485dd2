/**
 * `berth stats` numbers and columns, as the docker CLI computes and prints them
 * (cli/command/container/stats_helpers.go, formatter_stats.go).
 */
import type { ContainerStatsResponse, StatsCpuStats } from '../api/types/index.ts';
import { truncateId } from './formatters.ts';
import { bytesSize, humanSize } from './units.ts';

export const STATS_DEFAULT_TABLE =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** docker's StatsEntry: what one container's row is made of. */
export interface StatsEntry {
  /** What the user named (or the id from the list/events). */
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  /** Set after an error or a 2 s silence: the row shows "--". */
  isInvalid: boolean;
}

export function emptyEntry(container: string): StatsEntry {
  return {
    container,
    name: '',
    id: '',
    cpuPercentage: 0,
    memory: 0,
    memoryLimit: 0,
    memoryPercentage: 0,
    networkRx: 0,
    networkTx: 0,
    blockRead: 0,
    blockWrite: 0,
    pidsCurrent: 0,
    isInvalid: false,
  };
}

/** (container CPU delta / host CPU delta) × online CPUs × 100, 0 unless both deltas are positive. */
export function cpuPercentUnix(previous: StatsCpuStats, current: StatsCpuStats): number {
  const cpuDelta = current.cpu_usage.total_usage - previous.cpu_usage.total_usage;
  const systemDelta = (current.system_cpu_usage ?? 0) - (previous.system_cpu_usage ?? 0);
  let online = current.online_cpus ?? 0;
  if (online === 0) online = current.cpu_usage.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Usage without the inactive page cache: total_inactive_file on cgroup v1, inactive_file on v2. */
export function memUsageNoCache(mem: ContainerStatsResponse['memory_stats']): number {
  const usage = mem.usage ?? 0;
  const stats = mem.stats ?? {};
  const v1 = stats.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stats.inactive_file ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

export function memPercent(limit: number, usedNoCache: number): number {
  return limit !== 0 ? (usedNoCache / limit) * 100 : 0;
}

/** Sums io_service_bytes_recursive by the op's first letter (r/R read, w/W write). */
export function blockIo(blkio: ContainerStatsResponse['blkio_stats'] | undefined): [number, number] {
  let read = 0;
  let write = 0;
  for (const e of blkio?.io_service_bytes_recursive ?? []) {
    const c = e.op[0];
    if (c === 'r' || c === 'R') read += e.value;
    else if (c === 'w' || c === 'W') write += e.value;
  }
  return [read, write];
}

export function networkIo(networks: ContainerStatsResponse['networks']): [number, number] {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return [rx, tx];
}

/** One sample from the daemon → the entry docker's collect() stores (Linux daemon). */
export function entryFromSample(container: string, v: ContainerStatsResponse): StatsEntry {
  const memory = memUsageNoCache(v.memory_stats ?? {});
  const limit = v.memory_stats?.limit ?? 0;
  const [rx, tx] = networkIo(v.networks);
  const [read, write] = blockIo(v.blkio_stats);
  return {
    container,
    name: v.name ?? '',
    id: v.id ?? '',
    cpuPercentage: cpuPercentUnix(v.precpu_stats, v.cpu_stats),
    memory,
    memoryLimit: limit,
    memoryPercentage: memPercent(limit, memory),
    networkRx: rx,
    networkTx: tx,
    blockRead: read,
    blockWrite: write,
    pidsCurrent: v.pids_stats?.current ?? 0,
    isInvalid: false,
  };
}

/**
 * strconv.FormatFloat(v, 'f', prec, 64): like toFixed, but a value exactly halfway between two
 * results rounds to the even one (Go) rather than up (JavaScript): 15.625 → "15.62".
 */
export function goFixed(v: number, prec: number): string {
  const rounded = v.toFixed(prec);
  if (!Number.isFinite(v) || Math.abs(v) >= 1e21) return rounded;
  const exact = Math.abs(v).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + prec);
  if (!/^50*$/.test(rest)) return rounded;
  const down = (v < 0 ? '-' : '') + exact.slice(0, prec > 0 ? dot + 1 + prec : dot);
  const lastDigit = Number(down[down.length - 1]);
  return lastDigit % 2 === 0 ? down : rounded;
}

const percentage = (v: number) => `${goFixed(v, 2)}%`;

/**
 * The row the template sees (statsContext's methods). Keys in alphabetical order, so
 * `{{json .}}` prints them as docker's map marshalling does.
 */
export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

export function statsRow(s: StatsEntry, trunc: boolean): StatsRow {
  const bad = s.isInvalid;
  const name = s.name.startsWith('/') ? s.name.slice(1) : s.name;
  return {
    BlockIO: bad ? '--' : `${humanSize(s.blockRead, 3)} / ${humanSize(s.blockWrite, 3)}`,
    CPUPerc: bad ? '--' : percentage(s.cpuPercentage),
    Container: s.container,
    ID: trunc ? truncateId(s.id) : s.id,
    MemPerc: bad ? '--' : percentage(s.memoryPercentage),
    MemUsage: bad ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`,
    Name: name !== '' ? name : '--',
    NetIO: bad ? '--' : `${humanSize(s.networkRx, 3)} / ${humanSize(s.networkTx, 3)}`,
    PIDs: bad ? '--' : String(s.pidsCurrent),
  };
}

/**
 * One refresh of the live view: cursor home, each line followed by "erase to end of line", then
 * "erase below" (docker 28's frame, written in one piece to avoid flicker).
 */
export function liveFrame(rendered: string): string {
  const lines = rendered.split('\n');
  return `\x1b[H${lines.map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`;
}
