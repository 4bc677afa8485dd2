import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../common/package-root.ts';

/**
 * Typed wrappers over native/addon (berth_addon.node): the syscalls berthd itself needs and
 * Node lacks. The addon is loaded lazily on first use from `<package root>/native/build/`, or
 * from `$BERTH_NATIVE_DIR` when set (tests, packaged installs). Every call is synchronous and
 * throws a Node-style system error: `code` is the errno name (`ENOENT`, `EPERM`, …), `syscall`
 * the call, and the message `"<syscall> <path>: <strerror>"`.
 */
interface Addon {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void;
  umount2(target: string, flags: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  chroot(path: string): void;
  lsetxattr(path: string, name: string, value: Uint8Array, flags: number): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  lremovexattr(path: string, name: string): void;
  idmapMounts(pairs: string[], uidMap: string, gidMap: string): void;
  constants: Record<string, number>;
}

let addon: Addon | undefined;

/** The path the addon is loaded from. */
export function nativeAddonPath(): string {
  const dir = process.env.BERTH_NATIVE_DIR || join(packageRoot(), 'native', 'build');
  return join(dir, 'berth_addon.node');
}

function load(): Addon {
  if (addon) return addon;
  const path = nativeAddonPath();
  const require = createRequire(import.meta.url);
  try {
    addon = require(path) as Addon;
  } catch (cause) {
    throw new Error(`cannot load the native addon ${path} (build it with \`make -C native\`)`, { cause });
  }
  return addon;
}

/** Mount flags (mount(2)). Values are Linux's; they are fixed ABI, so they are spelled out here. */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  POSIXACL: 0x10000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** umount2(2) flags. */
export const MNT = { FORCE: 1, DETACH: 2, EXPIRE: 4, UMOUNT_NOFOLLOW: 8 } as const;

/** File type bits of st_mode (inode(7)). */
export const S_IF = {
  MT: 0o170000,
  SOCK: 0o140000,
  LNK: 0o120000,
  REG: 0o100000,
  BLK: 0o060000,
  DIR: 0o040000,
  CHR: 0o020000,
  IFO: 0o010000,
} as const;

/** setxattr(2) flags. */
export const XATTR = { CREATE: 1, REPLACE: 2 } as const;

export interface MountOptions {
  /** Numeric MS_* flags, OR-ed. */
  flags?: number;
  /** The filesystem-specific data string (`lowerdir=…,upperdir=…`, `size=64m`…). */
  data?: string | null;
}

/**
 * mount(2). `source` and `fstype` may be null (bind mounts, remounts, propagation changes).
 * Example: `mount('overlay', dir, 'overlay', { data: 'lowerdir=…,upperdir=…,workdir=…' })`.
 */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  options: MountOptions = {},
): void {
  load().mount(source, target, fstype, options.flags ?? 0, options.data ?? null);
}

/** umount2(2). `detach` is MNT_DETACH (lazy unmount), `force` MNT_FORCE. */
export function umount(
  target: string,
  options: { detach?: boolean; force?: boolean; noFollow?: boolean } = {},
): void {
  const flags =
    (options.detach ? MNT.DETACH : 0) |
    (options.force ? MNT.FORCE : 0) |
    (options.noFollow ? MNT.UMOUNT_NOFOLLOW : 0);
  load().umount2(target, flags);
}

export type NodeType = 'char' | 'block' | 'fifo';

/**
 * mknod(2): creates a character device, block device or fifo at `path` with permission bits
 * `perm` (the process umask applies, as for mknod(2); chmod afterwards for exact bits).
 */
export function mknod(path: string, type: NodeType, perm: number, major = 0, minor = 0): void {
  const typeBits = type === 'char' ? S_IF.CHR : type === 'block' ? S_IF.BLK : S_IF.IFO;
  load().mknod(path, typeBits | (perm & 0o7777), major, minor);
}

/**
 * chroot(2) then chdir("/"): the whole process's root becomes `path`. Only for a short-lived
 * worker process that must resolve every path inside a container's root (cp), never berthd.
 */
export function chroot(path: string): void {
  load().chroot(path);
}

/** lsetxattr(2): sets extended attribute `name` on `path` itself (symlinks not followed). */
export function setXattr(path: string, name: string, value: Uint8Array, flags = 0): void {
  load().lsetxattr(path, name, value, flags);
}

/** lgetxattr(2): the raw bytes of attribute `name`, or null when `path` has no such attribute. */
export function getXattr(path: string, name: string): Buffer | null {
  return load().lgetxattr(path, name);
}

/** llistxattr(2): the names of all extended attributes of `path` (symlinks not followed). */
export function listXattrs(path: string): string[] {
  return load().llistxattr(path);
}

/** lremovexattr(2). */
export function removeXattr(path: string, name: string): void {
  load().lremovexattr(path, name);
}

/** True when the native addon can be loaded (for tests that skip without it). */
export function hasNativeAddon(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/** The addon's own constants (from the C headers); used by tests to check the table above. */
export function nativeConstants(): Readonly<Record<string, number>> {
  return load().constants;
}

/**
 * Mounts each `source` directory at its `target` (which must exist) as an idmapped mount
 * (mount_setattr MOUNT_ATTR_IDMAP, not recursive) through a user namespace with these maps: a file
 * owned by id I on disk is seen through the mount as owned by the host id I maps to. Used for the
 * lower layers of a user-namespaced container's overlay. All or nothing: on a failure the mounts
 * already made are detached. Unmount with umount().
 */
export function idmapMounts(
  pairs: { source: string; target: string }[],
  maps: { uidMap: { containerID: number; hostID: number; size: number }[]; gidMap: typeof maps.uidMap },
): void {
  const text = (m: typeof maps.uidMap) => m.map((r) => `${r.containerID} ${r.hostID} ${r.size}\n`).join('');
  load().idmapMounts(
    pairs.flatMap((p) => [p.source, p.target]),
    text(maps.uidMap),
    text(maps.gidMap),
  );
}
