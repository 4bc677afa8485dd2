/**
 * From a Docker create body (plus the image's config) to the container's stored configuration:
 * the Docker-shaped `Config` and `HostConfig` that `docker inspect` shows, with the defaults
 * dockerd fills in, and our camelCase `ContainerSpec` derived from them.
 *
 * Lifecycle: the engine calls validateCreate(body) first, resolves the image, then calls
 * toContainerSpec(body, image, { id, name, apiVersion }) once at create and stores the result.
 * At every start it passes `spec` to toOciSpec. Nothing here does I/O; everything returned is
 * plain JSON. Errors are InvalidParameter with Docker's text (`No command specified`).
 *
 * Merge rules follow moby daemon/commit.go merge + create.go mergeAndVerifyConfig and the
 * defaults of daemon_unix.go adaptContainerSettings (Docker 20.10 / API 1.41 behaviour, with
 * the API-version differences noted where they show in inspect output).
 */
import type {
  ContainerConfig,
  ContainerCreateRequest,
  EndpointSettings,
  HostConfig,
  MountSpec,
} from '../../api/types/index.ts';
import type { ContainerConfig as ImageRunConfig } from '../../oci/index.ts';
import { normalizeCapabilities } from './capabilities.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_SHM_SIZE } from './defaults.ts';
import { normalizeHostConfig } from './host-config.ts';
import { entrypointAndArgs, mergeImageConfig, strSlice } from './image-merge.ts';
import { parseSecurityOpt, type SecurityOptions, splitProtoPort } from './validate.ts';

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface HealthcheckSpec {
  /** `["NONE"]` disables; `["CMD", …]` / `["CMD-SHELL", "…"]` as in Docker. */
  test: string[];
  /** Durations in nanoseconds; 0 = Docker's default. */
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

export interface MountRequest {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  source: string;
  target: string;
  readOnly: boolean;
  consistency?: string;
  bindOptions?: { propagation?: string; nonRecursive?: boolean; createMountpoint?: boolean };
  volumeOptions?: {
    noCopy?: boolean;
    labels?: Record<string, string>;
    driver?: { name?: string; options?: Record<string, string> };
    subpath?: string;
  };
  tmpfsOptions?: { sizeBytes?: number; mode?: number; options?: string[][] };
}

export interface EndpointRequest {
  aliases: string[];
  links: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  linkLocalIps: string[];
  macAddress?: string;
  driverOpts: Record<string, string>;
}

export interface ThrottleDeviceSpec {
  path: string;
  rate: number;
}

export interface ResourcesSpec {
  /** Bytes; 0 = unlimited. */
  memory: number;
  memoryReservation: number;
  /** Memory + swap in bytes; -1 = unlimited swap; 0 = unset. Docker sets 2×memory when unset. */
  memorySwap: number;
  memorySwappiness?: number;
  kernelMemory: number;
  oomKillDisable: boolean;
  cpuShares: number;
  cpuPeriod: number;
  cpuQuota: number;
  /** CPUs × 1e9. */
  nanoCpus: number;
  cpuRealtimePeriod: number;
  cpuRealtimeRuntime: number;
  cpusetCpus: string;
  cpusetMems: string;
  blkioWeight: number;
  blkioWeightDevices: { path: string; weight: number }[];
  blkioDeviceReadBps: ThrottleDeviceSpec[];
  blkioDeviceWriteBps: ThrottleDeviceSpec[];
  blkioDeviceReadIOps: ThrottleDeviceSpec[];
  blkioDeviceWriteIOps: ThrottleDeviceSpec[];
  /** Undefined = unlimited (Docker treats 0 and negative values as unlimited). */
  pidsLimit?: number;
  ulimits: { name: string; soft: number; hard: number }[];
  devices: { pathOnHost: string; pathInContainer: string; cgroupPermissions: string }[];
  deviceCgroupRules: string[];
  cgroupParent: string;
}

/**
 * Our model of a container's configuration: everything needed to start it, decided at create.
 * JSON-serialisable; stored by the engine next to the inspect view.
 */
export interface ContainerSpec {
  id: string;
  /** With Docker's leading slash: `/web`. */
  name: string;
  /** The image reference as the client gave it (Config.Image). */
  image: string;
  /** The executable and its arguments: Entrypoint + Cmd, split as Docker's Path/Args. */
  path: string;
  args: string[];
  entrypoint: string[];
  cmd: string[];
  hostname: string;
  domainname: string;
  /** As given ("", "name", "uid:gid"); resolved against the rootfs at start (resolveUser). */
  user: string;
  /** Image and container env merged (container wins per key); without the daemon's defaults. */
  env: string[];
  /** Absolute; "" means "/". */
  workingDir: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  labels: Record<string, string>;
  /** `80/tcp` style, image's and container's. */
  exposedPorts: string[];
  /** Anonymous volume destinations from the image and the container. */
  volumes: string[];
  /** As given (default `SIGTERM`); parse with parseSignal. */
  stopSignal: string;
  /** Seconds; undefined = the daemon's default (10). */
  stopTimeout?: number;
  healthcheck?: HealthcheckSpec;
  restartPolicy: { name: RestartPolicyName; maximumRetryCount: number };
  autoRemove: boolean;
  logConfig: { type: string; config: Record<string, string> };
  runtime: string;
  network: {
    /** `bridge`, `host`, `none`, `container:<name|id>`, or a user-defined network's name. */
    mode: string;
    disabled: boolean;
    macAddress: string;
    /** `80/tcp` → bindings; an empty hostPort means an ephemeral port. */
    portBindings: Record<string, { hostIp: string; hostPort: string }[]>;
    publishAllPorts: boolean;
    dns: string[];
    dnsOptions: string[];
    dnsSearch: string[];
    extraHosts: string[];
    links: string[];
    /** NetworkingConfig.EndpointsConfig by network name. */
    endpoints: Record<string, EndpointRequest>;
    /**
     * The mode's network was disconnected (Docker keeps NetworkMode as it was). A container
     * left with no network at all gets its mode's network back when it starts, as in Docker.
     */
    modeDetached?: boolean;
  };
  namespaces: {
    /** `private`, `shareable`, `none`, `host`, `container:<x>`. */
    ipc: string;
    /** `` (private), `host`, `container:<x>`. */
    pid: string;
    /** `` (private), `host`. */
    uts: string;
    cgroupns: 'private' | 'host';
    /** `` or `host`. */
    userns: string;
  };
  security: {
    privileged: boolean;
    /** Normalised (`CAP_…` or `ALL`). */
    capAdd: string[];
    capDrop: string[];
    noNewPrivileges: boolean;
    seccompProfile?: string;
    apparmorProfile?: string;
    writableCgroups?: boolean;
    readonlyRootfs: boolean;
    /** Empty for privileged containers. */
    maskedPaths: string[];
    readonlyPaths: string[];
    groupAdd: string[];
    oomScoreAdj: number;
  };
  storage: {
    /** `-v` strings as given: `src:dst[:opts]` or `dst`. */
    binds: string[];
    mounts: MountRequest[];
    /** `--tmpfs` destination → options string. */
    tmpfs: Record<string, string>;
    volumesFrom: string[];
    volumeDriver: string;
    /** Bytes of /dev/shm. */
    shmSize: number;
  };
  resources: ResourcesSpec;
  sysctls: Record<string, string>;
  /** --init; undefined = the daemon's default. */
  init?: boolean;
  /** [height, width]; [0, 0] = unset. */
  consoleSize: [number, number];
  annotations: Record<string, string>;
}

export interface CreatedContainer {
  spec: ContainerSpec;
  /** `Config` as docker inspect shows it. */
  config: ContainerConfig;
  /** `HostConfig` as docker inspect shows it. */
  hostConfig: HostConfig;
}

export interface ToContainerSpecOptions {
  id: string;
  /** Given (`web` or `/web`) or generated; stored with the slash. */
  name: string;
  apiVersion: string;
  host?: {
    /** cgroup v2 hosts default to a private cgroup namespace. */
    cgroupV2?: boolean;
    /** The host's hostname: the container's hostname with --network host. */
    hostname?: string;
  };
  daemon?: {
    /** Default log driver (`json-file`). */
    logDriver?: string;
    /** Default runtime name (`runc`, as Docker shows). */
    runtime?: string;
    shmSize?: number;
    /** --default-cgroupns-mode (else private on cgroup v2, host on v1). */
    cgroupnsMode?: 'host' | 'private';
    /** --default-ipc-mode (else private). */
    ipcMode?: 'private' | 'shareable';
  };
}

/**
 * Builds the stored record of a new container. `image.config` is the image's run config
 * (`config` of the image JSON); undefined for an image without one.
 */
export function toContainerSpec(
  body: ContainerCreateRequest,
  image: { config?: ImageRunConfig | null },
  options: ToContainerSpecOptions,
): CreatedContainer {
  const merged = mergeImageConfig(body, image.config ?? undefined);
  const hostConfig = normalizeHostConfig(body.HostConfig, options);

  let hostname = body.Hostname ?? '';
  if (hostname === '') {
    hostname = hostConfig.NetworkMode === 'host' ? (options.host?.hostname ?? '') : options.id.slice(0, 12);
  }

  const config: ContainerConfig = {
    Hostname: hostname,
    Domainname: body.Domainname ?? '',
    User: merged.user,
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    ...(merged.exposedPorts && Object.keys(merged.exposedPorts).length > 0
      ? { ExposedPorts: merged.exposedPorts }
      : {}),
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: merged.env,
    Cmd: merged.cmd,
    ...(merged.healthcheck ? { Healthcheck: merged.healthcheck } : {}),
    ...(body.ArgsEscaped ? { ArgsEscaped: true } : {}),
    Image: body.Image ?? '',
    Volumes: merged.volumes,
    WorkingDir: merged.workingDir,
    Entrypoint: merged.entrypoint,
    ...(body.NetworkDisabled ? { NetworkDisabled: true } : {}),
    ...(body.MacAddress ? { MacAddress: body.MacAddress } : {}),
    OnBuild: body.OnBuild ?? null,
    Labels: merged.labels,
    ...(merged.stopSignal ? { StopSignal: merged.stopSignal } : {}),
    ...(body.StopTimeout !== undefined && body.StopTimeout !== null ? { StopTimeout: body.StopTimeout } : {}),
    ...(body.Shell?.length ? { Shell: body.Shell } : {}),
  };

  const { path, args } = entrypointAndArgs(merged.entrypoint ?? [], merged.cmd ?? []);
  const endpoints = { ...(body.NetworkingConfig?.EndpointsConfig ?? {}) };
  const defaultEndpoint = endpoints.default;
  if (defaultEndpoint && hostConfig.NetworkMode === 'bridge') {
    endpoints.bridge = defaultEndpoint;
    delete endpoints.default;
  }
  const spec = containerSpecFromInspect({
    id: options.id,
    name: options.name.startsWith('/') ? options.name : `/${options.name}`,
    path,
    args,
    config,
    hostConfig,
    endpoints,
  });
  return { spec, config, hostConfig };
}

/**
 * Our model from the Docker-shaped stored view. Used by toContainerSpec, and again whenever the
 * stored Config/HostConfig change (e.g. `docker update`, `docker rename`).
 */
export function containerSpecFromInspect(input: {
  id: string;
  name: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  endpoints?: Record<string, EndpointSettings>;
}): ContainerSpec {
  const { config: c, hostConfig: hc } = input;
  const security: SecurityOptions = { noNewPrivileges: false, labelOpts: [] };
  for (const opt of hc.SecurityOpt ?? []) parseSecurityOpt(opt, security);
  const h = c.Healthcheck;
  const mode = hc.NetworkMode === 'default' || !hc.NetworkMode ? 'bridge' : hc.NetworkMode;
  const privileged = hc.Privileged ?? false;
  return {
    id: input.id,
    name: input.name,
    image: c.Image ?? '',
    path: input.path,
    args: [...input.args],
    entrypoint: strSlice(c.Entrypoint) ?? [],
    cmd: strSlice(c.Cmd) ?? [],
    hostname: c.Hostname ?? '',
    domainname: c.Domainname ?? '',
    user: c.User ?? '',
    env: [...(c.Env ?? [])],
    workingDir: c.WorkingDir ?? '',
    tty: c.Tty ?? false,
    openStdin: c.OpenStdin ?? false,
    stdinOnce: c.StdinOnce ?? false,
    attachStdin: c.AttachStdin ?? false,
    attachStdout: c.AttachStdout ?? false,
    attachStderr: c.AttachStderr ?? false,
    labels: { ...(c.Labels ?? {}) },
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).map(normalizePortKey),
    volumes: Object.keys(c.Volumes ?? {}),
    stopSignal: c.StopSignal || 'SIGTERM',
    ...(c.StopTimeout !== undefined && c.StopTimeout !== null ? { stopTimeout: c.StopTimeout } : {}),
    ...(h
      ? {
          healthcheck: {
            test: [...(h.Test ?? [])],
            intervalNs: h.Interval ?? 0,
            timeoutNs: h.Timeout ?? 0,
            startPeriodNs: h.StartPeriod ?? 0,
            startIntervalNs: h.StartInterval ?? 0,
            retries: h.Retries ?? 0,
          },
        }
      : {}),
    restartPolicy: {
      name: (hc.RestartPolicy?.Name || 'no') as RestartPolicyName,
      maximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0,
    },
    autoRemove: hc.AutoRemove ?? false,
    logConfig: { type: hc.LogConfig?.Type || 'json-file', config: { ...(hc.LogConfig?.Config ?? {}) } },
    runtime: hc.Runtime || 'berth',
    network: {
      mode,
      disabled: c.NetworkDisabled ?? false,
      macAddress: c.MacAddress ?? '',
      portBindings: Object.fromEntries(
        Object.entries(hc.PortBindings ?? {}).map(([port, bindings]) => [
          normalizePortKey(port),
          (bindings ?? []).map((b) => ({ hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' })),
        ]),
      ),
      publishAllPorts: hc.PublishAllPorts ?? false,
      dns: [...(hc.Dns ?? [])],
      dnsOptions: [...(hc.DnsOptions ?? [])],
      dnsSearch: [...(hc.DnsSearch ?? [])],
      extraHosts: [...(hc.ExtraHosts ?? [])],
      links: [...(hc.Links ?? [])],
      endpoints: Object.fromEntries(
        Object.entries(input.endpoints ?? {}).map(([net, e]) => [net, toEndpointRequest(e)]),
      ),
    },
    namespaces: {
      ipc: hc.IpcMode || 'private',
      pid: hc.PidMode ?? '',
      uts: hc.UTSMode ?? '',
      cgroupns: hc.CgroupnsMode === 'private' ? 'private' : 'host',
      userns: hc.UsernsMode ?? '',
    },
    security: {
      privileged,
      capAdd: normalizeCapabilities(hc.CapAdd ?? []),
      capDrop: normalizeCapabilities(hc.CapDrop ?? []),
      noNewPrivileges: security.noNewPrivileges,
      ...(security.seccompProfile !== undefined ? { seccompProfile: security.seccompProfile } : {}),
      ...(security.apparmorProfile !== undefined ? { apparmorProfile: security.apparmorProfile } : {}),
      ...(security.writableCgroups !== undefined ? { writableCgroups: security.writableCgroups } : {}),
      readonlyRootfs: hc.ReadonlyRootfs ?? false,
      maskedPaths: privileged ? [] : [...(hc.MaskedPaths ?? DEFAULT_MASKED_PATHS)],
      readonlyPaths: privileged ? [] : [...(hc.ReadonlyPaths ?? DEFAULT_READONLY_PATHS)],
      groupAdd: [...(hc.GroupAdd ?? [])],
      oomScoreAdj: hc.OomScoreAdj ?? 0,
    },
    storage: {
      binds: [...(hc.Binds ?? [])],
      mounts: (hc.Mounts ?? []).map(toMountRequest),
      tmpfs: { ...(hc.Tmpfs ?? {}) },
      volumesFrom: [...(hc.VolumesFrom ?? [])],
      volumeDriver: hc.VolumeDriver ?? '',
      shmSize: hc.ShmSize || DEFAULT_SHM_SIZE,
    },
    resources: {
      memory: hc.Memory ?? 0,
      memoryReservation: hc.MemoryReservation ?? 0,
      memorySwap: hc.MemorySwap ?? 0,
      ...(hc.MemorySwappiness !== null && hc.MemorySwappiness !== undefined && hc.MemorySwappiness >= 0
        ? { memorySwappiness: hc.MemorySwappiness }
        : {}),
      kernelMemory: hc.KernelMemory ?? 0,
      oomKillDisable: hc.OomKillDisable ?? false,
      cpuShares: hc.CpuShares ?? 0,
      cpuPeriod: hc.CpuPeriod ?? 0,
      cpuQuota: hc.CpuQuota ?? 0,
      nanoCpus: hc.NanoCpus ?? 0,
      cpuRealtimePeriod: hc.CpuRealtimePeriod ?? 0,
      cpuRealtimeRuntime: hc.CpuRealtimeRuntime ?? 0,
      cpusetCpus: hc.CpusetCpus ?? '',
      cpusetMems: hc.CpusetMems ?? '',
      blkioWeight: hc.BlkioWeight ?? 0,
      blkioWeightDevices: (hc.BlkioWeightDevice ?? []).map((d) => ({
        path: d.Path ?? '',
        weight: d.Weight ?? 0,
      })),
      blkioDeviceReadBps: throttle(hc.BlkioDeviceReadBps),
      blkioDeviceWriteBps: throttle(hc.BlkioDeviceWriteBps),
      blkioDeviceReadIOps: throttle(hc.BlkioDeviceReadIOps),
      blkioDeviceWriteIOps: throttle(hc.BlkioDeviceWriteIOps),
      ...(hc.PidsLimit !== null && hc.PidsLimit !== undefined && hc.PidsLimit > 0
        ? { pidsLimit: hc.PidsLimit }
        : {}),
      ulimits: (hc.Ulimits ?? []).map((u) => ({ name: u.Name ?? '', soft: u.Soft ?? 0, hard: u.Hard ?? 0 })),
      devices: (hc.Devices ?? []).map((d) => ({
        pathOnHost: d.PathOnHost ?? '',
        pathInContainer: d.PathInContainer || d.PathOnHost || '',
        cgroupPermissions: d.CgroupPermissions || 'rwm',
      })),
      deviceCgroupRules: [...(hc.DeviceCgroupRules ?? [])],
      cgroupParent: hc.CgroupParent ?? '',
    },
    sysctls: { ...(hc.Sysctls ?? {}) },
    ...(hc.Init !== null && hc.Init !== undefined ? { init: hc.Init } : {}),
    consoleSize: [hc.ConsoleSize?.[0] ?? 0, hc.ConsoleSize?.[1] ?? 0],
    annotations: { ...(hc.Annotations ?? {}) },
  };
}

/** `80` → `80/tcp`, `53/udp` stays. */
export function normalizePortKey(key: string): string {
  const [proto, port] = splitProtoPort(key);
  return port === '' ? key : `${port}/${proto.toLowerCase()}`;
}

function throttle(list: { Path?: string; Rate?: number }[] | null | undefined): ThrottleDeviceSpec[] {
  return (list ?? []).map((d) => ({ path: d.Path ?? '', rate: d.Rate ?? 0 }));
}

function toEndpointRequest(e: EndpointSettings): EndpointRequest {
  return {
    aliases: [...(e.Aliases ?? [])],
    links: [...(e.Links ?? [])],
    ...(e.IPAMConfig?.IPv4Address ? { ipv4Address: e.IPAMConfig.IPv4Address } : {}),
    ...(e.IPAMConfig?.IPv6Address ? { ipv6Address: e.IPAMConfig.IPv6Address } : {}),
    linkLocalIps: [...(e.IPAMConfig?.LinkLocalIPs ?? [])],
    ...(e.MacAddress ? { macAddress: e.MacAddress } : {}),
    driverOpts: { ...(e.DriverOpts ?? {}) },
  };
}

function toMountRequest(m: MountSpec): MountRequest {
  const out: MountRequest = {
    type: m.Type ?? 'volume',
    source: m.Source ?? '',
    target: m.Target ?? '',
    readOnly: m.ReadOnly ?? false,
  };
  if (m.Consistency) out.consistency = m.Consistency;
  if (m.BindOptions) {
    out.bindOptions = {
      ...(m.BindOptions.Propagation ? { propagation: m.BindOptions.Propagation } : {}),
      ...(m.BindOptions.NonRecursive ? { nonRecursive: true } : {}),
      ...(m.BindOptions.CreateMountpoint ? { createMountpoint: true } : {}),
    };
  }
  if (m.VolumeOptions) {
    const v = m.VolumeOptions;
    out.volumeOptions = {
      ...(v.NoCopy ? { noCopy: true } : {}),
      ...(v.Labels ? { labels: { ...v.Labels } } : {}),
      ...(v.DriverConfig
        ? {
            driver: {
              ...(v.DriverConfig.Name ? { name: v.DriverConfig.Name } : {}),
              ...(v.DriverConfig.Options ? { options: { ...v.DriverConfig.Options } } : {}),
            },
          }
        : {}),
      ...(v.Subpath ? { subpath: v.Subpath } : {}),
    };
  }
  if (m.TmpfsOptions) {
    const t = m.TmpfsOptions;
    out.tmpfsOptions = {
      ...(t.SizeBytes ? { sizeBytes: t.SizeBytes } : {}),
      ...(t.Mode ? { mode: t.Mode } : {}),
      ...(t.Options ? { options: t.Options.map((o) => [...o]) } : {}),
    };
  }
  return out;
}
