/**
 * The client side of `berth cp`, as the docker CLI does it with moby/go-archive (copy.go,
 * archive.go): path rules (trailing '/' and '/.'), the source archive of a host path, renaming
 * archive entries to the destination's name, and extracting an archive into a host directory.
 */
import { createReadStream, type BigIntStats } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  utimes,
} from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  packTar,
  readTar,
  type TarHeader,
  type TarHeaderInput,
  type TarWriteEntry,
} from '../common/index.ts';

/** Where a copy comes from or goes to (go-archive CopyInfo). */
export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

export const ERR_CANNOT_COPY_DIR = 'cannot copy directory';
export const ERR_DIR_NOT_EXISTS = 'no such directory';
export const ERR_NOT_DIRECTORY = 'not a directory';

/** splitCpArg: "ctr:path" → [ctr, path]; an absolute path or a "./x:y" is local. */
export function splitCpArg(arg: string): [container: string, path: string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0) return ['', arg];
  const ctr = arg.slice(0, i);
  if (ctr.startsWith('.')) return ['', arg];
  return [ctr, arg.slice(i + 1)];
}

export const hasTrailingPathSeparator = (p: string) => p.length > 0 && p.endsWith('/');
export const specifiesCurrentDir = (p: string) => p === '' || posix.basename(p) === '.';

/** filepath.Clean (posix). */
export function clean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** PreserveTrailingDotOrSeparator: keeps the "/." or "/" the user wrote after cleaning. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingPathSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingPathSeparator(out) && hasTrailingPathSeparator(original)) out += '/';
  return out;
}

/** SplitPathDirEntry: parent directory and last element; "/x/." gives ["/x", "."]. */
export function splitPathDirEntry(p: string): [dir: string, base: string] {
  let cleaned = clean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [posix.dirname(cleaned), posix.basename(cleaned)];
}

/** A destination that must be a directory: it ends in '/' or '/.'. */
export const assertsDirectory = (p: string) => hasTrailingPathSeparator(p) || specifiesCurrentDir(p);

/** GetRebaseName: after resolving a link, the name the archive entry must keep. */
export function getRebaseName(path: string, resolvedPath: string): [string, string] {
  let resolved = resolvedPath;
  let rebaseName = '';
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(resolved)) resolved += '/.';
  if (hasTrailingPathSeparator(path) && !hasTrailingPathSeparator(resolved)) resolved += '/';
  if (posix.basename(path) !== posix.basename(resolved)) rebaseName = posix.basename(path);
  return [resolved, rebaseName];
}

/** resolveLocalPath: absolute, keeping a trailing "/." or "/". */
export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(resolve(p), p);
}

/**
 * PrepareArchiveCopy: the directory to extract into and how to rename the source's top entry so
 * the copy lands under the destination's name (`undefined`: no renaming).
 */
export function prepareArchiveCopy(
  src: CopyInfo,
  dst: CopyInfo,
): { dstDir: string; rebase?: [oldBase: string, newBase: string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new Error(ERR_CANNOT_COPY_DIR);
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new Error(ERR_DIR_NOT_EXISTS);
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dstDir, rebase: [srcBase, dstBase] };
}

function toInput(h: TarHeader, name: string, linkname: string): TarHeaderInput {
  return {
    name,
    type: h.type,
    typeflag: h.typeflag,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: h.mtime,
    ...(h.atime !== undefined ? { atime: h.atime } : {}),
    linkname,
    uname: h.uname,
    gname: h.gname,
    devmajor: h.devmajor,
    devminor: h.devminor,
    xattrs: h.xattrs,
  };
}

/**
 * RebaseArchiveEntries: the first occurrence of `oldBase` in each entry name (and in hard-link
 * targets) becomes `newBase`, as Go's strings.Replace(name, old, new, 1).
 */
export function rebaseArchiveEntries(
  tar: AsyncIterable<Uint8Array>,
  oldBase: string,
  newBase: string,
): Readable {
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    for await (const e of readTar(tar)) {
      const h = e.header;
      if (h.typeflag === 'g') continue;
      const name = h.name.replace(oldBase, newBase);
      const linkname = h.type === 'hardlink' ? h.linkname.replace(oldBase, newBase) : h.linkname;
      yield { header: toInput(h, name, linkname), ...(h.size > 0 ? { body: e.body } : {}) };
    }
  }
  return packTar(entries());
}

/** CopyInfoSourcePath: the host source, its link resolved as docker does (-L or not). */
export async function copyInfoSourcePath(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    [resolved, rebaseName] = getRebaseName(path, await realpath(path).catch(() => lstatError(path)));
  } else {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash + 1);
    const base = path.slice(slash + 1);
    const resolvedDir = dir === '' ? '.' : await realpath(dir).catch(() => lstatError(path));
    resolved = `${resolvedDir === '/' ? '' : resolvedDir}/${base}`;
    if (hasTrailingPathSeparator(path) && posix.basename(path) !== posix.basename(resolved)) {
      rebaseName = posix.basename(path);
    }
  }
  const st = await lstat(resolved).catch(() => lstatError(resolved));
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

function lstatError(path: string): never {
  throw new Error(`lstat ${clean(path)}: no such file or directory`);
}

const devMajor = (rdev: bigint) => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const devMinor = (rdev: bigint) => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

/**
 * TarResource: an archive of the host path `source` named by its last element (or `rebaseName`),
 * walked in lexical order, links archived as links, hard links once, sockets skipped.
 */
export function tarResource(source: string, rebaseName: string): Readable {
  const [dir, base] = splitPathDirEntry(source);
  const seen = new Map<string, string>();
  const nameOf = (rel: string) => {
    // IncludeSourceDir with include ".": entries are "./x" for consistency.
    const n = base === '.' && rel !== '.' ? `./${rel}` : rel;
    return rebaseName && (n === base || n.startsWith(`${base}/`)) ? rebaseName + n.slice(base.length) : n;
  };
  async function* visit(rel: string): AsyncGenerator<TarWriteEntry> {
    const abs = rel === '.' ? dir : join(dir, rel);
    let st: BigIntStats;
    try {
      st = await lstat(abs, { bigint: true });
    } catch {
      return;
    }
    const mode = Number(st.mode);
    const fmt = mode & 0o170000;
    if (fmt === 0o140000) return; // sockets are not archived
    const common = {
      mode: mode & 0o7777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtime: Number(st.mtimeMs / 1000n),
    };
    const name = nameOf(rel);
    if (fmt === 0o040000) {
      yield { header: { name: name.endsWith('/') ? name : `${name}/`, type: 'directory', ...common } };
      const children = (await readdir(abs)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const c of children) yield* visit(rel === '.' ? c : `${rel}/${c}`);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (fmt !== 0o120000 && st.nlink > 1n) {
      const first = seen.get(key);
      if (first !== undefined) {
        yield { header: { name, type: 'hardlink', linkname: first, ...common } };
        return;
      }
      seen.set(key, name);
    }
    if (fmt === 0o120000) {
      yield { header: { name, type: 'symlink', linkname: await readlink(abs), ...common } };
    } else if (fmt === 0o100000) {
      const size = Number(st.size);
      yield {
        header: { name, type: 'file', size, ...common },
        ...(size > 0 ? { body: createReadStream(abs) } : {}),
      };
    } else if (fmt === 0o020000 || fmt === 0o060000) {
      const type = fmt === 0o020000 ? 'char' : 'block';
      yield { header: { name, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev), ...common } };
    } else if (fmt === 0o010000) {
      yield { header: { name, type: 'fifo', ...common } };
    }
  }
  return packTar(visit(base));
}

/** CopyInfoDestinationPath: follows a symlinked destination; the parent must exist. */
export async function copyInfoDestinationPath(path: string): Promise<CopyInfo> {
  const original = path;
  let current = path;
  // A missing path is fine (its parent must exist); any other lstat error is not.
  const lst = (p: string) =>
    lstat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new Error(`lstat ${p}: ${errnoText(err)}`);
    });
  let st = await lst(current);
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${original}`);
    let target = await readlink(current);
    if (!isAbsolute(target)) target = join(splitPathDirEntry(current)[0], target);
    current = target;
    st = await lst(current);
  }
  if (st) return { path: current, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  const [parent] = splitPathDirEntry(current);
  let pst: Awaited<ReturnType<typeof stat>>;
  try {
    pst = await stat(parent);
  } catch {
    throw new Error(`stat ${parent}: no such file or directory`);
  }
  if (!pst.isDirectory()) throw new Error(ERR_NOT_DIRECTORY);
  return { path: current, exists: false, isDir: false, rebaseName: '' };
}

const execFileP = promisify(execFile);

/** Go's text for an errno ("not a directory", "permission denied", …). */
function errnoText(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]+),/.exec(err.message);
  return m?.[1] ?? err.message;
}

const within = (root: string, p: string) => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('../') && rel !== '..' && !isAbsolute(rel));
};

/**
 * Untar with NoLchown and NoOverwriteDirNonDir, as archive.CopyTo extracts: files get the
 * archive's mode and times but stay owned by the user running the copy; nothing may land outside
 * `dest` (names, symlink and hard-link targets are checked); a directory is never replaced by a
 * non-directory or the other way round.
 */
export async function untarInto(tar: AsyncIterable<Uint8Array>, dest: string): Promise<void> {
  const dirs: Array<{ path: string; mtime: number; atime: number }> = [];
  for await (const e of readTar(tar)) {
    const h = e.header;
    if (h.typeflag === 'g') continue;
    const name = clean(h.name);
    const path = join(dest, name);
    if (!within(dest, path))
      throw new Error(`${JSON.stringify(h.name)} is outside of ${JSON.stringify(dest)}`);
    // createImpliedDirectories
    const parent = dirname(path);
    if (!(await lstat(parent).catch(() => undefined))) await mkdir(parent, { recursive: true, mode: 0o755 });
    const existing = await lstat(path).catch(() => undefined);
    if (existing) {
      if (existing.isDirectory() && h.type !== 'directory') {
        throw new Error(
          `cannot overwrite directory ${JSON.stringify(path)} with non-directory ${JSON.stringify(dest)}`,
        );
      }
      if (!existing.isDirectory() && h.type === 'directory') {
        throw new Error(
          `cannot overwrite non-directory ${JSON.stringify(path)} with directory ${JSON.stringify(dest)}`,
        );
      }
      if (existing.isDirectory() && name === '.') continue;
      if (!existing.isDirectory() || h.type !== 'directory') await rm(path, { recursive: true, force: true });
    }
    switch (h.type) {
      case 'directory':
        if (!existing) await mkdir(path, { mode: h.mode });
        break;
      case 'file': {
        const fh = await open(path, 'w', h.mode);
        try {
          for await (const chunk of e.body) await fh.write(chunk as Uint8Array);
        } finally {
          await fh.close();
        }
        break;
      }
      case 'hardlink': {
        const target = join(dest, h.linkname);
        if (!within(dest, target))
          throw new Error(`invalid hardlink ${JSON.stringify(target)} -> ${JSON.stringify(h.linkname)}`);
        await link(target, path);
        break;
      }
      case 'symlink': {
        const target = join(dirname(path), h.linkname);
        if (!within(dest, target))
          throw new Error(`invalid symlink ${JSON.stringify(path)} -> ${JSON.stringify(h.linkname)}`);
        await symlink(h.linkname, path);
        break;
      }
      case 'char':
      case 'block':
        await execFileP('mknod', [
          path,
          h.type === 'char' ? 'c' : 'b',
          String(h.devmajor),
          String(h.devminor),
        ]);
        break;
      case 'fifo':
        await execFileP('mknod', [path, 'p']);
        break;
      default:
        throw new Error(`unhandled tar header type ${h.typeflag.charCodeAt(0)}`);
    }
    const mtime = h.mtime;
    const atime = Math.max(h.atime ?? 0, mtime);
    if (h.type === 'symlink') {
      await lutimes(path, atime, mtime).catch(() => {});
      continue;
    }
    // A hard link shares its target's inode: go-archive leaves its mode and times alone.
    if (h.type === 'hardlink') continue;
    await chmod(path, h.mode);
    if (h.type === 'directory') dirs.push({ path, mtime, atime });
    else await utimes(path, atime, mtime);
  }
  for (const d of dirs) await utimes(d.path, d.atime, d.mtime);
}
