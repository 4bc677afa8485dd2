/**
 * `docker build --platform` and `FROM --platform=`: berth builds for the host platform only (it
 * has no emulation), so a platform is accepted when it normalises (containerd's platforms.Parse
 * and Normalize) to the host's OS and architecture, and refused with a clear error otherwise.
 */
import { invalidParameter, notImplemented } from '../../common/index.ts';

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

export const hostPlatform = () => ({ os: 'linux', architecture: NODE_ARCH[process.arch] ?? process.arch });

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

const OSES = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos']);

/** `os[/arch[/variant]]` (or a bare arch or OS) → normalised OS and architecture. */
export function parsePlatformSpec(spec: string): { os: string; architecture: string; variant?: string } {
  const parts = spec.toLowerCase().split('/');
  if (spec === '' || parts.length > 3 || parts.some((p) => !/^[a-z0-9_-]+$/.test(p))) {
    throw invalidParameter(
      `failed to parse platform ${spec}: "${spec}": unknown operating system or architecture: invalid argument`,
    );
  }
  const host = hostPlatform();
  let os: string;
  let arch: string;
  let variant: string | undefined;
  if (parts.length === 1) {
    if (OSES.has(parts[0]!)) {
      os = parts[0]!;
      arch = host.architecture;
    } else {
      os = host.os;
      arch = parts[0]!;
    }
  } else {
    [os, arch, variant] = parts as [string, string, string | undefined];
  }
  arch = ARCH_ALIASES[arch] ?? arch;
  if (arch === 'arm64' && variant === 'v8') variant = undefined;
  return { os, architecture: arch, ...(variant !== undefined && { variant }) };
}

/** Throws unless `spec` is the host platform. */
export function checkPlatform(spec: string): void {
  const p = parsePlatformSpec(spec);
  const host = hostPlatform();
  if (p.os !== host.os || p.architecture !== host.architecture) {
    const want = [p.os, p.architecture, p.variant].filter(Boolean).join('/');
    throw notImplemented(
      `building for platform ${want} is not supported: berth builds for the host platform (${host.os}/${host.architecture}) only`,
    );
  }
}
