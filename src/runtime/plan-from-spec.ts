import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { invalidParameter } from '../common/index.ts';
import { validateSysctls } from './sysctl.ts';
import { LINUX_CAPABILITIES } from '../oci/index.ts';
import type { LinuxSeccomp, OciMount, OciNamespaceType, OciProcess, RuntimeSpec } from '../oci/index.ts';
import {
  type HelperCapabilities,
  type LogRotation,
  type HelperDevice,
  type HelperMount,
  type HelperNamespaceType,
  type HelperPlan,
  type HelperSeccomp,
  type HelperSeccompAction,
  type HelperSeccompRule,
  MountFlag,
} from '../platform/index.ts';

/**
 * OCI runtime spec -> helper plan (native/runtime/plan.h). Pure: every decision the shim carries
 * out is made here. `planFromSpec` is for the container's init (`berth-shim run`),
 * `planForExec` for an extra process in a running container (`berth-shim exec`).
 */
export interface PlanOptions {
  /** Relative spec.root.path values are relative to this. */
  bundleDir: string;
  /** cgroup.procs files of the container's cgroup (CgroupHandle.procsFiles()). */
  cgroupProcs: string[];
  cgroupVersion: 1 | 2;
  /** Where the host's cgroup hierarchies are mounted (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  /** cgroup v1: the hierarchies' mount points in the host's mountinfo order (cgroupV1Tree). */
  cgroupMountOrder?: readonly string[];
  logPath?: string;
  logRotate?: LogRotation;
  logAttrs?: string;
  openStdin: boolean;
  stdinOnce: boolean;
}

const NS_TYPES: Record<OciNamespaceType, HelperNamespaceType | undefined> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/** Linux capability numbers, index = number (re-exported for the runtime's callers). */
export const CAPABILITIES = LINUX_CAPABILITIES;

/** RLIMIT_* numbers (<sys/resource.h>, Linux). */
export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** OCI/fstab mount options that are mount(2) flags: [set, clear]. */
const FLAG_OPTIONS: Record<string, [number, number]> = {
  ro: [MountFlag.RDONLY, 0],
  rw: [0, MountFlag.RDONLY],
  nosuid: [MountFlag.NOSUID, 0],
  suid: [0, MountFlag.NOSUID],
  nodev: [MountFlag.NODEV, 0],
  dev: [0, MountFlag.NODEV],
  noexec: [MountFlag.NOEXEC, 0],
  exec: [0, MountFlag.NOEXEC],
  sync: [MountFlag.SYNCHRONOUS, 0],
  async: [0, MountFlag.SYNCHRONOUS],
  remount: [MountFlag.REMOUNT, 0],
  mand: [MountFlag.MANDLOCK, 0],
  nomand: [0, MountFlag.MANDLOCK],
  dirsync: [MountFlag.DIRSYNC, 0],
  nosymfollow: [MountFlag.NOSYMFOLLOW, 0],
  noatime: [MountFlag.NOATIME, 0],
  atime: [0, MountFlag.NOATIME],
  nodiratime: [MountFlag.NODIRATIME, 0],
  diratime: [0, MountFlag.NODIRATIME],
  bind: [MountFlag.BIND, 0],
  rbind: [MountFlag.BIND | MountFlag.REC, 0],
  relatime: [MountFlag.RELATIME, 0],
  norelatime: [0, MountFlag.RELATIME],
  strictatime: [MountFlag.STRICTATIME, 0],
  nostrictatime: [0, MountFlag.STRICTATIME],
  lazytime: [MountFlag.LAZYTIME, 0],
  nolazytime: [0, MountFlag.LAZYTIME],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MountFlag.PRIVATE,
  rprivate: MountFlag.PRIVATE | MountFlag.REC,
  shared: MountFlag.SHARED,
  rshared: MountFlag.SHARED | MountFlag.REC,
  slave: MountFlag.SLAVE,
  rslave: MountFlag.SLAVE | MountFlag.REC,
  unbindable: MountFlag.UNBINDABLE,
  runbindable: MountFlag.UNBINDABLE | MountFlag.REC,
};

/** Options that runc and Docker accept but that are not kernel mount data (labels, runc extensions). */
const IGNORED_OPTIONS = new Set(['z', 'Z', 'tmpcopyup', 'noprivate', 'nocopy', 'copy', 'defaults']);

/** The mount options the shim acts on itself (others are passed to the filesystem as data). */
export const MOUNT_OPTION_NAMES: readonly string[] = [
  ...Object.keys(FLAG_OPTIONS),
  ...Object.keys(PROPAGATION_OPTIONS),
  'rro',
  'defaults',
].sort();

/** The namespace types a spec may create or join. */
export const NAMESPACE_TYPES = Object.keys(NS_TYPES).sort() as readonly OciNamespaceType[];

/** Parses OCI mount options ("nosuid,noexec,mode=755,size=65536k") into flags, propagation and data. */
export function parseMountOptions(options: readonly string[]): {
  flags: number;
  propagation: number;
  data: string;
} {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const opt of options) {
    const flag = FLAG_OPTIONS[opt];
    if (flag) {
      flags = (flags | flag[0]) & ~flag[1];
    } else if (opt in PROPAGATION_OPTIONS) {
      propagation = PROPAGATION_OPTIONS[opt]!;
    } else if (opt === 'rro') {
      flags |= MountFlag.RDONLY;
    } else if (!IGNORED_OPTIONS.has(opt)) {
      data.push(opt);
    }
  }
  return { flags, propagation, data: data.join(',') };
}

/** The mount as the shim makes it, or undefined when it is left out (cgroup v1, see below). */
export function mountToHelper(m: OciMount, cgroupVersion: 1 | 2): HelperMount | undefined {
  const { flags, propagation, data } = parseMountOptions(m.options ?? []);
  let fstype = m.type ?? '';
  let f = flags;
  if (fstype === 'bind') {
    fstype = '';
    f |= MountFlag.BIND;
  }
  if (fstype === 'cgroup' || fstype === 'cgroup2') {
    // cgroup v2: mount the container's view (needs a cgroup namespace to hide the host path).
    // cgroup v1 is a tree of mounts (cgroupV1Tree), planned by planFromSpec.
    if (cgroupVersion === 1) return undefined;
    return {
      source: 'cgroup2',
      destination: m.destination,
      fstype: 'cgroup2',
      flags: f & ~MountFlag.BIND,
      propagation,
      data: '',
    };
  }
  return { source: m.source ?? fstype, destination: m.destination, fstype, flags: f, propagation, data };
}

/**
 * A `cgroup` mount on cgroup v1, as runc makes it (libcontainer/rootfs_linux.go mountCgroupV1): a
 * tmpfs (nosuid,nodev,noexec,mode=755) at the destination; per hierarchy, the container's own
 * cgroup directory bound at <destination>/<hierarchy> with the mount's flags (a fresh cgroup
 * mount of that hierarchy instead when the container has a cgroup namespace, so the container's
 * cgroup is its root); a symlink per controller of a co-mounted hierarchy ("cpu" ->
 * "cpu,cpuacct"). The tmpfs itself stays writable (runc 1.1 does not remount it).
 * `procsFiles` are the container cgroup's cgroup.procs files (one per hierarchy, under `root`);
 * the binds follow `order` (the hierarchies' mount points in the host's mountinfo order, which
 * is runc's order), others last.
 * The controller-less cgroup2 of a hybrid host ("unified") is not part of it, as with runc.
 */
export function cgroupV1Tree(
  m: OciMount,
  procsFiles: readonly string[],
  opts: { root: string; cgroupns: boolean; order?: readonly string[] },
): { mounts: HelperMount[]; links: { target: string; path: string }[] } {
  const { flags, propagation } = parseMountOptions(m.options ?? []);
  const dflt = MountFlag.NOEXEC | MountFlag.NOSUID | MountFlag.NODEV;
  const mounts: HelperMount[] = [
    {
      source: 'tmpfs',
      destination: m.destination,
      fstype: 'tmpfs',
      flags: dflt,
      propagation,
      data: 'mode=755',
    },
  ];
  const links: { target: string; path: string }[] = [];
  const rank = (name: string) => {
    const i = opts.order?.indexOf(join(opts.root, name)) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const hierarchies = procsFiles
    .map((file) => {
      const dir = dirname(file);
      return { dir, name: relative(opts.root, dir).split('/')[0] ?? '' };
    })
    .sort((a, b) => rank(a.name) - rank(b.name));
  for (const { dir, name } of hierarchies) {
    if (!name || name.startsWith('..') || name === 'unified') continue;
    const destination = join(m.destination, basename(name));
    if (opts.cgroupns) {
      const systemd = name === 'systemd';
      mounts.push({
        source: systemd ? 'systemd' : 'cgroup',
        destination,
        fstype: 'cgroup',
        flags: dflt | (flags & MountFlag.RDONLY),
        propagation: 0,
        data: systemd ? 'name=systemd' : name,
      });
    } else {
      mounts.push({
        source: dir,
        destination,
        fstype: '',
        flags: MountFlag.BIND | MountFlag.REC | flags,
        propagation,
        data: '',
      });
    }
    if (name.includes(',')) {
      for (const ss of name.split(',')) links.push({ target: name, path: join(m.destination, ss) });
    }
  }
  return { mounts, links };
}

/** Capability names -> mask. Unknown names are an InvalidParameter (as `docker run --cap-add` says). */
export function capabilityMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const upper = name.toUpperCase();
    const n = CAPABILITIES.indexOf(
      (upper.startsWith('CAP_') ? upper : `CAP_${upper}`) as (typeof CAPABILITIES)[number],
    );
    if (n < 0) throw invalidParameter(`unknown capability: "${name}"`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

const U64_MAX = (1n << 64n) - 1n;

/** JSON numbers cannot hold 2^64-1 exactly; anything at or past 2^63 means "unlimited". */
function rlimitValue(v: number): bigint {
  if (v < 0 || v >= 2 ** 63) return U64_MAX;
  return BigInt(Math.trunc(v));
}

/**
 * The default device nodes and /dev links runc makes whenever /dev is a fresh tmpfs, in runc's
 * order (specconv AllowedDevices): in a user namespace they are bind mounts, and mountinfo shows
 * the order.
 */
const DEFAULT_DEVICES: HelperDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
];

const DEFAULT_LINKS = [
  { target: '/proc/self/fd', path: '/dev/fd' },
  { target: '/proc/self/fd/0', path: '/dev/stdin' },
  { target: '/proc/self/fd/1', path: '/dev/stdout' },
  { target: '/proc/self/fd/2', path: '/dev/stderr' },
  { target: 'pts/ptmx', path: '/dev/ptmx' },
];

function processPart(proc: OciProcess | undefined) {
  if (!proc) throw invalidParameter('spec has no process');
  if (!proc.args || proc.args.length === 0) throw invalidParameter('spec process has no args');
  const caps = proc.capabilities;
  const capabilities: HelperCapabilities | undefined = caps && {
    bounding: capabilityMask(caps.bounding),
    effective: capabilityMask(caps.effective),
    inheritable: capabilityMask(caps.inheritable),
    permitted: capabilityMask(caps.permitted),
    ambient: capabilityMask(caps.ambient),
  };
  const rlimits = (proc.rlimits ?? []).map((r) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw invalidParameter(`unknown rlimit type: "${r.type}"`);
    return { resource, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) };
  });
  return {
    rlimits,
    user: {
      uid: proc.user.uid,
      gid: proc.user.gid,
      umask: proc.user.umask,
      additionalGids: proc.user.additionalGids ?? [],
    },
    oomScoreAdj: proc.oomScoreAdj,
    cwd: proc.cwd || '/',
    env: proc.env ?? [],
    args: proc.args,
    capabilities,
    noNewPrivileges: proc.noNewPrivileges ?? false,
    terminal: proc.terminal ?? false,
  };
}

/** The plan for a container's init (`berth-shim run`). */
export function planFromSpec(spec: RuntimeSpec, opts: PlanOptions): HelperPlan {
  if (!spec.root?.path) throw invalidParameter('spec has no root.path');
  const linux = spec.linux ?? {};
  const namespaces = (linux.namespaces ?? []).flatMap((ns) => {
    const type = NS_TYPES[ns.type];
    if (!type) throw invalidParameter(`namespace type "${ns.type}" is not supported`);
    return [{ type, path: ns.path || undefined }];
  });
  const hasNewNs = (t: HelperNamespaceType) => namespaces.some((n) => n.type === t && !n.path);
  if (!hasNewNs('mnt')) throw invalidParameter('the container needs its own mount namespace');
  validateSysctls(linux.sysctl, linux.namespaces ?? []);

  const cgroupLinks: { target: string; path: string }[] = [];
  const mounts = (spec.mounts ?? []).flatMap((m) => {
    if (opts.cgroupVersion === 1 && m.type === 'cgroup') {
      const tree = cgroupV1Tree(m, opts.cgroupProcs, {
        root: opts.cgroupRoot ?? '/sys/fs/cgroup',
        cgroupns: namespaces.some((n) => n.type === 'cgroup'),
        order: opts.cgroupMountOrder,
      });
      cgroupLinks.push(...tree.links);
      return tree.mounts;
    }
    return mountToHelper(m, opts.cgroupVersion) ?? [];
  });
  const hasDevTmpfs = mounts.some((m) => m.destination === '/dev' && m.fstype === 'tmpfs');
  const specDevices: HelperDevice[] = (linux.devices ?? []).map((d) => ({
    path: d.path,
    type: d.type === 'b' ? 'b' : d.type === 'p' ? 'p' : 'c',
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    mode: (d.fileMode ?? 0o666) & 0o7777,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
  }));
  const devices = [
    ...(hasDevTmpfs ? DEFAULT_DEVICES.filter((d) => !specDevices.some((s) => s.path === d.path)) : []),
    ...specDevices,
  ];
  const proc = processPart(spec.process);
  return {
    rootfs: {
      path: isAbsolute(spec.root.path) ? spec.root.path : join(opts.bundleDir, spec.root.path),
      readonly: spec.root.readonly ?? false,
    },
    namespaces,
    cgroupProcs: opts.cgroupProcs,
    // A joined user namespace has its maps already (Docker still lists them in the spec).
    uidMappings: (hasNewNs('user') ? (linux.uidMappings ?? []) : []).map((m) => ({
      containerId: m.containerID,
      hostId: m.hostID,
      size: m.size,
    })),
    gidMappings: (hasNewNs('user') ? (linux.gidMappings ?? []) : []).map((m) => ({
      containerId: m.containerID,
      hostId: m.hostID,
      size: m.size,
    })),
    mounts,
    devices,
    symlinks: [...(hasDevTmpfs ? DEFAULT_LINKS : []), ...cgroupLinks],
    // sethostname in the host's UTS namespace would rename the host: only with a private one.
    hostname: spec.hostname && hasNewNs('uts') ? spec.hostname : undefined,
    sysctls: Object.entries(linux.sysctl ?? {}).map(([key, value]) => ({
      path: key.replaceAll('.', '/'),
      value,
    })),
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    ...proc,
    seccomp: seccompToHelper(linux.seccomp),
    openStdin: opts.openStdin,
    stdinOnce: opts.stdinOnce,
    logPath: opts.logPath,
    ...(opts.logRotate ? { logRotate: opts.logRotate } : {}),
    ...(opts.logAttrs ? { logAttrs: opts.logAttrs } : {}),
  };
}

/** Where the namespaces of a running container are: /proc/<init pid>/ns/<name>. */
const PROC_NS_NAMES: Record<HelperNamespaceType, string> = {
  user: 'user',
  pid: 'pid',
  mnt: 'mnt',
  net: 'net',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};

export interface ExecPlanOptions {
  /** Host pid of the container's init. */
  initPid: number;
  cgroupProcs: string[];
}

/**
 * The plan for `docker exec`: join every namespace the container's spec lists (through its init's
 * /proc/<pid>/ns files), its cgroup, then run `process` as given.
 */
export function planForExec(spec: RuntimeSpec, process: OciProcess, opts: ExecPlanOptions): HelperPlan {
  const namespaces = (spec.linux?.namespaces ?? []).flatMap((ns) => {
    const type = NS_TYPES[ns.type];
    return type ? [{ type, path: `/proc/${opts.initPid}/ns/${PROC_NS_NAMES[type]}` }] : [];
  });
  return {
    namespaces,
    cgroupProcs: opts.cgroupProcs,
    uidMappings: [],
    gidMappings: [],
    mounts: [],
    devices: [],
    symlinks: [],
    sysctls: [],
    maskedPaths: [],
    readonlyPaths: [],
    ...processPart(process),
    seccomp: seccompToHelper(spec.linux?.seccomp),
    openStdin: false,
    stdinOnce: false,
  };
}

const SECCOMP_ACTIONS: Record<string, HelperSeccompAction> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill',
  SCMP_ACT_KILL_THREAD: 'kill',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
};

const SECCOMP_OPS = new Set(['ne', 'lt', 'le', 'eq', 'ge', 'gt', 'masked_eq']);

/** The seccomp actions and operators the shim applies, by their OCI names. */
export const SECCOMP_ACTION_NAMES: readonly string[] = Object.keys(SECCOMP_ACTIONS).sort();
export const SECCOMP_OPERATOR_NAMES: readonly string[] = [...SECCOMP_OPS]
  .map((o) => `SCMP_CMP_${o.toUpperCase()}`)
  .sort();

/** EPERM: the errno of an SCMP_ACT_ERRNO without errnoRet (runc). */
const EPERM = 1;

function seccompAction(name: string): HelperSeccompAction {
  const action = SECCOMP_ACTIONS[name];
  if (!action) throw invalidParameter(`seccomp action ${name} is not supported`);
  return action;
}

/**
 * OCI linux.seccomp -> the shim's resolved rules. The profile (Docker's default, or the user's)
 * was already narrowed to this container by capabilities and architecture when the spec was made;
 * here only names are mapped (SCMP_ARCH_X86 -> "x86", SCMP_CMP_MASKED_EQ -> "masked_eq").
 */
export function seccompToHelper(seccomp: LinuxSeccomp | undefined): HelperSeccomp | undefined {
  if (!seccomp) return undefined;
  const defaultErrno = seccomp.defaultErrnoRet ?? EPERM;
  const rules: HelperSeccompRule[] = [];
  for (const s of seccomp.syscalls ?? []) {
    const action = seccompAction(s.action);
    const args = (s.args ?? []).map((a) => {
      const op = a.op.replace(/^SCMP_CMP_/, '').toLowerCase();
      if (!SECCOMP_OPS.has(op)) throw invalidParameter(`seccomp operator ${a.op} is not supported`);
      return {
        index: a.index,
        op: op as HelperSeccompRule['args'][number]['op'],
        value: BigInt(a.value),
        valueTwo: BigInt(a.valueTwo ?? 0),
      };
    });
    for (const syscall of s.names) rules.push({ action, errno: s.errnoRet ?? EPERM, syscall, args });
  }
  return {
    defaultAction: seccompAction(seccomp.defaultAction),
    defaultErrno,
    architectures: (seccomp.architectures ?? []).map((a) => a.replace(/^SCMP_ARCH_/, '').toLowerCase()),
    rules,
  };
}
