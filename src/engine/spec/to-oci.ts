/**
 * ContainerSpec + what the engine prepared for this start → the OCI runtime spec (config.json),
 * built the way dockerd builds it: the base spec of moby daemon/pkg/oci/defaults.go adjusted by
 * daemon/oci_linux.go (createSpec: common options, cgroups, resources, sysctls, user, devices,
 * rlimits, namespaces, capabilities, mounts, OOM score).
 *
 * Lifecycle: at every `start` the engine mounts the rootfs, writes /etc/hostname, hosts and
 * resolv.conf into the container folder, prepares the network namespace, resolves the user
 * (resolveUser) and the bind/volume sources, then calls toOciSpec and writes the result as the
 * bundle's config.json for the runtime. Pure: no I/O. Throws InvalidParameter for settings that
 * Docker rejects only at start (bad tmpfs options, bad device cgroup rules).
 */
import { invalidParameter } from '../../common/index.ts';
import type {
  LinuxDevice,
  LinuxDeviceCgroup,
  LinuxResources,
  OciMount,
  OciNamespace,
  OciNamespaceType,
  OciRlimit,
  RuntimeSpec,
} from '../../oci/index.ts';
import { tweakCapabilities } from './capabilities.ts';
import type { ContainerSpec, ThrottleDeviceSpec } from './container-spec.ts';
import {
  DEFAULT_DEVICE_RULES,
  DEFAULT_MOUNTS,
  DEFAULT_NETWORK_SYSCTLS,
  DEFAULT_PATH_ENV,
  type DeviceRule,
  RUNC_APPENDED_DEVICE_RULES,
} from './defaults.ts';
import { normalizePath } from './mount-config.ts';
import { type SeccompPlatform, seccompForContainer } from './seccomp.ts';
import { convertTmpfsOptions, parseTmpfsOptions } from './tmpfs.ts';
import { containerModeTarget } from './validate.ts';

/** The OCI runtime spec version we write. */
export const OCI_VERSION = '1.0.2-dev';

/** Where Docker mounts the --init binary inside the container. */
export const IN_CONTAINER_INIT_PATH = '/sbin/docker-init';

/**
 * How a namespace is obtained: a new one, the host's (none in the spec), or join an existing one
 * by path (`/run/netns/x`) or by a process (`pid` → `/proc/<pid>/ns/<type>`).
 */
export type NamespaceSource =
  | { mode: 'new' }
  | { mode: 'host' }
  | { mode: 'path'; path: string }
  | { mode: 'path'; pid: number };

/** A bind or volume mount whose host source the engine has already resolved. */
export interface ResolvedMount {
  source: string;
  destination: string;
  writable: boolean;
  /** `rprivate` (default), `private`, `shared`, `rshared`, `slave`, `rslave`. */
  propagation?: string;
  /** `bind` instead of `rbind`. */
  nonRecursive?: boolean;
}

/** A `--device` entry resolved to a device node (the engine stats the host path). */
export interface ResolvedDevice {
  /** Path inside the container. */
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
  /** Cgroup access, `rwm` or a subset. */
  permissions: string;
}

export interface OciContext {
  /** The mounted root filesystem (overlay merged dir). */
  rootfsPath: string;
  /** `/berth/<id>` (or under the container's CgroupParent). */
  cgroupsPath: string;
  /** Files the engine wrote; bind-mounted onto /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  hostnamePath?: string;
  hostsPath?: string;
  resolvConfPath?: string;
  /** From resolveUser. */
  user: { uid: number; gid: number; additionalGids: number[]; home?: string };
  /** The network namespace: new, the host's, or join (a netns file or another container's pid). */
  netns: NamespaceSource;
  /** Default: from the spec's modes (`host` → host, private → new; `container:<x>` must be given). */
  pidns?: NamespaceSource;
  ipcns?: NamespaceSource;
  utsns?: NamespaceSource;
  /** Binds and volumes (not tmpfs: those come from the spec), sources resolved. */
  mounts?: ResolvedMount[];
  /** Host directory bind-mounted at /dev/shm (IPC shareable, container:<x>, host). */
  shmPath?: string;
  /** Resolved --device entries. */
  devices?: ResolvedDevice[];
  /** Privileged containers get every host device node. */
  hostDevices?: LinuxDevice[];
  /** Host block devices named by blkio settings: path → major/minor. */
  blockDevices?: Record<string, { major: number; minor: number }>;
  /** Host path of the init binary; used when the container asks for --init (or initByDefault). */
  initPath?: string;
  initByDefault?: boolean;
  /** Env from legacy links (`DB_PORT=…`), placed before the container's env. */
  linkedEnv?: string[];
  /** The daemon's --no-new-privileges (the container did not turn it off). */
  noNewPrivilegesByDefault?: boolean;
  /** The daemon's --seccomp-profile for containers that name none: `unconfined` or a profile's JSON text. */
  defaultSeccompProfile?: string;
  /** Daemon default ulimits; the container's --ulimit wins per name. */
  defaultUlimits?: { name: string; soft: number; hard: number }[];
  /** Set Docker's network sysctls for a new netns (default true; false when the host lacks them). */
  networkSysctls?: boolean;
  /** Docker 29 adds a time namespace; Docker 20.10 and runc 1.1 do not (default false). */
  timeNamespace?: boolean;
  /** Additional masked paths (Docker masks /sys/devices/system/cpu/cpuN/thermal_throttle when present). */
  extraMaskedPaths?: string[];
  apiVersion?: string;
  /**
   * The capabilities berthd itself holds (its CapBnd): what --privileged grants. Default: every
   * capability the kernel knows, which a host with a reduced bounding set cannot grant.
   */
  engineCapabilities?: readonly string[];
  /** GOARCH and kernel release the seccomp profile is resolved for (default amd64, 6.0). */
  seccompPlatform?: SeccompPlatform;
  /** False when the kernel has no seccomp: containers run unfiltered, custom profiles fail. */
  seccompEnabled?: boolean;
}

/**
 * The OCI runtime spec for one start of the container. See the file comment for the order of
 * calls; the result is plain JSON.
 */
export function toOciSpec(spec: ContainerSpec, ctx: OciContext): RuntimeSpec {
  const privileged = spec.security.privileged;
  const capabilities = privileged
    ? [...(ctx.engineCapabilities ?? tweakCapabilities([], [], true))]
    : tweakCapabilities(spec.security.capAdd, spec.security.capDrop, false);
  const seccomp = seccompForContainer({
    privileged,
    profile: spec.security.seccompProfile ?? ctx.defaultSeccompProfile,
    boundingCaps: capabilities,
    platform: ctx.seccompPlatform ?? { arch: 'amd64', kernel: '6.0' },
    ...(ctx.seccompEnabled !== undefined ? { seccompEnabled: ctx.seccompEnabled } : {}),
  });
  const pidPrivate = spec.namespaces.pid === '';
  const useInit = pidPrivate && ctx.initPath !== undefined && (spec.init ?? ctx.initByDefault ?? false);
  const args = [spec.path, ...spec.args];

  const env = processEnv(spec, ctx);
  const rlimits = processRlimits(spec, ctx);
  const utsHost = (ctx.utsns?.mode ?? (spec.namespaces.uts === 'host' ? 'host' : 'new')) === 'host';

  const out: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: spec.tty,
      ...(spec.tty && spec.consoleSize[0] > 0 && spec.consoleSize[1] > 0
        ? { consoleSize: { height: spec.consoleSize[0], width: spec.consoleSize[1] } }
        : {}),
      user: { uid: ctx.user.uid, gid: ctx.user.gid, additionalGids: [...ctx.user.additionalGids] },
      args: useInit ? [IN_CONTAINER_INIT_PATH, '--', ...args] : args,
      env,
      cwd: spec.workingDir || '/',
      capabilities: {
        bounding: [...capabilities],
        effective: [...capabilities],
        permitted: [...capabilities],
        inheritable: [],
        ambient: [],
      },
      ...(rlimits.length > 0 ? { rlimits } : {}),
      ...(spec.security.noNewPrivileges || ctx.noNewPrivilegesByDefault ? { noNewPrivileges: true } : {}),
      oomScoreAdj: spec.security.oomScoreAdj,
    },
    root: { path: ctx.rootfsPath, readonly: spec.security.readonlyRootfs },
    ...(utsHost ? {} : { hostname: spec.hostname }),
    ...(spec.domainname && !utsHost ? { domainname: spec.domainname } : {}),
    mounts: buildMounts(spec, ctx, useInit),
    ...(Object.keys(spec.annotations).length > 0 ? { annotations: { ...spec.annotations } } : {}),
    linux: {
      namespaces: buildNamespaces(spec, ctx),
      devices: buildDeviceNodes(spec, ctx),
      resources: buildResources(spec, ctx),
      cgroupsPath: ctx.cgroupsPath,
      sysctl: buildSysctls(spec, ctx),
      ...(seccomp ? { seccomp } : {}),
    },
  };
  const linux = out.linux ?? {};
  if (!privileged) {
    linux.maskedPaths = [...spec.security.maskedPaths, ...(ctx.extraMaskedPaths ?? [])];
    linux.readonlyPaths = [...spec.security.readonlyPaths];
  }
  const propagation = rootfsPropagation(ctx.mounts ?? []);
  if (propagation) linux.rootfsPropagation = propagation;
  return out;
}

/** CreateDaemonEnvironment: PATH, HOSTNAME, TERM (tty), link env, then the container's env replaces or appends. */
function processEnv(spec: ContainerSpec, ctx: OciContext): string[] {
  const defaults = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${spec.hostname}`];
  if (spec.tty) defaults.push('TERM=xterm');
  defaults.push(...(ctx.linkedEnv ?? []));
  const env = replaceOrAppendEnv(defaults, spec.env);
  // runc sets HOME from the user's passwd entry when the env has none; we decide it here so
  // every runtime gives the same environment.
  if (ctx.user.home !== undefined && !env.some((e) => e.startsWith('HOME=')))
    env.push(`HOME=${ctx.user.home}`);
  return env;
}

/** container/env.go ReplaceOrAppendEnvValues: same key replaces; a bare `KEY` removes. */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => {
    if (e !== undefined) index.set(keyOf(e), i);
  });
  for (const value of overrides) {
    const eq = value.indexOf('=');
    if (eq < 0) {
      const i = index.get(value);
      if (i !== undefined) out[i] = undefined;
      continue;
    }
    const i = index.get(value.slice(0, eq));
    if (i !== undefined && out[i] !== undefined) out[i] = value;
    else {
      index.set(value.slice(0, eq), out.length);
      out.push(value);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}

function keyOf(e: string): string {
  const eq = e.indexOf('=');
  return eq < 0 ? e : e.slice(0, eq);
}

function processRlimits(spec: ContainerSpec, ctx: OciContext): OciRlimit[] {
  const ulimits = [...spec.resources.ulimits];
  for (const d of ctx.defaultUlimits ?? []) if (!ulimits.some((u) => u.name === d.name)) ulimits.push(d);
  return ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: u.soft, hard: u.hard }));
}

/**
 * Docker's mount list: the base spec's mounts (minus those a user mount replaces, everything
 * under /dev when /dev itself is mounted, /dev/shm for IPC none), then the user's mounts
 * (network files, tmpfs, binds, volumes) sorted by destination depth so parents come first.
 */
function buildMounts(spec: ContainerSpec, ctx: OciContext, useInit: boolean): OciMount[] {
  const user: OciMount[] = [];
  const userBinds = ctx.mounts ?? [];
  const userDests = new Set(userBinds.map((m) => normalizePath(m.destination)));

  // The network files: writable unless the rootfs is read-only; a user mount at the same path wins.
  const networkFiles: [string | undefined, string][] = [
    [ctx.resolvConfPath, '/etc/resolv.conf'],
    [ctx.hostnamePath, '/etc/hostname'],
    [ctx.hostsPath, '/etc/hosts'],
  ];
  for (const [source, destination] of networkFiles) {
    if (source === undefined || userDests.has(destination)) continue;
    user.push(bindMount({ source, destination, writable: !spec.security.readonlyRootfs }));
  }
  if (ctx.shmPath !== undefined && spec.namespaces.ipc !== 'none' && !userDests.has('/dev/shm')) {
    user.push(bindMount({ source: ctx.shmPath, destination: '/dev/shm', writable: true }));
  }
  for (const [destination, data] of Object.entries(spec.storage.tmpfs)) {
    user.push({ destination, type: 'tmpfs', source: 'tmpfs', options: parseTmpfsOptions(data) });
  }
  for (const m of spec.storage.mounts) {
    if (m.type !== 'tmpfs') continue;
    const data = convertTmpfsOptions(
      {
        ...(m.tmpfsOptions?.sizeBytes ? { SizeBytes: m.tmpfsOptions.sizeBytes } : {}),
        ...(m.tmpfsOptions?.mode ? { Mode: m.tmpfsOptions.mode } : {}),
        ...(m.tmpfsOptions?.options ? { Options: m.tmpfsOptions.options } : {}),
      },
      m.readOnly,
    );
    user.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: parseTmpfsOptions(data) });
  }
  for (const m of userBinds) user.push(bindMount(m));

  const depth = (m: OciMount) => (normalizePath(m.destination).match(/\//g) ?? []).length;
  const sortedUser = user
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map((x) => x.m);

  const userMountDests = new Set(sortedUser.map((m) => normalizePath(m.destination)));
  const devMounted = userMountDests.has('/dev');
  const privileged = spec.security.privileged;
  const writableCgroups = spec.security.writableCgroups ?? privileged;
  const defaults: OciMount[] = [];
  for (const d of DEFAULT_MOUNTS) {
    if (userMountDests.has(d.destination)) continue;
    if (devMounted && d.destination.startsWith('/dev/')) continue;
    let options = [...d.options];
    if (d.destination === '/dev/shm') {
      if (spec.namespaces.ipc === 'none') continue;
      options.push(`size=${spec.storage.shmSize}`);
    }
    if (spec.security.readonlyRootfs && !RO_EXEMPT.has(d.destination) && !options.includes('ro')) {
      options.push('ro');
    }
    if (privileged && d.destination === '/sys') options = options.filter((o) => o !== 'ro');
    if (writableCgroups && d.type === 'cgroup') options = options.filter((o) => o !== 'ro');
    defaults.push({ destination: d.destination, type: d.type, source: d.source, options });
  }
  const mounts = [...defaults, ...sortedUser];
  if (useInit && ctx.initPath !== undefined) {
    mounts.push({
      destination: IN_CONTAINER_INIT_PATH,
      type: 'bind',
      source: ctx.initPath,
      options: ['bind', 'ro'],
    });
  }
  return mounts;
}

/** Default mounts that stay writable with a read-only rootfs. */
const RO_EXEMPT = new Set(['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev']);

function bindMount(m: ResolvedMount): OciMount {
  const options = [m.nonRecursive ? 'bind' : 'rbind'];
  if (!m.writable) options.push('ro');
  options.push(m.propagation || 'rprivate');
  return { destination: m.destination, type: 'bind', source: m.source, options };
}

/** A shared bind needs a shared rootfs; a slave bind needs at least rslave (oci_linux.go withMounts). */
function rootfsPropagation(mounts: ResolvedMount[]): string | undefined {
  let result: string | undefined;
  for (const m of mounts) {
    if (m.propagation === 'shared' || m.propagation === 'rshared') result = 'shared';
    else if ((m.propagation === 'slave' || m.propagation === 'rslave') && result === undefined)
      result = 'rslave';
  }
  return result;
}

/**
 * Docker 20.10's base namespaces (mount, network, uts, pid, ipc), then per mode: host removes,
 * a path joins; cgroup is added when the cgroupns mode is private.
 */
function buildNamespaces(spec: ContainerSpec, ctx: OciContext): OciNamespace[] {
  const types: OciNamespaceType[] = ['mount', 'network', 'uts', 'pid', 'ipc'];
  if (ctx.timeNamespace) types.splice(2, 0, 'time');
  const namespaces: OciNamespace[] = types.map((type) => ({ type }));
  const apply = (type: OciNamespaceType, source: NamespaceSource) => {
    const i = namespaces.findIndex((n) => n.type === type);
    if (source.mode === 'host') {
      if (i >= 0) namespaces.splice(i, 1);
      return;
    }
    let ns: OciNamespace = { type };
    if (source.mode === 'path') {
      ns = { type, path: 'path' in source ? source.path : `/proc/${source.pid}/ns/${NS_PROC_NAME[type]}` };
    }
    if (i >= 0) namespaces[i] = ns;
    else namespaces.push(ns);
  };
  // A container with networking disabled still gets its own (empty) network namespace.
  apply('network', spec.network.disabled ? { mode: 'new' } : ctx.netns);
  apply('ipc', ctx.ipcns ?? fromMode('ipc', spec.namespaces.ipc));
  apply('pid', ctx.pidns ?? fromMode('pid', spec.namespaces.pid));
  apply('uts', ctx.utsns ?? fromMode('uts', spec.namespaces.uts));
  if (spec.namespaces.cgroupns === 'private') apply('cgroup', { mode: 'new' });
  return namespaces;
}

/** The file name under /proc/<pid>/ns/ of each namespace type. */
const NS_PROC_NAME: Record<OciNamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

function fromMode(kind: string, mode: string): NamespaceSource {
  if (mode === 'host') return { mode: 'host' };
  const target = containerModeTarget(mode);
  if (target !== undefined) {
    throw invalidParameter(`${kind} namespace of container ${target} must be given as a path to join`);
  }
  return { mode: 'new' };
}

function buildDeviceNodes(spec: ContainerSpec, ctx: OciContext): LinuxDevice[] {
  const fromMappings = (ctx.devices ?? []).map((d) => ({
    type: d.type,
    path: d.path,
    major: d.major,
    minor: d.minor,
    fileMode: d.fileMode,
    uid: d.uid,
    gid: d.gid,
  }));
  if (!spec.security.privileged) return fromMappings;
  const host = ctx.hostDevices ?? [];
  const hostPaths = new Set(host.map((d) => d.path));
  return [...host.map((d) => ({ ...d })), ...fromMappings.filter((d) => !hostPaths.has(d.path))];
}

const DEVICE_CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** `c 1:3 rwm`, `b *:* m` → a device cgroup rule (oci.AppendDevicePermissionsFromCgroupRules). */
export function parseDeviceCgroupRule(rule: string): LinuxDeviceCgroup {
  const m = DEVICE_CGROUP_RULE.exec(rule);
  if (!m) throw invalidParameter(`invalid device cgroup rule format: '${rule}'`);
  const [, type = 'a', major = '*', minor = '*', access = ''] = m;
  return {
    allow: true,
    type,
    ...(major === '*' ? {} : { major: Number(major) }),
    ...(minor === '*' ? {} : { minor: Number(minor) }),
    access,
  };
}

function toCgroupRule(r: DeviceRule): LinuxDeviceCgroup {
  return {
    allow: r.allow,
    type: r.type,
    ...(r.major === undefined ? {} : { major: r.major }),
    ...(r.minor === undefined ? {} : { minor: r.minor }),
    access: r.access,
  };
}

function buildResources(spec: ContainerSpec, ctx: OciContext): LinuxResources {
  const r = spec.resources;
  let devices: LinuxDeviceCgroup[];
  if (spec.security.privileged) {
    devices = [{ allow: true, access: 'rwm' }];
  } else {
    devices = DEFAULT_DEVICE_RULES.map(toCgroupRule);
    for (const d of ctx.devices ?? []) {
      devices.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions });
    }
    for (const rule of r.deviceCgroupRules) devices.push(parseDeviceCgroupRule(rule));
    devices.push(...RUNC_APPENDED_DEVICE_RULES.map(toCgroupRule));
  }
  const resources: LinuxResources = { devices };

  // getMemoryResources: limit/reservation/swap only when positive; disableOOMKiller always
  // (adaptContainerSettings stores false when unset).
  resources.memory = {
    ...(r.memory > 0 ? { limit: r.memory } : {}),
    ...(r.memoryReservation > 0 ? { reservation: r.memoryReservation } : {}),
    ...(r.memorySwap > 0 ? { swap: r.memorySwap } : {}),
    ...(r.memorySwappiness !== undefined ? { swappiness: r.memorySwappiness } : {}),
    ...(r.kernelMemory !== 0 ? { kernel: r.kernelMemory } : {}),
    disableOOMKiller: r.oomKillDisable,
  };

  // getCPUResources: NanoCpus becomes a 100 ms period and the matching quota.
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.cpuShares !== 0) cpu.shares = r.cpuShares;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (r.nanoCpus > 0) {
    cpu.period = 100000;
    cpu.quota = Math.trunc((r.nanoCpus * 100000) / 1e9);
  }
  if (r.cpuPeriod !== 0) cpu.period = r.cpuPeriod;
  if (r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  if (r.cpuRealtimePeriod !== 0) cpu.realtimePeriod = r.cpuRealtimePeriod;
  if (r.cpuRealtimeRuntime !== 0) cpu.realtimeRuntime = r.cpuRealtimeRuntime;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;

  if (r.pidsLimit !== undefined && r.pidsLimit > 0) resources.pids = { limit: r.pidsLimit };

  const blockIO: NonNullable<LinuxResources['blockIO']> = {};
  if (r.blkioWeight !== 0) blockIO.weight = r.blkioWeight;
  const dev = (path: string) => {
    const d = ctx.blockDevices?.[path];
    if (!d) throw invalidParameter(`stat ${path}: no such file or directory`);
    return d;
  };
  if (r.blkioWeightDevices.length > 0) {
    blockIO.weightDevice = r.blkioWeightDevices.map((w) => ({ ...dev(w.path), weight: w.weight }));
  }
  const throttle = (list: ThrottleDeviceSpec[]) => list.map((t) => ({ ...dev(t.path), rate: t.rate }));
  if (r.blkioDeviceReadBps.length > 0) blockIO.throttleReadBpsDevice = throttle(r.blkioDeviceReadBps);
  if (r.blkioDeviceWriteBps.length > 0) blockIO.throttleWriteBpsDevice = throttle(r.blkioDeviceWriteBps);
  if (r.blkioDeviceReadIOps.length > 0) blockIO.throttleReadIOPSDevice = throttle(r.blkioDeviceReadIOps);
  if (r.blkioDeviceWriteIOps.length > 0) blockIO.throttleWriteIOPSDevice = throttle(r.blkioDeviceWriteIOps);
  if (Object.keys(blockIO).length > 0) resources.blockIO = blockIO;
  return resources;
}

/** Docker's network sysctls for a new network namespace, then the user's (which win). */
function buildSysctls(spec: ContainerSpec, ctx: OciContext): Record<string, string> {
  // NetworkMode.IsPrivate(): anything but host and container:<x>, however the engine made the netns.
  const privateNet = spec.network.mode !== 'host' && containerModeTarget(spec.network.mode) === undefined;
  const base = privateNet && ctx.networkSysctls !== false ? { ...DEFAULT_NETWORK_SYSCTLS } : {};
  return { ...base, ...spec.sysctls };
}
