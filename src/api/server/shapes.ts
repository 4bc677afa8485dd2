/**
 * Shapes of the JSON request bodies we accept (see body.ts checkShape), following the swagger
 * definitions in shared/reference/docker-engine-api/v1.41.yaml and the types in api/types.
 * Fields not listed pass through unchecked, as Go ignores what it does not know.
 */
import type { Shape } from './body.ts';

const strings: Shape = { array: 'string' };
const stringMap: Shape = { map: 'string' };
const emptyObjectMap: Shape = { map: 'any' };

const healthConfig: Shape = {
  struct: 'HealthConfig',
  fields: {
    Test: strings,
    Interval: 'int',
    Timeout: 'int',
    Retries: 'int',
    StartPeriod: 'int',
    StartInterval: 'int',
  },
};

const containerConfigFields: Record<string, Shape> = {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  ExposedPorts: emptyObjectMap,
  Tty: 'bool',
  OpenStdin: 'bool',
  StdinOnce: 'bool',
  Env: strings,
  Cmd: 'strings',
  Healthcheck: healthConfig,
  ArgsEscaped: 'bool',
  Image: 'string',
  Volumes: emptyObjectMap,
  WorkingDir: 'string',
  Entrypoint: 'strings',
  NetworkDisabled: 'bool',
  MacAddress: 'string',
  OnBuild: strings,
  Labels: stringMap,
  StopSignal: 'string',
  StopTimeout: 'int',
  Shell: strings,
};

const throttleDevice: Shape = {
  array: { struct: 'ThrottleDevice', fields: { Path: 'string', Rate: 'int' } },
};

const resourcesFields: Record<string, Shape> = {
  CpuShares: 'int',
  Memory: 'int',
  CgroupParent: 'string',
  BlkioWeight: 'int',
  BlkioWeightDevice: { array: { struct: 'WeightDevice', fields: { Path: 'string', Weight: 'int' } } },
  BlkioDeviceReadBps: throttleDevice,
  BlkioDeviceWriteBps: throttleDevice,
  BlkioDeviceReadIOps: throttleDevice,
  BlkioDeviceWriteIOps: throttleDevice,
  CpuPeriod: 'int',
  CpuQuota: 'int',
  CpuRealtimePeriod: 'int',
  CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  Devices: {
    array: {
      struct: 'DeviceMapping',
      fields: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' },
    },
  },
  DeviceCgroupRules: strings,
  DeviceRequests: { array: 'any' },
  KernelMemory: 'int',
  KernelMemoryTCP: 'int',
  MemoryReservation: 'int',
  MemorySwap: 'int',
  MemorySwappiness: 'int',
  NanoCpus: 'int',
  OomKillDisable: 'bool',
  Init: 'bool',
  PidsLimit: 'int',
  Ulimits: { array: { struct: 'Ulimit', fields: { Name: 'string', Soft: 'int', Hard: 'int' } } },
  CpuCount: 'int',
  CpuPercent: 'int',
  IOMaximumIOps: 'int',
  IOMaximumBandwidth: 'int',
};

const portBindings: Shape = {
  map: { array: { struct: 'PortBinding', fields: { HostIp: 'string', HostPort: 'string' } } },
};

const mount: Shape = {
  struct: 'Mount',
  fields: {
    Target: 'string',
    Source: 'string',
    Type: 'string',
    ReadOnly: 'bool',
    Consistency: 'string',
    BindOptions: {
      struct: 'BindOptions',
      fields: { Propagation: 'string', NonRecursive: 'bool', CreateMountpoint: 'bool' },
    },
    VolumeOptions: {
      struct: 'VolumeOptions',
      fields: {
        NoCopy: 'bool',
        Labels: stringMap,
        DriverConfig: { struct: 'Driver', fields: { Name: 'string', Options: stringMap } },
        Subpath: 'string',
      },
    },
    TmpfsOptions: {
      struct: 'TmpfsOptions',
      fields: { SizeBytes: 'int', Mode: 'int', Options: { array: strings } },
    },
  },
};

const hostConfig: Shape = {
  struct: 'HostConfig',
  fields: {
    ...resourcesFields,
    Binds: strings,
    ContainerIDFile: 'string',
    LogConfig: { struct: 'LogConfig', fields: { Type: 'string', Config: stringMap } },
    NetworkMode: 'string',
    PortBindings: portBindings,
    RestartPolicy: { struct: 'RestartPolicy', fields: { Name: 'string', MaximumRetryCount: 'int' } },
    AutoRemove: 'bool',
    VolumeDriver: 'string',
    VolumesFrom: strings,
    Mounts: { array: mount },
    ConsoleSize: { array: 'int' },
    Annotations: stringMap,
    CapAdd: strings,
    CapDrop: strings,
    CgroupnsMode: 'string',
    Dns: strings,
    DnsOptions: strings,
    DnsSearch: strings,
    ExtraHosts: strings,
    GroupAdd: strings,
    IpcMode: 'string',
    Cgroup: 'string',
    Links: strings,
    OomScoreAdj: 'int',
    PidMode: 'string',
    Privileged: 'bool',
    PublishAllPorts: 'bool',
    ReadonlyRootfs: 'bool',
    SecurityOpt: strings,
    StorageOpt: stringMap,
    Tmpfs: stringMap,
    UTSMode: 'string',
    UsernsMode: 'string',
    ShmSize: 'int',
    Sysctls: stringMap,
    Runtime: 'string',
    Isolation: 'string',
    MaskedPaths: strings,
    ReadonlyPaths: strings,
  },
};

const endpointSettings: Shape = {
  struct: 'EndpointSettings',
  fields: {
    IPAMConfig: {
      struct: 'EndpointIPAMConfig',
      fields: { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: strings },
    },
    Links: strings,
    Aliases: strings,
    MacAddress: 'string',
    DriverOpts: stringMap,
    NetworkID: 'string',
    EndpointID: 'string',
    Gateway: 'string',
    IPAddress: 'string',
    IPPrefixLen: 'int',
    IPv6Gateway: 'string',
    GlobalIPv6Address: 'string',
    GlobalIPv6PrefixLen: 'int',
    DNSNames: strings,
  },
};

/** POST /containers/create. */
export const containerCreateShape: Shape = {
  struct: 'ContainerConfigWrapper',
  fields: {
    ...containerConfigFields,
    HostConfig: hostConfig,
    NetworkingConfig: {
      struct: 'NetworkingConfig',
      fields: { EndpointsConfig: { map: endpointSettings } },
    },
    Platform: 'string',
  },
};

/** POST /containers/{id}/exec. */
export const execCreateShape: Shape = {
  struct: 'ExecConfig',
  fields: {
    AttachStdin: 'bool',
    AttachStdout: 'bool',
    AttachStderr: 'bool',
    ConsoleSize: { array: 'int' },
    DetachKeys: 'string',
    Tty: 'bool',
    Env: strings,
    Cmd: strings,
    Privileged: 'bool',
    User: 'string',
    WorkingDir: 'string',
  },
};

/** POST /exec/{id}/start. */
export const execStartShape: Shape = {
  struct: 'ExecStartCheck',
  fields: { Detach: 'bool', Tty: 'bool', ConsoleSize: { array: 'int' } },
};
