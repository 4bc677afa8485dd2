/**
 * A compose service -> an Engine API create body, with Docker Compose's labels and names
 * (`<project>-<service>-<n>`, com.docker.compose.*) so that docker compose and berth compose see
 * each other's containers. The config hash covers what decides whether a container is current.
 */
import { createHash } from 'node:crypto';
import type { ContainerCreateRequest } from '../api/types/index.ts';
import type { Project, Service } from './model.ts';

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
} as const;

/** The compose version we write in labels (the docker compose v2 line we follow). */
export const COMPOSE_VERSION = '2.29.0';

export function containerName(project: Project, service: string, n: number): string {
  const svc = project.services[service];
  if (svc?.container_name) return svc.container_name;
  return `${project.name}-${service}-${n}`;
}

/** sha256 of the service's configuration, without what does not shape a container (scale). */
export function configHash(svc: Service): string {
  const { scale: _s, deploy, build: _b, depends_on: _d, ...rest } = svc;
  const { replicas: _r, ...deployRest } = deploy ?? {};
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, deploy: deployRest }))
    .digest('hex');
}

/** Go duration ("1m30s", "500ms", "10s") -> nanoseconds. */
export function durationNs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  let matched = '';
  for (m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    matched += m[0];
  }
  if (matched !== s) throw new Error(`invalid duration ${JSON.stringify(s)}`);
  return Math.round(total);
}

/** "512m", "1g", 1024 -> bytes. */
export function bytes(v: string | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(v)}`);
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Math.round(Number(m[1]) * (mult[(m[2] as string).toLowerCase()] as number));
}

export function serviceNetworks(project: Project, svc: Service): [string, string][] {
  // [compose key, daemon network name], highest priority first.
  return Object.entries(svc.networks ?? {})
    .sort(([, a], [, b]) => (b?.priority ?? 0) - (a?.priority ?? 0))
    .map(([key]) => [key, project.networks[key]?.name ?? key]);
}

export function createBody(
  project: Project,
  serviceKey: string,
  n: number,
  hash: string,
): ContainerCreateRequest {
  const svc = project.services[serviceKey] as Service;
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
      .join(','),
  };
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of svc.ports ?? []) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    bindings[key] = [...(bindings[key] ?? []), { HostIp: p.host_ip ?? '', HostPort: p.published ?? '' }];
  }
  for (const e of svc.expose ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const mounts = (svc.volumes ?? []).map((v) => ({
    Type: v.type as 'bind' | 'volume' | 'tmpfs',
    Source:
      v.type === 'volume' && v.source ? (project.volumes[v.source]?.name ?? v.source) : (v.source ?? ''),
    Target: v.target,
    ReadOnly: v.read_only ?? false,
    ...(v.type === 'bind' && v.bind?.propagation ? { BindOptions: { Propagation: v.bind.propagation } } : {}),
    ...(v.type === 'bind' && v.bind?.create_host_path ? { BindOptions: { CreateMountpoint: true } } : {}),
    ...(v.type === 'volume'
      ? { VolumeOptions: { NoCopy: v.volume?.nocopy ?? false, Labels: { [LABEL.project]: project.name } } }
      : {}),
    ...(v.type === 'tmpfs' && v.tmpfs?.size !== undefined
      ? { TmpfsOptions: { SizeBytes: bytes(v.tmpfs.size) } }
      : {}),
  }));
  const nets = serviceNetworks(project, svc);
  const first = nets[0];
  const restart = svc.restart ?? 'no';
  const [restartName, retries] = restart.split(':');
  const h = svc.healthcheck;
  const ulimits = Object.entries(svc.ulimits ?? {}).map(([Name, v]) =>
    typeof v === 'number' ? { Name, Soft: v, Hard: v } : { Name, Soft: v.soft, Hard: v.hard },
  );
  const body: ContainerCreateRequest = {
    Image: svc.image as string,
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
    ...(svc.stop_grace_period
      ? { StopTimeout: Math.round((durationNs(svc.stop_grace_period) ?? 0) / 1e9) }
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
      RestartPolicy: { Name: restartName as never, MaximumRetryCount: Number(retries ?? 0) },
      NetworkMode: svc.network_mode ?? first?.[1] ?? 'default',
      ...(svc.cap_add ? { CapAdd: svc.cap_add } : {}),
      ...(svc.cap_drop ? { CapDrop: svc.cap_drop } : {}),
      ...(svc.mem_limit !== undefined ? { Memory: bytes(svc.mem_limit) } : {}),
      ...(svc.memswap_limit !== undefined ? { MemorySwap: bytes(svc.memswap_limit) } : {}),
      ...(svc.cpus !== undefined ? { NanoCpus: Math.round(Number(svc.cpus) * 1e9) } : {}),
      ...(svc.pids_limit !== undefined ? { PidsLimit: svc.pids_limit } : {}),
      ...(ulimits.length ? { Ulimits: ulimits } : {}),
      ...(svc.init !== undefined ? { Init: svc.init } : {}),
      ...(svc.privileged ? { Privileged: true } : {}),
      ...(svc.read_only ? { ReadonlyRootfs: true } : {}),
      ...(svc.tmpfs
        ? { Tmpfs: Object.fromEntries(svc.tmpfs.map((t) => [t.split(':')[0], t.split(':')[1] ?? ''])) }
        : {}),
      ...(svc.dns ? { Dns: ([] as string[]).concat(svc.dns) } : {}),
      ...(svc.extra_hosts && !Array.isArray(svc.extra_hosts)
        ? { ExtraHosts: Object.entries(svc.extra_hosts).map(([k, v]) => `${k}:${v}`) }
        : {}),
      ...(svc.sysctls
        ? { Sysctls: Object.fromEntries(Object.entries(svc.sysctls).map(([k, v]) => [k, String(v)])) }
        : {}),
      ...(svc.shm_size !== undefined ? { ShmSize: bytes(svc.shm_size) } : {}),
      ...(svc.security_opt ? { SecurityOpt: svc.security_opt } : {}),
    } as ContainerCreateRequest['HostConfig'],
  };
  if (first && !svc.network_mode) {
    const cfg = svc.networks?.[first[0]];
    body.NetworkingConfig = {
      EndpointsConfig: {
        [first[1]]: {
          Aliases: [serviceKey, ...(cfg?.aliases ?? [])],
          ...(cfg?.ipv4_address ? { IPAMConfig: { IPv4Address: cfg.ipv4_address } } : {}),
        },
      },
    } as never;
  }
  return body;
}
