/**
 * The resource options of POST /build (moby build_routes.go newImageBuildOptions) as the
 * HostConfig of every RUN container (builder/dockerfile/internals.go hostConfigFromOptions):
 * memory, memswap, cpushares, cpuperiod, cpuquota, cpusetcpus, cpusetmems, cgroupparent,
 * shmsize, ulimits, extrahosts; isolation may only be "default" on Linux and securityopt is
 * refused there, as moby does.
 */
import { invalidParameter } from '../../../common/index.ts';

/** httputils.Int64ValueOrZero: a missing or malformed number is 0. */
function int64OrZero(query: URLSearchParams, key: string): number {
  const v = query.get(key);
  if (v === null || !/^[+-]?\d+$/.test(v.trim())) return 0;
  return Number(v.trim());
}

export function buildHostConfig(query: URLSearchParams): Record<string, unknown> {
  if (query.getAll('securityopt').length > 0)
    throw invalidParameter('security options are not supported on linux');
  const isolation = query.get('isolation');
  if (isolation && isolation !== 'default')
    throw invalidParameter(`unsupported isolation: ${JSON.stringify(isolation)}`);
  const hc: Record<string, unknown> = {};
  const ints: Array<[string, string]> = [
    ['memory', 'Memory'],
    ['memswap', 'MemorySwap'],
    ['cpushares', 'CpuShares'],
    ['cpuperiod', 'CpuPeriod'],
    ['cpuquota', 'CpuQuota'],
  ];
  for (const [q, k] of ints) {
    const v = int64OrZero(query, q);
    if (v !== 0) hc[k] = v;
  }
  for (const [q, k] of [
    ['cpusetcpus', 'CpusetCpus'],
    ['cpusetmems', 'CpusetMems'],
    ['cgroupparent', 'CgroupParent'],
  ] as const) {
    const v = query.get(q);
    if (v) hc[k] = v;
  }
  const shm = query.get('shmsize');
  if (shm) {
    if (!/^[+-]?\d+$/.test(shm))
      throw invalidParameter(`strconv.ParseInt: parsing ${JSON.stringify(shm)}: invalid syntax`);
    if (Number(shm) !== 0) hc.ShmSize = Number(shm);
  }
  const ulimits = query.get('ulimits');
  if (ulimits) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ulimits);
    } catch (err) {
      throw invalidParameter(`error reading ulimit settings: ${(err as Error).message}`);
    }
    if (Array.isArray(parsed) && parsed.length > 0) hc.Ulimits = parsed;
  }
  const hosts = query.getAll('extrahosts').filter(Boolean);
  if (hosts.length > 0) hc.ExtraHosts = hosts;
  return hc;
}
