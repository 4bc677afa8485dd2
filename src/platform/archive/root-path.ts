import { lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode, invalidParameter } from '../../common/index.ts';

/**
 * Cleans a tar entry name the way Docker's pkg/archive does before it touches the filesystem:
 * `filepath.Clean`, then the name is taken relative to the root (a leading '/' is dropped, so
 * `/etc/passwd` lands at `<root>/etc/passwd`). A name that still climbs out (`../x`,
 * `a/../../x`) is an InvalidParameter error. The root itself comes back as ''.
 */
export function cleanEntryPath(name: string): string {
  const cleaned = posix.normalize(name.replace(/\0/g, ''));
  if (cleaned === '..' || cleaned.startsWith('../'))
    throw invalidParameter(`invalid tar entry path: ${name}`);
  const rel = cleaned.replace(/^\/+/, '').replace(/\/+$/, '');
  return rel === '.' ? '' : rel;
}

/** True when `target` (a link value) seen from the directory of entry `rel` stays inside the root lexically. */
export function linkStaysInside(rel: string, target: string): boolean {
  // Docker (createTarFile): filepath.Join(filepath.Dir(path), linkname) must stay under the root;
  // an absolute target is joined too, so `/etc` means `<root>/etc`.
  const root = '/root';
  const joined = posix.join(root, posix.dirname(rel), target);
  return joined === root || joined.startsWith(`${root}/`);
}

const MAX_SYMLINKS = 40; // Linux's limit for one path walk (path_resolution(7)).

/**
 * Resolves directories under a root like chroot(2) would: every component is lstat'ed, a symlink
 * is followed but read relative to the root (an absolute target starts again at the root, `..`
 * at the root stays at the root), so nothing an archive creates can lead a later entry outside.
 * Only parent directories are resolved; the last component of an entry is never followed
 * (callers create it with O_EXCL or replace what is there).
 *
 * Calls are synchronous on purpose: each is a microsecond syscall, and a threadpool round trip
 * per path component would dominate extraction time (see extractTar).
 *
 * The resolver caches resolved directories; call `invalidate()` after anything that may turn a
 * directory into something else (a symlink created, a path removed).
 */
export class RootResolver {
  readonly root: string;
  #cache = new Map<string, string>();

  /** `root` must be an absolute, symlink-free path (use realpath). */
  constructor(root: string) {
    this.root = root;
  }

  invalidate(): void {
    this.#cache.clear();
  }

  /** The absolute host path for `rel` (a cleaned relative path) given its parent resolved in the root. */
  resolveEntry(rel: string, options: { createParents: boolean }): string {
    const parent = this.resolveDir(posix.dirname(rel), options.createParents);
    return posix.join(parent, posix.basename(rel));
  }

  /**
   * The absolute host path of directory `rel`, resolved in the root; missing directories are
   * created (mode 0755, like Docker's MkdirAll of missing parents) when `create` is set.
   */
  resolveDir(rel: string, create: boolean): string {
    if (rel === '.' || rel === '') return this.root;
    const cached = this.#cache.get(rel);
    if (cached !== undefined) return cached;
    const done: string[] = [];
    const todo = rel.split('/').reverse();
    let hops = 0;
    while (todo.length > 0) {
      const comp = todo.pop()!;
      if (comp === '' || comp === '.') continue;
      if (comp === '..') {
        done.pop();
        continue;
      }
      const host = posix.join(this.root, ...done, comp);
      let st: Stats;
      try {
        st = lstatSync(host);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || !create) throw err;
        mkdirSync(host, { mode: 0o755 });
        done.push(comp);
        continue;
      }
      if (st.isDirectory()) {
        done.push(comp);
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINKS) {
          throw invalidParameter(`too many levels of symbolic links resolving ${rel} in ${this.root}`);
        }
        const target = readlinkSync(host);
        if (target.startsWith('/')) done.length = 0;
        todo.push(...target.split('/').reverse());
      } else {
        throw Object.assign(new Error(`not a directory: ${posix.join(...done, comp)} (resolving ${rel})`), {
          code: 'ENOTDIR',
        });
      }
    }
    const host = posix.join(this.root, ...done);
    this.#cache.set(rel, host);
    return host;
  }
}
