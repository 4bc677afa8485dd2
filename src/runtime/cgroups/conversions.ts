import { invalidParameter } from '../../common/index.ts';
import type { LinuxDeviceCgroup } from './resources.ts';

/**
 * Pure value conversions between OCI's (cgroup-v1-shaped) resources and what the kernel files
 * take. The formulas follow runc (opencontainers/cgroups utils.go) so a spec gives the same
 * limits under berth as under runc.
 */

/**
 * cpu.shares [2, 262144] -> cgroup v2 cpu.weight [1, 10000], linearly:
 * y = 1 + ((x - 2) * 9999) / 262142 (integer division), 0 stays 0 (= unset).
 * 262144 is the kernel's MAX_SHARES (1 << 18).
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]: y = 1 + (x - 10) * 9999 / 990; 0 stays 0. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI `memory.swap` is memory+swap (v1 memsw semantics, what Docker's --memory-swap passes);
 * cgroup v2 memory.swap.max is swap alone. Returns the v2 value: -1 = "max", 0 = leave unset,
 * otherwise swap - memory. Mirrors runc's ConvertMemorySwapToCgroupV2Value.
 */
export function memorySwapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1; // unlimited memory and swap not given: both unlimited
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw invalidParameter('unable to set swap limit without memory limit');
  if (memory < 0) throw invalidParameter(`invalid memory value: ${memory}`);
  if (swap < memory) {
    throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  return swap - memory;
}

/**
 * The text for cgroup v2 memory files (memory.max, memory.low, memory.swap.max): -1 is "max",
 * 0 is "" (do not write), anything else the decimal number.
 */
export function v2LimitText(value: number): string {
  if (value === 0) return '';
  if (value === -1) return 'max';
  return String(value);
}

/** pids.max text: a positive limit as a number, 0 or -1 (unlimited) as "max". */
export function pidsMaxText(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}

/**
 * cgroup v2 cpu.max "$QUOTA $PERIOD": quota <= 0 (unset or -1) is "max", period defaults to the
 * kernel's 100000 us. Returns undefined when neither is set.
 */
export function cpuMaxText(quota: number | undefined, period: number | undefined): string | undefined {
  const q = quota ?? 0;
  const p = period ?? 0;
  if (q === 0 && p === 0) return undefined;
  return `${q > 0 ? q : 'max'} ${p > 0 ? p : 100000}`;
}

/**
 * A v1 devices.allow/devices.deny line, e.g. "c 1:3 rwm", "a *:* rwm". Absent or null
 * major/minor are "*", an absent type "a", an absent access "rwm".
 */
export function deviceRuleText(rule: LinuxDeviceCgroup): string {
  const type = rule.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) throw invalidParameter(`invalid device cgroup type "${type}"`);
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access)) throw invalidParameter(`invalid device cgroup access "${access}"`);
  const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? '*' : String(n));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/**
 * Parses a cgroup "max"-or-number value (v2 memory.max, pids.max, …; v1 values too).
 * Returns null for unlimited: "max", or v1's "unlimited" page counter (>= 2^62 bytes).
 */
export function parseLimit(text: string): number | null {
  const t = text.trim();
  if (t === 'max' || t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n) || n >= 2 ** 62) return null;
  return n;
}
