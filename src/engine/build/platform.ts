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

const KNOWN_ARCH = new Set([
  '386',
  'amd64',
  'arm',
  'arm64',
  'ppc64le',
  'ppc64',
  's390x',
  'riscv64',
  'loong64',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'wasm',
]);

/**
 * `os[/arch[/variant]]` (or a bare arch or OS) → normalised OS and architecture, with
 * containerd's platforms.Parse errors (moby wraps them in `failed to parse platform <spec>`).
 */
export function parsePlatformSpec(spec: string): { os: string; architecture: string; variant?: string } {
  const fail = (why: string) =>
    invalidParameter(`failed to parse platform ${spec}: ${why}: invalid argument`);
  if (spec.includes('*')) throw fail(`"${spec}": wildcards not yet supported`);
  const parts = spec.split('/');
  if (parts.length > 3) throw fail(`"${spec}": cannot parse platform specifier`);
  const osVer = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$/.exec(parts[0]!);
  if (!osVer)
    throw fail(
      `"${parts[0]}" is an invalid OS component of "${spec}": OSAndVersion specifier component must match "^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.-]*)\\))?$"`,
    );
  for (const part of parts.slice(1)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(part))
      throw fail(
        `"${part}" is an invalid component of "${spec}": platform specifier component must match "^[A-Za-z0-9_.-]+$"`,
      );
  }
  const host = hostPlatform();
  const first = osVer[1]!.toLowerCase();
  const norm = (a: string) => ARCH_ALIASES[a.toLowerCase()] ?? a.toLowerCase();
  if (parts.length === 1) {
    if (OSES.has(first)) return { os: first, architecture: host.architecture };
    const arch = norm(parts[0]!);
    if (!KNOWN_ARCH.has(arch)) throw fail(`"${spec}": unknown operating system or architecture`);
    return { os: host.os, architecture: arch };
  }
  const arch = norm(parts[1]!);
  let variant = parts[2]?.toLowerCase();
  if (arch === 'arm64' && variant === 'v8') variant = undefined;
  return { os: first, architecture: arch, ...(variant !== undefined && { variant }) };
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
