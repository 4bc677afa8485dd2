/**
 * The archive worker: a short-lived process (started by in-root.ts under `unshare -m` in a
 * private mount namespace) that binds the container's volumes and bind mounts into its root
 * filesystem, chroot(2)s into it, and then stats, packs or extracts one path. Being chrooted,
 * every path it touches — symlinks included, even ones swapped while it runs — is resolved by
 * the kernel inside the container's root, as Docker's chrootarchive does.
 *
 * Protocol: argv[2] is the JSON request; fd 3 carries one JSON line per message
 * (`{"stat":…}`, `{"done":true}` or `{"error":{"code","message"}}`); stdout is the tar (get),
 * stdin the tar (put).
 */
import {
  closeSync,
  createWriteStream,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MS, chroot, mount } from '../syscalls.ts';
import { extractTar } from './extract.ts';
import type { InRootRequest, PathStat } from './in-root.ts';
import type { IdMap } from './id-map.ts';
import { packDir } from './pack.ts';
import { RootResolver } from './root-path.ts';

const O_PATH = 0o10000000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;

const control = createWriteStream('', { fd: 3 });
const send = (msg: unknown) =>
  new Promise<void>((resolve) => control.write(`${JSON.stringify(msg)}\n`, () => resolve()));

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as InRootRequest;
  bindMounts(req);
  chroot(req.rootfs);
  switch (req.op) {
    case 'stat':
      await send({ stat: statPath(req.path) });
      return;
    case 'get': {
      const stat = statPath(req.path);
      await send({ stat });
      await pipeline(packPath(req.path, req.idMap), process.stdout);
      return;
    }
    case 'put': {
      const st = statSync(req.path);
      if (!st.isDirectory())
        throw Object.assign(new Error('extraction point is not a directory'), { code: 'ENOTDIR' });
      await extractTar(process.stdin, req.path, {
        whiteouts: 'none',
        sameOwner: true,
        noOverwriteDirNonDir: req.noOverwriteDirNonDir ?? false,
        ...(req.idMap ? { idMap: req.idMap } : {}),
      });
      await send({ done: true });
      return;
    }
  }
}

/**
 * Mounts each bind at its destination inside the root. The destination is resolved inside the
 * root (RootResolver), opened O_PATH|O_NOFOLLOW and checked through /proc/self/fd before the
 * mount goes onto that fd, so a symlink swapped in between cannot redirect it.
 */
function bindMounts(req: InRootRequest): void {
  const resolver = new RootResolver(realpathSync(req.rootfs));
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  for (const b of [...req.binds].sort((a, b2) => depth(a.destination) - depth(b2.destination))) {
    const rel = posix.normalize(b.destination).replace(/^\/+/, '');
    if (rel === '' || rel === '.') continue;
    const isDir = statSync(b.source).isDirectory();
    const target = resolver.resolveEntry(rel, { createParents: true });
    if (!lstatSync(target, { throwIfNoEntry: false })) {
      if (isDir) mkdirSync(target, { mode: 0o755 });
      else writeFileSync(target, '', { flag: 'wx', mode: 0o644 });
    }
    const fd = openSync(target, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== target || fstatSync(fd).isSymbolicLink()) {
        throw new Error(`mount point ${b.destination} changed while mounting`);
      }
      mount(b.source, `/proc/self/fd/${fd}`, null, { flags: MS.BIND | MS.REC });
    } finally {
      closeSync(fd);
    }
    if (b.readOnly) {
      const again = openSync(target, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      try {
        if (readlinkSync(`/proc/self/fd/${again}`) !== target)
          throw new Error(`mount point ${b.destination} changed`);
        mount(null, `/proc/self/fd/${again}`, null, { flags: MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC });
      } finally {
        closeSync(again);
      }
    }
    resolver.invalidate();
  }
}

/** Go's os.FileMode bits, as Docker's X-Docker-Container-Path-Stat carries them. */
function goFileMode(mode: number): number {
  const GO = {
    dir: 2 ** 31,
    symlink: 2 ** 27,
    device: 2 ** 26,
    pipe: 2 ** 25,
    socket: 2 ** 24,
    setuid: 2 ** 23,
    setgid: 2 ** 22,
    char: 2 ** 21,
    sticky: 2 ** 20,
  };
  let m = mode & 0o777;
  switch (mode & 0o170000) {
    case 0o040000:
      m += GO.dir;
      break;
    case 0o120000:
      m += GO.symlink;
      break;
    case 0o060000:
      m += GO.device;
      break;
    case 0o020000:
      m += GO.device + GO.char;
      break;
    case 0o010000:
      m += GO.pipe;
      break;
    case 0o140000:
      m += GO.socket;
      break;
  }
  if (mode & 0o4000) m += GO.setuid;
  if (mode & 0o2000) m += GO.setgid;
  if (mode & 0o1000) m += GO.sticky;
  return m;
}

/** Docker's statPath: lstat (the last component is not followed), the link's resolved target. */
function statPath(path: string): PathStat {
  const st = lstatSync(path);
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    try {
      linkTarget = realpathSync(path);
    } catch {
      linkTarget = posix.resolve(posix.dirname(path), readlinkSync(path));
    }
  }
  return {
    name: posix.basename(path) || '/',
    size: st.size,
    mode: goFileMode(st.mode),
    mtime: st.mtime.toISOString(),
    linkTarget,
  };
}

/**
 * The tar of `path` as Docker's archive route sends it: the entry named by the path's base name;
 * for `dir/.` (and `dir/`), the directory's contents under `./`.
 */
function packPath(path: string, idMap?: IdMap) {
  const contents = path.endsWith('/.') || (path.endsWith('/') && path !== '/');
  const clean = posix.normalize(path.replace(/\/\.?$/, '')) || '/';
  const ids = idMap ? { idMap } : {};
  if (clean === '/') return packDir('/', contents ? ids : { include: ['.'], ...ids });
  const dir = posix.dirname(clean);
  const base = posix.basename(clean);
  if (contents) return packDir(dir, { include: [base], rebaseNames: { [base]: '.' }, ...ids });
  return packDir(dir, { include: [base], ...ids });
}

main().then(
  () => control.end(() => process.exit(0)),
  async (err: NodeJS.ErrnoException) => {
    await send({ error: { code: err.code ?? '', message: err.message } });
    control.end(() => process.exit(1));
  },
);
