/**
 * GET /containers/{id}/stats: moby api/types/container/stats.go (StatsJSON before API 1.52),
 * field order as dockerd 20.10–28 writes it. Fields Go marks `omitempty` are optional here.
 * Counters are JSON numbers; a value above 2^53 (e.g. cgroup v2's unlimited pids.max, written
 * as Go's MaxUint64) is carried as a bigint and written exactly by the API layer.
 */
export interface StatsThrottlingData {
  periods: number;
  throttled_periods: number;
  throttled_time: number;
}

export interface StatsCpuStats {
  cpu_usage: {
    total_usage: number;
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: StatsThrottlingData;
}

export interface StatsBlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Lists Docker leaves nil are `null` on the wire. */
export interface StatsBlkioStats {
  io_service_bytes_recursive: StatsBlkioEntry[] | null;
  io_serviced_recursive: StatsBlkioEntry[] | null;
  io_queue_recursive: StatsBlkioEntry[] | null;
  io_service_time_recursive: StatsBlkioEntry[] | null;
  io_wait_time_recursive: StatsBlkioEntry[] | null;
  io_merged_recursive: StatsBlkioEntry[] | null;
  io_time_recursive: StatsBlkioEntry[] | null;
  sectors_recursive: StatsBlkioEntry[] | null;
}

export interface StatsMemoryStats {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface StatsNetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export interface ContainerStatsResponse {
  /** RFC 3339 with nanoseconds; Go's zero time "0001-01-01T00:00:00Z" when there is no sample. */
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number | bigint };
  blkio_stats: StatsBlkioStats;
  num_procs: number;
  storage_stats: Record<string, number>;
  cpu_stats: StatsCpuStats;
  precpu_stats: StatsCpuStats;
  memory_stats: StatsMemoryStats;
  /** "/<name>", as Docker's container.Name. */
  name?: string;
  id?: string;
  networks?: Record<string, StatsNetworkStats>;
}
