import { invalidParameter } from '../common/index.ts';

/**
 * The plan for native/build/berth-shim: everything one container process needs, fully decided.
 * The wire format is specified in native/runtime/plan.h (keep both in step; golden bytes are tested
 * in helper-plan.test.ts). runtime/plan-from-spec.ts builds a HelperPlan from an OCI spec;
 * encodeHelperPlan turns it into the bytes the shim reads with `--plan <file>`.
 */
export interface HelperPlan {
  /** Host path of the root filesystem; `run` only. */
  rootfs?: { path: string; readonly: boolean };
  /** Namespaces to create (no path) or to join (path, e.g. /proc/123/ns/net). */
  namespaces: HelperNamespace[];
  /** Host paths of cgroup.procs files the process is written into. */
  cgroupProcs: string[];
  uidMappings: HelperIdMapping[];
  gidMappings: HelperIdMapping[];
  /** Mounts in the order they are made. */
  mounts: HelperMount[];
  devices: HelperDevice[];
  symlinks: { target: string; path: string }[];
  hostname?: string;
  rlimits: { resource: number; soft: bigint; hard: bigint }[];
  /** `path` is relative to /proc/sys (net/ipv4/ip_forward). */
  sysctls: { path: string; value: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  user: { uid: number; gid: number; umask?: number; additionalGids: number[] };
  oomScoreAdj?: number;
  cwd: string;
  env: string[];
  args: string[];
  /** Omitted: capabilities are left as they are (full root). */
  capabilities?: HelperCapabilities;
  noNewPrivileges: boolean;
  /** The seccomp filter, rules already resolved for this container; omitted: none. */
  seccomp?: HelperSeccomp;
  terminal: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  /** json-file log path; `run` only. */
  logPath?: string;
  /** Log rotation (json-file max-size/max-file/compress); `run` only. */
  logRotate?: LogRotation;
  /** json-file's `attrs` object (raw JSON) added to every log line; `run` only. */
  logAttrs?: string;
}

export interface LogRotation {
  /** Rotate before the file passes this many bytes; 0 = never. */
  maxSize: number;
  /** Files kept, the current one included (1: truncate instead of rotating). */
  maxFiles: number;
  /** gzip rotated files. */
  compress: boolean;
}

export type HelperNamespaceType = 'user' | 'pid' | 'mnt' | 'net' | 'ipc' | 'uts' | 'cgroup' | 'time';

export interface HelperNamespace {
  type: HelperNamespaceType;
  path?: string;
}

export interface HelperIdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

export interface HelperMount {
  source: string;
  /** Container path. */
  destination: string;
  fstype: string;
  /** MS_* bits (see MountFlag). With MS_BIND, the other bits are applied by a bind remount. */
  flags: number;
  /** A propagation change (MS_PRIVATE, MS_SLAVE, MS_SHARED, optionally | MS_REC) applied after; 0 for none. */
  propagation: number;
  /** Filesystem data: "mode=755,size=65536k". */
  data: string;
}

export interface HelperDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits, e.g. 0o666. */
  mode: number;
  uid: number;
  gid: number;
}

export type HelperSeccompAction = 'allow' | 'errno' | 'kill' | 'kill_process' | 'trap' | 'trace' | 'log';

export interface HelperSeccomp {
  defaultAction: HelperSeccompAction;
  /** errno for 'errno' (trace value for 'trace'). */
  defaultErrno: number;
  /** Extra architectures by libseccomp name ("x86", "x32"); the native one is always included. */
  architectures: string[];
  rules: HelperSeccompRule[];
}

export interface HelperSeccompRule {
  action: HelperSeccompAction;
  errno: number;
  syscall: string;
  /** Conditions, all of which must hold. */
  args: {
    index: number;
    op: 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked_eq';
    value: bigint;
    valueTwo: bigint;
  }[];
}

/** Capability masks: bit n is capability number n (CAP_CHOWN = 0). */
export interface HelperCapabilities {
  bounding: bigint;
  effective: bigint;
  inheritable: bigint;
  permitted: bigint;
  ambient: bigint;
}

/** mount(2) flags from <sys/mount.h>. */
export const MountFlag = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export const PLAN_MAGIC = 'berth-plan/1';

/** Encodes the plan in plan.h's wire format: NUL-terminated strings, a key then its fields. */
export function encodeHelperPlan(plan: HelperPlan): Buffer {
  const parts: string[] = [PLAN_MAGIC];
  const rec = (key: string, ...fields: (string | number | bigint)[]) => {
    parts.push(key);
    for (const f of fields) {
      if (typeof f === 'number' && (!Number.isInteger(f) || (f < 0 && key !== 'oom_score_adj'))) {
        throw invalidParameter(`helper plan: ${key}: ${f} is not a valid number`);
      }
      const s = String(f);
      if (s.includes('\0')) throw invalidParameter(`helper plan: ${key}: value contains a NUL byte`);
      parts.push(s);
    }
  };
  const flag = (b: boolean) => (b ? 1 : 0);

  if (plan.rootfs) rec('rootfs', plan.rootfs.path, flag(plan.rootfs.readonly));
  for (const ns of plan.namespaces) rec('ns', ns.type, ns.path ?? '');
  for (const p of plan.cgroupProcs) rec('cgroup', p);
  for (const m of plan.uidMappings) rec('uidmap', m.containerId, m.hostId, m.size);
  for (const m of plan.gidMappings) rec('gidmap', m.containerId, m.hostId, m.size);
  for (const m of plan.mounts)
    rec('mount', m.source, m.destination, m.fstype, m.flags, m.propagation, m.data);
  for (const d of plan.devices) rec('device', d.path, d.type, d.major, d.minor, d.mode, d.uid, d.gid);
  for (const l of plan.symlinks) rec('symlink', l.target, l.path);
  if (plan.hostname !== undefined) rec('hostname', plan.hostname);
  for (const r of plan.rlimits) rec('rlimit', r.resource, u64(r.soft), u64(r.hard));
  for (const s of plan.sysctls) rec('sysctl', s.path, s.value);
  for (const p of plan.maskedPaths) rec('masked', p);
  for (const p of plan.readonlyPaths) rec('readonly', p);
  rec('user', plan.user.uid, plan.user.gid, plan.user.umask === undefined ? '' : plan.user.umask);
  for (const g of plan.user.additionalGids) rec('group', g);
  if (plan.oomScoreAdj !== undefined) rec('oom_score_adj', plan.oomScoreAdj);
  rec('cwd', plan.cwd);
  for (const e of plan.env) rec('env', e);
  for (const a of plan.args) rec('arg', a);
  if (plan.capabilities) {
    const c = plan.capabilities;
    rec('caps', u64(c.bounding), u64(c.effective), u64(c.inheritable), u64(c.permitted), u64(c.ambient));
  }
  rec('no_new_privs', flag(plan.noNewPrivileges));
  if (plan.seccomp) {
    const sc = plan.seccomp;
    rec('seccomp', sc.defaultAction, sc.defaultErrno);
    for (const a of sc.architectures) rec('seccomp_arch', a);
    for (const r of sc.rules) {
      rec('seccomp_rule', r.action, r.errno, r.syscall);
      for (const a of r.args) rec('seccomp_arg', a.index, a.op, u64(a.value), u64(a.valueTwo));
    }
  }
  rec('terminal', flag(plan.terminal));
  rec('stdin', flag(plan.openStdin), flag(plan.stdinOnce));
  if (plan.logPath !== undefined) rec('log', plan.logPath);
  if (plan.logRotate && plan.logRotate.maxSize > 0) {
    const r = plan.logRotate;
    rec('log_rotate', r.maxSize, Math.max(1, r.maxFiles), flag(r.compress));
  }
  if (plan.logAttrs) rec('log_attrs', plan.logAttrs);
  return Buffer.from(parts.map((p) => `${p}\0`).join(''), 'utf8');
}

const U64_MAX = (1n << 64n) - 1n;

function u64(v: bigint): bigint {
  if (v < 0n || v > U64_MAX) throw invalidParameter(`helper plan: ${v} is not an unsigned 64-bit number`);
  return v;
}
