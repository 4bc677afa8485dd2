/**
 * The HostConfig dockerd stores and `docker inspect` shows: every field present at its Go zero
 * value, the client's values over them, then the daemon's defaults (daemon_unix.go
 * adaptContainerSettings, mergeAndVerifyLogConfig, the create route's API-version rules).
 */
import type { HostConfig } from '../../api/types/index.ts';
import type { ToContainerSpecOptions } from './container-spec.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE } from './defaults.ts';
import { apiVersionLessThan } from './validate.ts';

/** The full HostConfig Docker 20.10 stores and shows, every field at its Go zero value. */
function zeroHostConfig(): HostConfig {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: '', Config: {} },
    NetworkMode: '',
    PortBindings: {},
    RestartPolicy: { Name: '', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: '',
    Dns: null,
    DnsOptions: null,
    DnsSearch: null,
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: '',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 0,
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
  };
}

/**
 * The HostConfig as stored and inspected: the client's fields over Docker's zero values, then
 * the daemon's defaults (adaptContainerSettings, mergeAndVerifyLogConfig, the create route).
 */
export function normalizeHostConfig(
  body: HostConfig | undefined,
  options: ToContainerSpecOptions,
): HostConfig {
  const hc: HostConfig = zeroHostConfig();
  for (const [k, v] of Object.entries(body ?? {})) {
    if (v !== undefined) (hc as Record<string, unknown>)[k] = structuredClone(v);
  }
  const api = options.apiVersion;
  if (hc.PortBindings === null || hc.PortBindings === undefined) hc.PortBindings = {};
  // "default" means the OS default network. API < 1.44 (Docker ≤ 24) stores and shows "default";
  // newer daemons convert it to "bridge" as the request arrives.
  if (!hc.NetworkMode || hc.NetworkMode === 'default') {
    hc.NetworkMode = apiVersionLessThan(api, '1.44') ? 'default' : 'bridge';
  }
  const restart = hc.RestartPolicy ?? {};
  hc.RestartPolicy = { Name: restart.Name || 'no', MaximumRetryCount: restart.MaximumRetryCount ?? 0 };
  hc.LogConfig = {
    Type: hc.LogConfig?.Type || options.daemon?.logDriver || 'json-file',
    Config: hc.LogConfig?.Config ?? {},
  };
  const memory = hc.Memory ?? 0;
  if (memory > 0 && (hc.MemorySwap ?? 0) === 0) hc.MemorySwap = memory * 2;
  if (hc.MemorySwappiness === -1) hc.MemorySwappiness = null;
  if (!hc.ShmSize) hc.ShmSize = options.daemon?.shmSize ?? DEFAULT_SHM_SIZE;
  if (!hc.IpcMode) hc.IpcMode = options.daemon?.ipcMode ?? 'private';
  if (!hc.CgroupnsMode) {
    // The daemon's default, else private on cgroup v2 hosts (privileged too), host on v1
    // (adaptContainerSettings).
    hc.CgroupnsMode = options.daemon?.cgroupnsMode ?? (options.host?.cgroupV2 ? 'private' : 'host');
  }
  if (hc.OomKillDisable === null || hc.OomKillDisable === undefined) hc.OomKillDisable = false;
  if (hc.PidsLimit !== null && hc.PidsLimit !== undefined && hc.PidsLimit <= 0) hc.PidsLimit = null;
  if (!hc.Runtime) hc.Runtime = options.daemon?.runtime ?? 'berth';
  if (!hc.Privileged) {
    if (hc.MaskedPaths === null || hc.MaskedPaths === undefined) hc.MaskedPaths = [...DEFAULT_MASKED_PATHS];
    if (hc.ReadonlyPaths === null || hc.ReadonlyPaths === undefined)
      hc.ReadonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  if (apiVersionLessThan(api, '1.42')) hc.ConsoleSize = [0, 0];
  if (apiVersionLessThan(api, '1.43')) delete hc.Annotations;
  return hc;
}
