/**
 * Seccomp profiles in Docker's format (moby profiles/seccomp types.go) and their narrowing to
 * one container (setupSeccomp): the profile's rules are filtered by the container's bounding
 * capabilities, the engine's architecture and the host kernel version, and the architecture
 * list comes from the profile's archMap entry for the native architecture. The result is OCI's
 * linux.seccomp, which any runtime (ours, runc) loads as is.
 *
 * Lifecycle: at create, parseSeccompProfile validates a `--security-opt seccomp=<json>`; at
 * every start, toOciSpec calls seccompForContainer with the capabilities it computed. Pure.
 */
import { invalidParameter } from '../../common/index.ts';
import type { LinuxSeccomp } from '../../oci/index.ts';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-default-profile.ts';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface SeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[] | null;
  syscalls?: SeccompSyscall[] | null;
}

/** Where the profile is resolved: Go's GOARCH name of the engine (`amd64`) and `uname -r`. */
export interface SeccompPlatform {
  arch: string;
  kernel: string;
}

/** Node's process.arch → Go's GOARCH, the names profiles use in includes/excludes.arches. */
export function goArch(nodeArch: string): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    mips: 'mips',
    mipsel: 'mipsle',
    loong64: 'loong64',
  };
  return map[nodeArch] ?? nodeArch;
}

/** GOARCH → libseccomp's native architecture (seccomp_linux.go nativeToSeccomp). */
const NATIVE_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  '386': 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64le: 'SCMP_ARCH_MIPSEL64',
  mips: 'SCMP_ARCH_MIPS',
  mipsle: 'SCMP_ARCH_MIPSEL',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390x: 'SCMP_ARCH_S390X',
  loong64: 'SCMP_ARCH_LOONGARCH64',
};

const ACTIONS = new Set([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);
const OPS = new Set([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
]);

/**
 * The JSON text of a `--security-opt seccomp=<file>` (the CLI sends the file's content) → a
 * checked profile. Throws InvalidParameter with dockerd's wording (`Decoding seccomp profile
 * failed: …`) for bad JSON, and names the field for actions/operators our runtimes cannot load.
 */
export function parseSeccompProfile(text: string): SeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalidParameter(`Decoding seccomp profile failed: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter('Decoding seccomp profile failed: the profile is not a JSON object');
  }
  const p = raw as SeccompProfile;
  if (typeof p.defaultAction !== 'string' || !ACTIONS.has(p.defaultAction)) {
    throw invalidParameter(`seccomp profile: invalid defaultAction ${JSON.stringify(p.defaultAction)}`);
  }
  if ((p.architectures?.length ?? 0) > 0 && (p.archMap?.length ?? 0) > 0) {
    // seccomp_linux.go setupSeccomp, word for word.
    throw invalidParameter(
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  for (const s of p.syscalls ?? []) {
    if (typeof s !== 'object' || s === null)
      throw invalidParameter('seccomp profile: a syscall entry is not an object');
    if (s.name && (s.names?.length ?? 0) > 0) throw invalidParameter("use either 'name' or 'names'");
    if (!ACTIONS.has(s.action))
      throw invalidParameter(`seccomp profile: invalid action ${JSON.stringify(s.action)}`);
    for (const a of s.args ?? []) {
      if (!OPS.has(a.op)) throw invalidParameter(`seccomp profile: invalid operator ${JSON.stringify(a.op)}`);
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
        throw invalidParameter(`seccomp profile: invalid argument index ${JSON.stringify(a.index)}`);
      }
    }
    if (s.action === 'SCMP_ACT_NOTIFY' || p.defaultAction === 'SCMP_ACT_NOTIFY') {
      throw invalidParameter('seccomp profile: SCMP_ACT_NOTIFY is not supported');
    }
  }
  return p;
}

/** `5.10.0-8-amd64` ≥ `4.8`? Compares major.minor as Docker's kernelGreaterEqualThan does. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string, what: string): [number, number] => {
    const m = /^(\d+)\.(\d+)/.exec(v);
    if (!m) throw invalidParameter(`seccomp profile: invalid kernel version ${JSON.stringify(v)} (${what})`);
    return [Number(m[1]), Number(m[2])];
  };
  const [a, b] = parse(kernel, 'host');
  const [x, y] = parse(min, 'minKernel');
  return a > x || (a === x && b >= y);
}

/**
 * The profile narrowed to one container (seccomp_linux.go setupSeccomp): the native
 * architecture and its sub-architectures from archMap (or `architectures` as given), and the
 * syscall rules whose includes all hold and whose excludes none hold, judged by the container's
 * bounding capabilities, the engine's GOARCH and the kernel version.
 */
export function resolveSeccompProfile(
  profile: SeccompProfile,
  boundingCaps: readonly string[],
  platform: SeccompPlatform,
): LinuxSeccomp {
  const arch = platform.arch;
  const native = NATIVE_ARCH[arch];
  let architectures = [...(profile.architectures ?? [])];
  for (const a of profile.archMap ?? []) {
    if (a.architecture === native) architectures = [a.architecture, ...(a.subArchitectures ?? [])];
  }
  const hasCap = (c: string) => boundingCaps.includes(c);
  const syscalls: NonNullable<LinuxSeccomp['syscalls']> = [];
  for (const call of profile.syscalls ?? []) {
    const names = call.name ? [call.name] : [...(call.names ?? [])];
    const ex = call.excludes;
    if (ex) {
      if (ex.arches?.includes(arch)) continue;
      if (ex.caps?.some(hasCap)) continue;
      if (ex.minKernel && kernelAtLeast(platform.kernel, ex.minKernel)) continue;
    }
    const inc = call.includes;
    if (inc) {
      if ((inc.arches?.length ?? 0) > 0 && !inc.arches?.includes(arch)) continue;
      if (inc.caps && !inc.caps.every(hasCap)) continue;
      if (inc.minKernel && !kernelAtLeast(platform.kernel, inc.minKernel)) continue;
    }
    syscalls.push({
      names,
      action: call.action,
      ...(call.errnoRet !== undefined ? { errnoRet: call.errnoRet } : {}),
      ...((call.args?.length ?? 0) > 0
        ? {
            args: (call.args ?? []).map((a) => ({
              index: a.index,
              value: a.value,
              ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}),
              op: a.op,
            })),
          }
        : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures.length > 0 ? { architectures } : {}),
    ...((profile.flags?.length ?? 0) > 0 ? { flags: [...(profile.flags ?? [])] } : {}),
    syscalls,
  };
}

/**
 * daemon/seccomp_linux.go WithSeccomp: privileged containers and `seccomp=unconfined` run
 * without a filter; a custom profile (JSON text) or Docker's default (`builtin`, `default` or
 * unset) is resolved for this container. `seccompEnabled` false (a kernel without seccomp)
 * refuses custom profiles and runs the rest without a filter, as dockerd does.
 */
export function seccompForContainer(opts: {
  privileged: boolean;
  profile: string | undefined;
  boundingCaps: readonly string[];
  platform: SeccompPlatform;
  seccompEnabled?: boolean;
}): LinuxSeccomp | undefined {
  if (opts.privileged) return undefined;
  const profile = opts.profile;
  if (profile === 'unconfined') return undefined;
  const isDefault = profile === undefined || profile === '' || profile === 'builtin' || profile === 'default';
  if (opts.seccompEnabled === false) {
    if (!isDefault) {
      throw invalidParameter('seccomp is not enabled in your kernel, cannot run a custom seccomp profile.');
    }
    return undefined;
  }
  const parsed = isDefault ? DEFAULT_SECCOMP_PROFILE : parseSeccompProfile(profile);
  return resolveSeccompProfile(parsed, opts.boundingCaps, opts.platform);
}
