/**
 * The part of the OCI runtime spec's `linux.resources` that cgroups apply, with OCI's JSON field
 * names (runtime-spec config-linux.md "Control groups"), so a `LinuxResources` from
 * src/oci is structurally assignable to this one. Every field is optional: an absent field leaves
 * the kernel's current value alone (on create: the kernel default, i.e. unlimited).
 */
export interface LinuxResources {
  memory?: LinuxMemory;
  cpu?: LinuxCpu;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  /** Device cgroup rules, applied in order on top of "deny everything" (as runc does). */
  devices?: LinuxDeviceCgroup[];
  /** cgroup v2 only: raw `file -> value` writes, e.g. `{ "memory.high": "1G" }`. */
  unified?: Record<string, string>;
}

export interface LinuxMemory {
  /** Bytes; -1 = unlimited. */
  limit?: number;
  /** Soft limit in bytes (v1 memory.soft_limit_in_bytes, v2 memory.low). */
  reservation?: number;
  /** Memory + swap in bytes, as Docker's --memory-swap passes it; -1 = unlimited swap. */
  swap?: number;
  /** Deprecated by the kernel; ignored as runc ignores it. */
  kernel?: number;
  kernelTCP?: number;
  /** 0–100 (v1 only). */
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface LinuxCpu {
  /** Relative weight, 2–262144 (v1 cpu.shares; converted to cpu.weight on v2). */
  shares?: number;
  /** Microseconds per period; -1 = unlimited. */
  quota?: number;
  /** Microseconds. */
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  /** cpuset list, e.g. "0-2,4". */
  cpus?: string;
  mems?: string;
}

export interface LinuxPids {
  /** Maximum number of tasks; 0 or -1 = unlimited. */
  limit: number;
}

export interface LinuxBlockIODevice {
  major: number;
  minor: number;
}

export interface LinuxWeightDevice extends LinuxBlockIODevice {
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice extends LinuxBlockIODevice {
  rate: number;
}

export interface LinuxBlockIO {
  /** 10–1000 (v1 blkio.weight; converted to io.weight on v2). */
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** e.g. "2MB", "1GB" (pattern ^[1-9][0-9]*[KMG]B$). */
  pageSize: string;
  limit: number;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  /** "a" (all), "c" or "b"; absent means "a". */
  type?: string;
  /** Absent or null means any (*). */
  major?: number | null;
  minor?: number | null;
  /** Any of "rwm"; absent means "rwm". */
  access?: string;
}
