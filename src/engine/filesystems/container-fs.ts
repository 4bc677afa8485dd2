/**
 * A container's filesystem from the outside: `cp` (GET/PUT/HEAD /containers/{id}/archive),
 * `diff` (GET /containers/{id}/changes) and `export`.
 *
 * cp and export run in a chrooted worker (platform getInRoot/putInRoot) over the container's
 * rootfs: the overlay mount of a running container, or one mounted for the operation when it is
 * stopped; the container's binds and volumes are mounted inside the worker's private mount
 * namespace at their destinations, so a copy reaches through them as in Docker.
 */
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerPathStat, FilesystemChange } from '../../api/types/index.ts';
import { forbidden, invalidParameter, isBerthError, notFound } from '../../common/index.ts';
import type { SnapshotStore } from '../../image/index.ts';
import { getInRoot, putInRoot, statInRoot } from '../../platform/index.ts';
import type { Container } from '../containers/container-store.ts';
import type { Containers } from '../containers/container-service.ts';
import { isRunning } from '../containers/state.ts';
import type { ContainerFsService } from '../engine.ts';
import type { ContainerVolumes, MountPointRecord } from '../volumes/index.ts';

export interface ContainerFsDeps {
  containers: Containers;
  snapshots: SnapshotStore;
  volumes: ContainerVolumes;
}

/** Paths Docker's init layer holds (so `diff` never shows them) and the runtime's mount points. */
const INIT_PATHS = new Set([
  '/dev',
  '/dev/pts',
  '/dev/shm',
  '/dev/mqueue',
  '/dev/console',
  '/proc',
  '/sys',
  '/sys/fs/cgroup',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/mtab',
  '/.dockerenv',
]);

let useCounter = 0;

export class ContainerFs implements ContainerFsService {
  readonly #d: ContainerFsDeps;

  constructor(deps: ContainerFsDeps) {
    this.#d = deps;
  }

  async statPath(ref: string, path: string): Promise<ContainerPathStat> {
    const c = this.#d.containers.store.get(ref);
    const abs = checkPath(path);
    return this.#withRoot(c, c.record.mountPoints ?? [], async (rootfs, binds) => {
      try {
        return await statInRoot({ rootfs, binds, path: abs });
      } catch (err) {
        throw notFoundIn(err, path, c);
      }
    });
  }

  async getArchive(
    ref: string,
    path: string,
    signal: AbortSignal,
  ): Promise<{ stat: ContainerPathStat; tar: Readable; done: Promise<void> }> {
    const c = this.#d.containers.store.get(ref);
    return this.#get(c, checkPath(path), path, c.record.mountPoints ?? [], signal);
  }

  async #get(
    c: Container,
    abs: string,
    path: string,
    points: MountPointRecord[],
    signal: AbortSignal,
  ): Promise<{ stat: ContainerPathStat; tar: Readable; done: Promise<void> }> {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    type Got = { stat: ContainerPathStat; tar: Readable; done: Promise<void> };
    let ready!: (v: Got) => void;
    let fail!: (err: unknown) => void;
    const result = new Promise<Got>((res, rej) => {
      ready = res;
      fail = rej;
    });
    // The root stays mounted until the worker has written the whole archive.
    void this.#withRoot(c, points, async (rootfs, binds) => {
      try {
        const got = await getInRoot({ rootfs, binds, path: abs }, signal);
        const done = got.done.finally(release);
        ready({ ...got, done });
        await done.catch(() => {});
        await held;
      } catch (err) {
        fail(notFoundIn(err, path, c));
      }
    }).catch(fail);
    return result;
  }

  async putArchive(
    ref: string,
    path: string,
    tar: Readable,
    options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
    signal: AbortSignal,
  ): Promise<void> {
    const c = this.#d.containers.store.get(ref);
    const abs = checkPath(path);
    const points = c.record.mountPoints ?? [];
    const onVolume = points.some(
      (p) => p.type !== 'tmpfs' && (abs === p.destination || abs.startsWith(`${p.destination}/`)),
    );
    if (!onVolume && c.record.hostConfig.ReadonlyRootfs) {
      throw forbidden('container rootfs is marked read-only');
    }
    await this.#withRoot(c, points, async (rootfs, binds) => {
      try {
        await putInRoot(
          { rootfs, binds, path: abs, noOverwriteDirNonDir: options.noOverwriteDirNonDir },
          tar,
          signal,
        );
      } catch (err) {
        throw notFoundIn(err, path, c);
      }
    });
  }

  /** The whole root filesystem (without volumes) as a tar, as `docker export`. */
  async export(ref: string, signal: AbortSignal): Promise<{ tar: Readable; done: Promise<void> }> {
    const c = this.#d.containers.store.get(ref);
    const got = await this.#get(c, '/', '/', [], signal);
    return { tar: got.tar, done: got.done };
  }

  /** Docker's `diff`: A(1)/C(0)/D(2) from the container's overlay upper dir, sorted by path. */
  async changes(ref: string): Promise<FilesystemChange[] | null> {
    const c = this.#d.containers.store.get(ref);
    const snap = this.#d.snapshots.snapshot(c.record.id);
    if (!snap) return null;
    const mountDests = new Set((c.record.mountPoints ?? []).map((p) => p.destination));
    const out: FilesystemChange[] = [];
    const inLower = (rel: string): boolean => {
      for (const lower of snap.lowerDirs) {
        const st = lstatSync(join(lower, rel), { throwIfNoEntry: false });
        if (!st) continue;
        return !(st.isCharacterDevice() && st.rdev === 0);
      }
      return false;
    };
    const walk = (rel: string): boolean => {
      let any = false;
      for (const name of readdirSync(join(snap.upperDir, rel)).sort()) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        const path = `/${childRel}`;
        const st = lstatSync(join(snap.upperDir, childRel));
        if (st.isCharacterDevice() && st.rdev === 0) {
          out.push({ Path: path, Kind: 2 });
          any = true;
          continue;
        }
        const existed = inLower(childRel);
        const isMountPoint = INIT_PATHS.has(path) || mountDests.has(path);
        const at = out.length;
        if (!(isMountPoint && (st.isDirectory() || st.size === 0))) {
          out.push({ Path: path, Kind: existed ? 0 : 1 });
        }
        let childChanged = false;
        if (st.isDirectory()) childChanged = walk(childRel);
        // A directory only copied up to hold a mount point (Docker's init layer) is no change.
        if (st.isDirectory() && existed && !childChanged && out[at]?.Path === path && isMountParent(path)) {
          out.splice(at, 1);
        }
        any = any || out.length > at;
      }
      return any;
    };
    walk('');
    out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
    return out.length ? out : null;

    function isMountParent(path: string): boolean {
      for (const p of [...INIT_PATHS, ...mountDests]) if (p.startsWith(`${path}/`)) return true;
      return false;
    }
  }

  /**
   * Runs `fn` with the container's root mounted and its binds/volumes resolved. A stopped
   * container's root is mounted for the call (serialised with start/stop) and unmounted after.
   */
  async #withRoot<T>(
    c: Container,
    points: MountPointRecord[],
    fn: (rootfs: string, binds: { source: string; destination: string; readOnly: boolean }[]) => Promise<T>,
  ): Promise<T> {
    const { containers, snapshots, volumes } = this.#d;
    const id = c.record.id;
    const user = `fs:${id}:${++useCounter}`;
    const run = async (rootfs: string) => {
      const resolved = await volumes.setup(user, points);
      try {
        const binds = resolved.map((m) => ({
          source: m.source,
          destination: m.destination,
          readOnly: !m.writable,
        }));
        return await fn(rootfs, [...networkFileBinds(c, containers.store.dir(id), binds), ...binds]);
      } finally {
        await volumes.release(user, points);
      }
    };
    if (isRunning(c.state)) return run(containers.lifecycle.rootfsDir(id));
    return containers.lifecycle.serialize(id, async () => {
      if (isRunning(c.state)) return run(containers.lifecycle.rootfsDir(id));
      const rootfs = await snapshots.mount(id);
      try {
        return await run(rootfs);
      } finally {
        await snapshots.unmount(rootfs);
      }
    });
  }
}

/**
 * /etc/hostname, /etc/hosts and /etc/resolv.conf as the container sees them: the files the engine
 * wrote at its last start, bind-mounted over the image's (dockerd's setupMounts includes the
 * network mounts, so `cp` reads and writes these, not the rootfs copies). None before a first
 * start; a user mount at the same path wins.
 */
function networkFileBinds(
  c: Container,
  dir: string,
  userBinds: { destination: string }[],
): { source: string; destination: string; readOnly: boolean }[] {
  const taken = new Set(userBinds.map((b) => posix.normalize(b.destination)));
  const readOnly = c.record.hostConfig.ReadonlyRootfs === true;
  return [
    ['hostname', '/etc/hostname'],
    ['hosts', '/etc/hosts'],
    ['resolv.conf', '/etc/resolv.conf'],
  ].flatMap(([file, destination]) => {
    const source = join(dir, file as string);
    if (taken.has(destination as string) || !existsSync(source)) return [];
    return [{ source, destination: destination as string, readOnly }];
  });
}

function checkPath(path: string): string {
  if (!path) throw invalidParameter('path is required');
  // Docker resolves a relative path against the container's root.
  const abs = path.startsWith('/') ? path : `/${path}`;
  // Keep a trailing "/." or "/": they ask for a directory's contents.
  const suffix = abs.endsWith('/.') ? '/.' : abs.endsWith('/') && abs !== '/' ? '/' : '';
  return posix.normalize(abs).replace(/\/+$/, '') + suffix || '/';
}

function notFoundIn(err: unknown, path: string, c: Container): unknown {
  if (isBerthError(err, 'NotFound')) {
    // Docker: "Could not find the file /x in container <name>".
    return notFound(`Could not find the file ${path} in container ${c.record.name}`);
  }
  return err;
}
