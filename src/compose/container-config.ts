/**
 * A compose service -> an Engine API create body, with Docker Compose's labels and names
 * (`<project>-<service>-<n>`, com.docker.compose.*) so that docker compose and berth compose see
 * each other's containers. The config hash covers what decides whether a container is current.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { ContainerCreateRequest } from '../api/types/index.ts';
import { invalidParameter } from '../common/errors.ts';
import { secretAndConfigMounts } from './file-refs.ts';
import { serviceHash } from './hash.ts';
import type { Project, Service } from './model.ts';
import { checkServiceKeys } from './unsupported.ts';
import { formatDuration, parseDuration, ramInBytes } from './values.ts';

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  configHash: 'com.docker.compose.config-hash',
  oneoff: 'com.docker.compose.oneoff',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  environmentFile: 'com.docker.compose.project.environment_file',
  replace: 'com.docker.compose.replace',
} as const;

/**
 * The compose version we write in labels: the Docker Compose release whose model (compose-go
 * v2.9.1) and config-hash algorithm we follow.
 */
export const COMPOSE_VERSION = '2.40.3';

export function containerName(project: Project, service: string, n: number): string {
  const svc = project.services[service];
  if (svc?.container_name) return svc.container_name;
  return `${project.name}-${service}-${n}`;
}

/** Docker Compose's config hash (see hash.ts); `svc` has its service references resolved. */
export function configHash(svc: Service): string {
  return serviceHash(svc);
}

/** The image a service runs: `image`, or `<project>-<service>` for a build-only service. */
export function serviceImage(project: Project, key: string): string {
  return project.services[key]?.image || `${project.name}-${key}`;
}

/**
 * What a service refers to on the daemon, resolved before hashing and creating as Compose does
 * (convergence.resolveServiceReferences): volumes_from and `service:` namespaces name the first
 * container of that service; links expand to Compose's three aliases per linked container.
 */
export interface ResolvedRefs {
  /** The service with volumes_from / network_mode / ipc / pid rewritten for hashing. */
  service: Service;
  /** HostConfig.VolumesFrom (with the :ro/:rw mode kept). */
  volumesFrom: string[];
  links: string[];
  /** Image ID for the com.docker.compose.image label. */
  imageId?: string;
  /** The container this one replaces (com.docker.compose.replace), when recreating. */
  replaces?: string;
  /** The anonymous volumes of the replaced container, taken over by this one. */
  inherited?: InheritedVolume[];
}

/** An anonymous volume mounted at `target` in the container being replaced. */
export interface InheritedVolume {
  name: string;
  target: string;
  readOnly: boolean;
}

/** Go duration ("1m30s", "500ms", "10s") -> nanoseconds. */
export function durationNs(s: string | undefined): number | undefined {
  return s === undefined ? undefined : parseDuration(s);
}

/** "512m", "1g", 1024 -> bytes. */
export function bytes(v: string | number | undefined): number | undefined {
  return v === undefined ? undefined : ramInBytes(v);
}

export { formatDuration };

export function serviceNetworks(project: Project, svc: Service): [string, string][] {
  // [compose key, daemon network name], highest priority first.
  return Object.entries(svc.networks ?? {})
    .sort(([, a], [, b]) => (b?.priority ?? 0) - (a?.priority ?? 0))
    .map(([key]) => [key, project.networks[key]?.name ?? key]);
}

function restartPolicy(svc: Service): { Name: string; MaximumRetryCount: number } {
  let policy = { Name: 'no', MaximumRetryCount: 0 };
  if (svc.restart) {
    const [name, retries] = svc.restart.split(':');
    policy = { Name: name as string, MaximumRetryCount: Number(retries ?? 0) || 0 };
  }
  const rp = (svc.deploy as { restart_policy?: { condition?: string; max_attempts?: number } } | undefined)
    ?.restart_policy;
  if (rp) {
    // Compose maps the swarm conditions onto the engine's policies (create.go mapRestartPolicyCondition).
    const name =
      rp.condition === 'none'
        ? 'no'
        : rp.condition === 'on-failure'
          ? 'on-failure'
          : rp.condition === 'any' || rp.condition === undefined
            ? 'always'
            : rp.condition;
    policy = { Name: name, MaximumRetryCount: rp.max_attempts ?? 0 };
  }
  return policy;
}

/**
 * security_opt as Compose passes it (create.go parseSecurityOpts): a seccomp profile given as a
 * file is read (relative to the project) and sent inline, compacted; `systempaths=unconfined`
 * clears the masked and read-only paths.
 */
function securityOpts(project: Project, opts: string[] | undefined): Record<string, unknown> {
  if (!opts?.length) return {};
  const out: string[] = [];
  let unconfined = false;
  for (const opt of opts) {
    if (opt === 'systempaths=unconfined') {
      unconfined = true;
      continue;
    }
    let [k, v] = opt.split(/=(.*)/s) as [string, string?];
    if (v === undefined && k !== 'no-new-privileges') {
      if (!opt.includes(':')) throw invalidParameter(`invalid security-opt: ${JSON.stringify(opt)}`);
      [k, v] = opt.split(/:(.*)/s) as [string, string?];
    }
    if (k === 'seccomp' && v !== undefined && v !== 'unconfined' && v !== 'builtin') {
      const file = isAbsolute(v) ? v : join(project.workingDir, v);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw invalidParameter(`opening seccomp profile (${v}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      out.push(`seccomp=${JSON.stringify(JSON.parse(text))}`);
    } else out.push(opt);
  }
  return {
    ...(out.length ? { SecurityOpt: out } : {}),
    ...(unconfined ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
  };
}

type Resource = { cpus?: number; memory?: number; pids?: number; devices?: unknown[] };

function deployResources(svc: Service): Record<string, unknown> {
  const res = (svc.deploy as { resources?: { limits?: Resource; reservations?: Resource } } | undefined)
    ?.resources;
  const out: Record<string, unknown> = {};
  if (res?.limits) {
    if (res.limits.cpus) out.NanoCpus = Math.round(res.limits.cpus * 1e9);
    if (res.limits.memory) out.Memory = res.limits.memory;
    if (res.limits.pids) out.PidsLimit = res.limits.pids;
  }
  if (res?.reservations) {
    if (res.reservations.memory) out.MemoryReservation = res.reservations.memory;
    if (res.reservations.devices?.length)
      throw invalidParameter(
        'deploy.resources.reservations.devices (GPUs and other devices requests) is not supported by berth',
      );
  }
  return out;
}

function blkio(svc: Service): Record<string, unknown> {
  const b = svc.blkio_config as
    | {
        weight?: number;
        weight_device?: { path: string; weight: number }[];
        device_read_bps?: { path: string; rate: number | string }[];
        device_read_iops?: { path: string; rate: number | string }[];
        device_write_bps?: { path: string; rate: number | string }[];
        device_write_iops?: { path: string; rate: number | string }[];
      }
    | undefined;
  if (!b) return {};
  const thr = (l?: { path: string; rate: number | string }[], size = false) =>
    l?.map((d) => ({ Path: d.path, Rate: size ? ramInBytes(d.rate) : Number(d.rate) }));
  return {
    ...(b.weight ? { BlkioWeight: b.weight } : {}),
    ...(b.weight_device
      ? { BlkioWeightDevice: b.weight_device.map((d) => ({ Path: d.path, Weight: d.weight })) }
      : {}),
    ...(b.device_read_bps ? { BlkioDeviceReadBps: thr(b.device_read_bps, true) } : {}),
    ...(b.device_write_bps ? { BlkioDeviceWriteBps: thr(b.device_write_bps, true) } : {}),
    ...(b.device_read_iops ? { BlkioDeviceReadIOps: thr(b.device_read_iops) } : {}),
    ...(b.device_write_iops ? { BlkioDeviceWriteIOps: thr(b.device_write_iops) } : {}),
  };
}

/** Endpoint settings for one of the service's networks (Compose's createEndpointSettings). */
export function endpointSettings(
  project: Project,
  serviceKey: string,
  n: number,
  netKey: string,
  links: string[] = [],
): Record<string, unknown> {
  const svc = project.services[serviceKey] as Service;
  const cfg = svc.networks?.[netKey] as
    | (NonNullable<NonNullable<Service['networks']>[string]> & {
        link_local_ips?: string[];
        mac_address?: string;
        driver_opts?: Record<string, string>;
        interface_name?: string;
        gw_priority?: number;
      })
    | null
    | undefined;
  // A service-level mac_address applies to the primary (highest priority) network.
  const primary = serviceNetworks(project, svc)[0]?.[0] === netKey;
  const driverOpts = { ...(cfg?.driver_opts ?? {}) };
  if (cfg?.interface_name) driverOpts['com.docker.network.endpoint.ifname'] = cfg.interface_name;
  return {
    Aliases: [containerName(project, serviceKey, n), serviceKey, ...(cfg?.aliases ?? [])],
    ...(links.length ? { Links: links } : {}),
    ...(cfg && (cfg.ipv4_address || cfg.ipv6_address || cfg.link_local_ips)
      ? {
          IPAMConfig: {
            ...(cfg.ipv4_address ? { IPv4Address: cfg.ipv4_address } : {}),
            ...(cfg.ipv6_address ? { IPv6Address: cfg.ipv6_address } : {}),
            ...(cfg.link_local_ips ? { LinkLocalIPs: cfg.link_local_ips } : {}),
          },
        }
      : {}),
    ...(cfg?.mac_address || (primary && typeof svc.mac_address === 'string')
      ? { MacAddress: cfg?.mac_address || (svc.mac_address as string) }
      : {}),
    ...(Object.keys(driverOpts).length ? { DriverOpts: driverOpts } : {}),
    ...(cfg?.gw_priority ? { GwPriority: cfg.gw_priority } : {}),
  };
}

export function createBody(
  project: Project,
  serviceKey: string,
  n: number,
  hash: string,
  refs?: ResolvedRefs,
): ContainerCreateRequest {
  const svc = project.services[serviceKey] as Service;
  checkServiceKeys(serviceKey, svc);
  const resolved = refs?.service ?? svc;
  const labels: Record<string, string> = {
    ...(svc.labels ?? {}),
    [LABEL.project]: project.name,
    [LABEL.service]: serviceKey,
    [LABEL.number]: String(n),
    [LABEL.configHash]: hash,
    [LABEL.oneoff]: 'False',
    [LABEL.workingDir]: project.workingDir,
    [LABEL.configFiles]: project.configFiles.join(','),
    [LABEL.version]: COMPOSE_VERSION,
    [LABEL.dependsOn]: Object.entries(svc.depends_on ?? {})
      .map(([k, d]) => `${k}:${d.condition}:${d.restart ?? false}`)
      .sort()
      .join(','),
    ...(refs?.imageId ? { [LABEL.image]: refs.imageId } : {}),
    ...(refs?.replaces ? { [LABEL.replace]: refs.replaces } : {}),
    ...(project.envFiles?.length ? { [LABEL.environmentFile]: project.envFiles.join(',') } : {}),
  };
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of svc.ports ?? []) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    bindings[key] = [...(bindings[key] ?? []), { HostIp: p.host_ip ?? '', HostPort: p.published ?? '' }];
  }
  for (const e of svc.expose ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const mounts: Record<string, unknown>[] = (svc.volumes ?? []).map((v) => {
    if (v.type !== 'bind' && v.type !== 'volume' && v.type !== 'tmpfs')
      throw invalidParameter(
        `service "${serviceKey}": volumes of type "${v.type}" are not supported by berth`,
      );
    const bindOpts = {
      ...(v.bind?.propagation ? { Propagation: v.bind.propagation } : {}),
      ...(v.bind?.create_host_path ? { CreateMountpoint: true } : {}),
    };
    return {
      Type: v.type,
      Source:
        v.type === 'volume' && v.source ? (project.volumes[v.source]?.name ?? v.source) : (v.source ?? ''),
      Target: v.target,
      ReadOnly: v.read_only ?? false,
      ...(v.consistency ? { Consistency: v.consistency } : {}),
      ...(v.type === 'bind' && Object.keys(bindOpts).length ? { BindOptions: bindOpts } : {}),
      ...(v.type === 'volume'
        ? {
            VolumeOptions: {
              NoCopy: v.volume?.nocopy ?? false,
              Labels: { [LABEL.project]: project.name },
              ...(v.volume?.subpath ? { Subpath: v.volume.subpath } : {}),
            },
          }
        : {}),
      ...(v.type === 'tmpfs' && (v.tmpfs?.size !== undefined || v.tmpfs?.mode !== undefined)
        ? {
            TmpfsOptions: {
              ...(v.tmpfs.size !== undefined ? { SizeBytes: bytes(v.tmpfs.size) } : {}),
              ...(v.tmpfs.mode !== undefined ? { Mode: v.tmpfs.mode } : {}),
            },
          }
        : {}),
    };
  });
  inheritVolumes(mounts, refs?.inherited ?? []);
  mounts.push(...secretAndConfigMounts(project, serviceKey));
  const nets = serviceNetworks(project, svc);
  const first = nets[0];
  const h = svc.healthcheck;
  const ulimits = Object.entries(svc.ulimits ?? {}).map(([Name, v]) =>
    typeof v === 'number' ? { Name, Soft: v, Hard: v } : { Name, Soft: v.soft, Hard: v.hard },
  );
  const str = (k: string) => (typeof svc[k] === 'string' && svc[k] ? (svc[k] as string) : undefined);
  const num = (k: string) => (typeof svc[k] === 'number' ? (svc[k] as number) : undefined);
  const list = (k: string) =>
    Array.isArray(svc[k]) && (svc[k] as unknown[]).length ? (svc[k] as string[]) : undefined;
  const logging = svc.logging;
  const body: ContainerCreateRequest = {
    Image: serviceImage(project, serviceKey),
    Labels: labels,
    Env: Object.entries(svc.environment ?? {}).map(([k, v]) => (v === null ? k : `${k}=${v}`)),
    ...(svc.command ? { Cmd: svc.command } : {}),
    ...(svc.entrypoint ? { Entrypoint: svc.entrypoint } : {}),
    ...(svc.user ? { User: svc.user } : {}),
    ...(svc.working_dir ? { WorkingDir: svc.working_dir } : {}),
    ...(svc.hostname ? { Hostname: svc.hostname } : {}),
    ...(svc.domainname ? { Domainname: svc.domainname } : {}),
    ...(svc.tty ? { Tty: true } : {}),
    ...(svc.stdin_open ? { OpenStdin: true } : {}),
    ...(svc.stop_signal ? { StopSignal: svc.stop_signal } : {}),
    ...(svc.network_mode === 'disabled' ? { NetworkDisabled: true } : {}),
    ...(svc.stop_grace_period
      ? { StopTimeout: Math.trunc((durationNs(svc.stop_grace_period) ?? 0) / 1e9) }
      : {}),
    ExposedPorts: exposed,
    ...(h
      ? {
          Healthcheck: h.disable
            ? { Test: ['NONE'] }
            : {
                ...(h.test ? { Test: h.test } : {}),
                ...(h.interval ? { Interval: durationNs(h.interval) } : {}),
                ...(h.timeout ? { Timeout: durationNs(h.timeout) } : {}),
                ...(h.retries !== undefined ? { Retries: h.retries } : {}),
                ...(h.start_period ? { StartPeriod: durationNs(h.start_period) } : {}),
                ...(h.start_interval ? { StartInterval: durationNs(h.start_interval) } : {}),
              },
        }
      : {}),
    HostConfig: {
      Mounts: mounts,
      PortBindings: bindings,
      RestartPolicy: restartPolicy(svc),
      NetworkMode:
        svc.network_mode === 'disabled'
          ? 'none'
          : (resolved.network_mode ??
            first?.[1] ??
            (Object.keys(project.networks).length ? 'default' : 'none')),
      ...(svc.cap_add ? { CapAdd: svc.cap_add } : {}),
      ...(svc.cap_drop ? { CapDrop: svc.cap_drop } : {}),
      ...(svc.mem_limit !== undefined ? { Memory: bytes(svc.mem_limit) } : {}),
      ...(svc.memswap_limit !== undefined ? { MemorySwap: bytes(svc.memswap_limit) } : {}),
      ...(num('mem_reservation') !== undefined ? { MemoryReservation: num('mem_reservation') } : {}),
      ...(num('mem_swappiness') !== undefined ? { MemorySwappiness: num('mem_swappiness') } : {}),
      ...(svc.cpus !== undefined ? { NanoCpus: Math.round(Number(svc.cpus) * 1e9) } : {}),
      ...(num('cpu_shares') ? { CpuShares: num('cpu_shares') } : {}),
      ...(num('cpu_period') ? { CpuPeriod: num('cpu_period') } : {}),
      ...(num('cpu_quota') ? { CpuQuota: num('cpu_quota') } : {}),
      ...(num('cpu_rt_period') ? { CpuRealtimePeriod: num('cpu_rt_period') } : {}),
      ...(num('cpu_rt_runtime') ? { CpuRealtimeRuntime: num('cpu_rt_runtime') } : {}),
      ...(num('cpu_count') ? { CpuCount: num('cpu_count') } : {}),
      // Compose sends cpu_percent * 100 (create.go getDeployResources).
      ...(num('cpu_percent') ? { CpuPercent: Math.trunc((num('cpu_percent') as number) * 100) } : {}),
      ...(str('cpuset') ? { CpusetCpus: str('cpuset') } : {}),
      ...(str('cgroup_parent') ? { CgroupParent: str('cgroup_parent') } : {}),
      ...(str('cgroup') ? { CgroupnsMode: str('cgroup') } : {}),
      ...(svc.pids_limit !== undefined ? { PidsLimit: svc.pids_limit } : {}),
      ...deployResources(svc),
      ...blkio(svc),
      ...(ulimits.length ? { Ulimits: ulimits } : {}),
      ...(svc.init !== undefined ? { Init: svc.init } : {}),
      ...(svc.privileged ? { Privileged: true } : {}),
      ...(svc.read_only ? { ReadonlyRootfs: true } : {}),
      ...(svc.tmpfs
        ? {
            Tmpfs: Object.fromEntries(
              svc.tmpfs.map((t) => [t.split(':')[0], t.split(':').slice(1).join(':')]),
            ),
          }
        : {}),
      ...(svc.dns ? { Dns: ([] as string[]).concat(svc.dns) } : {}),
      ...(list('dns_search') ? { DnsSearch: list('dns_search') } : {}),
      ...(list('dns_opt') ? { DnsOptions: list('dns_opt') } : {}),
      ...(svc.extra_hosts?.length ? { ExtraHosts: svc.extra_hosts.map((e) => e.replace('=', ':')) } : {}),
      ...(svc.sysctls
        ? { Sysctls: Object.fromEntries(Object.entries(svc.sysctls).map(([k, v]) => [k, String(v)])) }
        : {}),
      ...(svc.shm_size !== undefined ? { ShmSize: bytes(svc.shm_size) } : {}),
      ...securityOpts(project, svc.security_opt),
      ...(list('group_add') ? { GroupAdd: list('group_add') } : {}),
      ...(resolved.ipc ? { IpcMode: resolved.ipc as string } : {}),
      ...(resolved.pid ? { PidMode: resolved.pid as string } : {}),
      ...(str('uts') ? { UTSMode: str('uts') } : {}),
      ...(str('userns_mode') ? { UsernsMode: str('userns_mode') } : {}),
      ...(str('runtime') ? { Runtime: str('runtime') } : {}),
      ...(str('isolation') ? { Isolation: str('isolation') } : {}),
      ...(svc.oom_kill_disable ? { OomKillDisable: true } : {}),
      ...(num('oom_score_adj') ? { OomScoreAdj: num('oom_score_adj') } : {}),
      ...(svc.storage_opt ? { StorageOpt: svc.storage_opt as Record<string, string> } : {}),
      ...(svc.annotations ? { Annotations: svc.annotations as Record<string, string> } : {}),
      ...(list('device_cgroup_rules') ? { DeviceCgroupRules: list('device_cgroup_rules') } : {}),
      ...(Array.isArray(svc.devices) && svc.devices.length
        ? {
            Devices: (svc.devices as { source: string; target?: string; permissions?: string }[]).map(
              (d) => ({
                PathOnHost: d.source,
                PathInContainer: d.target || d.source,
                CgroupPermissions: d.permissions || 'rwm',
              }),
            ),
          }
        : {}),
      ...(str('volume_driver') ? { VolumeDriver: str('volume_driver') } : {}),
      ...(refs?.volumesFrom.length ? { VolumesFrom: refs.volumesFrom } : {}),
      ...(refs?.links.length ? { Links: refs.links } : {}),
      ...(logging ? { LogConfig: { Type: logging.driver ?? '', Config: logging.options ?? {} } } : {}),
    } as ContainerCreateRequest['HostConfig'],
  };
  if (first && !svc.network_mode) {
    body.NetworkingConfig = {
      EndpointsConfig: { [first[1]]: endpointSettings(project, serviceKey, n, first[0], refs?.links) },
    } as never;
  }
  return body;
}

/**
 * Anonymous volumes keep their data across a recreate: a service volume without a source gets
 * the old one's name, and an image VOLUME no service volume covers is mounted again by name.
 */
function inheritVolumes(mounts: Record<string, unknown>[], inherited: InheritedVolume[]): void {
  const clean = (p: unknown) => posix.normalize(String(p)).replace(/(.)\/$/, '$1');
  for (const v of inherited) {
    const at = mounts.find((m) => clean(m.Target) === clean(v.target));
    if (at) {
      if (at.Type === 'volume' && !at.Source) at.Source = v.name;
      continue;
    }
    mounts.push({ Type: 'volume', Source: v.name, Target: v.target, ReadOnly: v.readOnly });
  }
}
