/**
 * `berth-runtime features`: what this runtime implements, in the OCI runtime features format
 * (runtime-spec features.md, as `runc features` prints it: indented JSON). Only what the shim
 * really does is listed: no hooks (a spec with hooks is refused), no AppArmor or SELinux labels,
 * cgroupfs only (no systemd driver).
 */
import {
  CAPABILITIES,
  MOUNT_OPTION_NAMES,
  NAMESPACE_TYPES,
  SECCOMP_ACTION_NAMES,
  SECCOMP_OPERATOR_NAMES,
} from '../runtime/index.ts';

/** The architectures libseccomp knows by these names (runc 1.1's list). */
const SECCOMP_ARCHS = [
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
];

export function features(version: string, ociVersion: string) {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: ociVersion,
    hooks: [] as string[],
    mountOptions: [...MOUNT_OPTION_NAMES],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: [...SECCOMP_ACTION_NAMES],
        operators: [...SECCOMP_OPERATOR_NAMES],
        archs: SECCOMP_ARCHS,
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: {
      'org.berth.runtime.checkpoint.enabled': 'false',
      'org.berth.runtime.version': version,
    },
  };
}
