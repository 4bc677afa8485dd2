import { type BigIntStats, constants, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import {
  errnoCode,
  type Logger,
  packTar,
  silentLogger,
  type TarHeaderInput,
  type TarWriteEntry,
} from '../../common/index.ts';
import { getXattr, listXattrs } from '../syscalls.ts';
import { type IdMap, toContainer } from './id-map.ts';
import { WHITEOUT_OPAQUE_DIR, WHITEOUT_PREFIX } from './extract.ts';

export interface PackOptions {
  /** Paths (relative to the directory) to pack, each with everything under it; default: all. */
  include?: string[];
  /** Skip a path (and, for a directory, all under it) when this returns true. `name` is relative. */
  exclude?: (name: string, isDir: boolean) => boolean;
  /**
   * Renames in the archive, Docker's RebaseNames: `{ old: new }` maps `old` and `old/…` to
   * `new` and `new/…` (used to put a copied file under its destination name).
   */
  rebaseNames?: Record<string, string>;
  /**
   * Diffing an overlay upper dir into a layer: a char device 0/0 becomes a `.wh.<name>` file, a
   * directory with `trusted.overlay.opaque=y` is followed by a `.wh..wh..opq` entry, and
   * `trusted.overlay.*` xattrs are never archived.
   */
  overlayWhiteouts?: boolean;
  /** Archive extended attributes as PAX SCHILY.xattr records (default true). */
  xattrs?: boolean;
  /** Files are owned by host ids of this user namespace; archive the container ids. */
  idMap?: IdMap;
  signal?: AbortSignal;
  log?: Logger;
}

type Stat = BigIntStats;

/** Linux's dev_t encoding (sysmacros.h gnu_dev_major/minor). */
const devMajor = (rdev: bigint) => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const devMinor = (rdev: bigint) => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

/** Byte order, as Go sorts names (filepath.WalkDir), not UTF-16 order. */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * A tar stream of the tree at `dir`, in deterministic order (depth first, names sorted by bytes),
 * so identical trees give identical archives. Names are relative, directories end in '/', the
 * root itself is not archived. Symlinks are archived, never followed. Files with several links
 * are archived once, later names as hard links ('1') to the first. Char/block devices and fifos
 * are archived; sockets and files that vanish during the walk are skipped (as Docker does).
 * Headers are Docker's: mode with the file type bits, integer-second mtime, no user/group names.
 *
 * Metadata calls (lstat, readdir, readlink, xattrs) are synchronous: microseconds each, where a
 * threadpool round trip apiece doubled packing time; file contents are read asynchronously.
 * The tree is read lazily as the stream is consumed; an error (a file that changed size while
 * being read, an abort) destroys the stream.
 */
export function packDir(dir: string, options: PackOptions = {}): Readable {
  return packTar(walk(dir, options), options.signal ? { signal: options.signal } : {});
}

async function* walk(root: string, options: PackOptions): AsyncGenerator<TarWriteEntry> {
  const log = options.log ?? silentLogger();
  const seenInodes = new Map<string, string>();
  const seenPaths = new Set<string>();
  const includes = (options.include ?? ['.']).map((p) => posix.normalize(p).replace(/^\/+|\/+$/g, '') || '.');

  async function* visit(rel: string): AsyncGenerator<TarWriteEntry> {
    if (seenPaths.has(rel)) return;
    seenPaths.add(rel);
    const host = rel === '.' ? root : posix.join(root, rel);
    let st: Stat;
    try {
      st = lstatSync(host, { bigint: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    const isDir = st.isDirectory();
    if (rel !== '.') {
      if (options.exclude?.(rel, isDir)) return;
      yield* entriesFor(host, rel, st);
    }
    if (!isDir) return;
    const names = readdirSync(host).sort(byBytes);
    for (const name of names) {
      options.signal?.throwIfAborted();
      yield* visit(rel === '.' ? name : `${rel}/${name}`);
    }
  }

  async function* entriesFor(host: string, rel: string, st: Stat): AsyncGenerator<TarWriteEntry> {
    const name = rebase(rel, options.rebaseNames);
    // Overlay makes its whiteouts as the mounter (host root), outside a remapped container's
    // map: they carry no owner that matters, so they go as 0:0.
    const whiteout = options.overlayWhiteouts === true && st.isCharacterDevice() && st.rdev === 0n;
    const [uid, gid] =
      whiteout && options.idMap
        ? idsOrRoot(options.idMap, Number(st.uid), Number(st.gid))
        : toContainer(options.idMap, Number(st.uid), Number(st.gid));
    const header: TarHeaderInput = {
      name,
      type: 'file',
      mode: Number(st.mode & 0o177777n),
      uid,
      gid,
      mtime: Number(st.mtimeNs / 1_000_000_000n),
    };
    const xattrs = options.xattrs === false ? new Map<string, Buffer>() : readXattrs(host, options, log);
    if (xattrs.size > 0) header.xattrs = xattrs;
    let opaque = false;
    if (options.overlayWhiteouts && xattrs.has('trusted.overlay.opaque')) {
      opaque = xattrs.get('trusted.overlay.opaque')!.toString() === 'y';
    }
    if (options.overlayWhiteouts) {
      for (const k of xattrs.keys()) if (k.startsWith('trusted.overlay.')) xattrs.delete(k);
      if (xattrs.size === 0) delete header.xattrs;
    }

    if (st.isCharacterDevice() && options.overlayWhiteouts && st.rdev === 0n) {
      // Docker's overlayWhiteoutConverter.ConvertWrite: a 0/0 char device is a whiteout.
      const slash = name.lastIndexOf('/');
      yield {
        header: {
          ...header,
          name: `${name.slice(0, slash + 1)}${WHITEOUT_PREFIX}${name.slice(slash + 1)}`,
          type: 'file',
          mode: 0o600,
          size: 0,
        },
      };
      return;
    }
    if (st.isDirectory()) {
      yield { header: { ...header, name: `${name}/`, type: 'directory' } };
      if (opaque) {
        yield {
          header: {
            name: `${name}/${WHITEOUT_OPAQUE_DIR}`,
            type: 'file',
            mode: Number(st.mode & 0o777n),
            uid,
            gid,
            mtime: header.mtime!,
            size: 0,
          },
        };
      }
      return;
    }
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = seenInodes.get(key);
      if (first !== undefined) {
        yield { header: { ...header, type: 'hardlink', linkname: first, size: 0 } };
        return;
      }
      seenInodes.set(key, name);
    }
    if (st.isFile()) {
      const size = Number(st.size);
      yield {
        header: { ...header, type: 'file', size },
        body: size > 0 ? readFileChunks(host, size) : undefined,
      };
    } else if (st.isSymbolicLink()) {
      yield { header: { ...header, type: 'symlink', linkname: readlinkSync(host) } };
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      yield {
        header: {
          ...header,
          type: st.isCharacterDevice() ? 'char' : 'block',
          devmajor: devMajor(st.rdev),
          devminor: devMinor(st.rdev),
        },
      };
    } else if (st.isFIFO()) {
      yield { header: { ...header, type: 'fifo' } };
    } else {
      log.debug('not archiving a socket', { path: host });
    }
  }

  for (const inc of includes) yield* visit(inc);
}

/** The file's bytes, opened only when the archive reaches it. */
async function* readFileChunks(path: string, size: number): AsyncGenerator<Buffer> {
  // O_NOFOLLOW: a file swapped for a symlink since lstat must not lead outside the tree.
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let total = 0;
  try {
    for (;;) {
      // Sized to what is left (plus one byte to notice a file that grew), at most 128 KiB.
      const buf = Buffer.allocUnsafe(Math.min(128 * 1024, Math.max(size - total, 0) + 1));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      total += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function readXattrs(path: string, options: PackOptions, log: Logger): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = listXattrs(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') return out;
    throw err;
  }
  for (const name of names.sort(byBytes)) {
    if (options.overlayWhiteouts && name.startsWith('trusted.overlay.') && name !== 'trusted.overlay.opaque')
      continue;
    try {
      const value = getXattr(path, name);
      if (value) out.set(name, value);
    } catch (err) {
      log.debug('xattr not read', { path, name, code: errnoCode(err) });
    }
  }
  return out;
}

function rebase(rel: string, map: Record<string, string> | undefined): string {
  if (!map) return rel;
  for (const [from, to] of Object.entries(map)) {
    const f = from.replace(/\/+$/, '');
    const t = to.replace(/\/+$/, '');
    if (rel === f) return t;
    if (rel.startsWith(`${f}/`)) return `${t}${rel.slice(f.length)}`;
  }
  return rel;
}

function idsOrRoot(map: IdMap, uid: number, gid: number): [number, number] {
  try {
    return toContainer(map, uid, gid);
  } catch {
    return [0, 0];
  }
}
