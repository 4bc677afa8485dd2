/**
 * What the host gives a container's security settings, read once per berthd: the capabilities
 * berthd holds (its bounding set: --privileged grants exactly these, so a host whose own bounding
 * set lacks CAP_SYS_RESOURCE still starts privileged containers), the architecture and kernel the
 * seccomp profile is resolved for, the host's device nodes (privileged containers get them all),
 * --device nodes resolved by stat, and the static init binary for --init.
 */
import { constants, type Stats } from 'node:fs';
import { access, lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { errnoCode, invalidParameter } from '../../common/index.ts';
import { LINUX_CAPABILITIES, type LinuxDevice } from '../../oci/index.ts';
import { type ResolvedDevice, type SeccompPlatform, goArch } from '../spec/index.ts';

export interface HostSecurity {
  engineCapabilities: string[];
  seccompPlatform: SeccompPlatform;
  seccompEnabled: boolean;
}

/** `CapBnd:\t000001fffeffffff` of /proc/<pid>/status → capability names (known ones only). */
export function capabilitiesFromStatus(status: string, field = 'CapBnd'): string[] {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  if (!m?.[1]) return [...LINUX_CAPABILITIES];
  const mask = BigInt(`0x${m[1]}`);
  return LINUX_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

export async function readHostSecurity(): Promise<HostSecurity> {
  const status = await readFile('/proc/self/status', 'utf8');
  return {
    engineCapabilities: capabilitiesFromStatus(status),
    seccompPlatform: { arch: goArch(process.arch), kernel: release() },
    // A kernel with CONFIG_SECCOMP shows the Seccomp field (proc(5)).
    seccompEnabled: /^Seccomp:/m.test(status),
  };
}

/** glibc's major()/minor() of a dev_t. */
export function devMajorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

function deviceType(st: Stats): 'c' | 'b' | undefined {
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  return undefined;
}

async function deviceAt(path: string): Promise<Omit<ResolvedDevice, 'path' | 'permissions'> | undefined> {
  const st = await stat(path);
  const type = deviceType(st);
  if (!type) return undefined;
  const big = await stat(path, { bigint: true });
  return { type, ...devMajorMinor(big.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Directories runc's HostDevices skips (libcontainer/devices). */
const SKIPPED_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every char and block device under /dev (not /dev/console), as --privileged gives them. */
export async function hostDevices(root = '/dev'): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  const walk = async (dir: string) => {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return;
    }
    for (const name of entries.sort()) {
      const path = join(dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        if (!SKIPPED_DEV_DIRS.has(name)) await walk(path);
        continue;
      }
      if (path === '/dev/console') continue;
      const type = deviceType(st);
      if (!type) continue;
      const big = await lstat(path, { bigint: true });
      out.push({
        path,
        type,
        ...devMajorMinor(big.rdev),
        fileMode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
      });
    }
  };
  await walk(root);
  return out;
}

/**
 * The major:minor of every device path a blkio weight or throttle rule names, as dockerd's
 * getBlkioWeightDevices/getBlkioThrottleDevices stat them when the container starts. A path
 * that is missing is left out; the spec builder then refuses it with dockerd's stat error.
 */
export async function resolveBlockDevices(
  paths: string[],
): Promise<Record<string, { major: number; minor: number }>> {
  const out: Record<string, { major: number; minor: number }> = {};
  for (const path of new Set(paths)) {
    try {
      out[path] = devMajorMinor((await stat(path, { bigint: true })).rdev);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return out;
}

/**
 * `--device host[:container[:perms]]` → device nodes (oci.DevicesFromPath): a symlink is
 * followed, a device node maps to one entry, a directory maps every device below it (rebased
 * under the container path). Throws InvalidParameter with dockerd's text when the host path
 * is missing or is neither a device nor a directory.
 */
export async function resolveDevice(mapping: {
  pathOnHost: string;
  pathInContainer: string;
  cgroupPermissions: string;
}): Promise<ResolvedDevice[]> {
  const { pathOnHost, cgroupPermissions } = mapping;
  const inContainer = mapping.pathInContainer || pathOnHost;
  const fail = (reason: string) =>
    invalidParameter(
      `error gathering device information while adding custom device "${pathOnHost}": ${reason}`,
    );
  let resolved: string;
  let st: Stats;
  try {
    resolved = await realpath(pathOnHost);
    st = await stat(resolved);
  } catch (err) {
    throw errnoCode(err) === 'ENOENT' ? fail('no such file or directory') : fail((err as Error).message);
  }
  const permissions = cgroupPermissions || 'rwm';
  if (!st.isDirectory()) {
    const d = await deviceAt(resolved);
    if (!d) throw fail('not a device node');
    return [{ path: inContainer, permissions, ...d }];
  }
  const out: ResolvedDevice[] = [];
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const l = await lstat(path);
      if (l.isDirectory()) await walk(path);
      else if (deviceType(l)) {
        const d = await deviceAt(path);
        if (d) out.push({ path: join(inContainer, path.slice(resolved.length)), permissions, ...d });
      }
    }
  };
  await walk(resolved);
  return out;
}

/**
 * The --init binary: docker-init if installed (Docker's name), else Debian's tini-static. Must
 * be static: it runs inside images that may have no libc.
 */
export async function findInitBinary(candidates?: string[]): Promise<string | undefined> {
  const list = candidates ?? [
    '/usr/local/libexec/docker/docker-init',
    '/usr/libexec/docker/docker-init',
    '/usr/local/bin/docker-init',
    '/usr/bin/tini-static',
    '/usr/bin/docker-init',
  ];
  for (const p of list) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}
