/**
 * The container ↔ volume glue: creating the volumes a container's mount points name (and
 * anonymous ones), copying the image's files into a new empty volume, turning mount points into
 * host sources at start, releasing them at exit, and `rm -v`.
 */
import { lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { chmod, chown } from 'node:fs/promises';
import type { MountPoint } from '../../api/types/index.ts';
import { type Logger, errnoCode, invalidParameter } from '../../common/index.ts';
import type { SnapshotStore } from '../../image/index.ts';
import { type IdMap, RootResolver, extractTar, packDir, toHost } from '../../platform/index.ts';
import { ANONYMOUS_LABEL, type VolumeStore } from '../../volume/index.ts';
import type { ResolvedMount } from '../spec/index.ts';
import type { MountPointRecord } from './mount-points.ts';

export interface ContainerVolumesDeps {
  store: VolumeStore;
  snapshots: SnapshotStore;
  log: Logger;
}

export class ContainerVolumes {
  readonly #d: ContainerVolumesDeps;

  constructor(deps: ContainerVolumesDeps) {
    this.#d = deps;
  }

  /**
   * Create time: checks bind sources, creates missing named and anonymous volumes (naming the
   * anonymous ones in the returned records) and copies the image's content into new empty
   * volumes. Returns the records to store and the volumes it created (to undo on failure).
   */
  async prepare(
    containerId: string,
    points: MountPointRecord[],
    options: { idMap?: IdMap } = {},
  ): Promise<{ points: MountPointRecord[]; created: string[] }> {
    const created: string[] = [];
    const out: MountPointRecord[] = [];
    try {
      for (const p of points) {
        if (p.type === 'bind') {
          if (!p.createSource && !(await exists(p.source))) {
            throw invalidParameter(
              `invalid mount config for type "bind": bind source path does not exist: ${p.source}`,
            );
          }
          out.push(p);
          continue;
        }
        if (p.type !== 'volume') {
          out.push(p);
          continue;
        }
        if (p.driver !== 'local') {
          throw invalidParameter(
            `error looking up volume plugin ${p.driver}: plugin "${p.driver}" not found`,
          );
        }
        let name = p.name;
        if (name === '' || !this.#d.store.find(name)) {
          const rec = await this.#d.store.create({
            ...(name ? { name } : {}),
            labels: { ...(p.volumeLabels ?? {}), ...(name === '' ? { [ANONYMOUS_LABEL]: '' } : {}) },
            ...(p.volumeOptions ? { options: p.volumeOptions } : {}),
          });
          name = rec.name;
          created.push(name);
        }
        out.push({ ...p, name });
      }
      const toCopy = out.filter((p) => p.type === 'volume' && p.copyData && !p.subpath);
      if (toCopy.length > 0) await this.#copyUp(containerId, toCopy, options.idMap);
      return { points: out, created };
    } catch (err) {
      for (const name of created) await this.#d.store.remove(name).catch(() => {});
      throw err;
    }
  }

  /** Removes volumes `prepare` created (a create that failed later). */
  async discard(created: string[]): Promise<void> {
    for (const name of created) await this.#d.store.remove(name).catch(() => {});
  }

  /**
   * Docker's copy-up (daemon/volumes_unix.go populateVolumes): a volume that is empty gets the
   * files the image has at the mount's destination, with the directory's owner and mode.
   */
  async #copyUp(containerId: string, points: MountPointRecord[], idMap?: IdMap): Promise<void> {
    const rootfs = await this.#d.snapshots.mount(containerId);
    try {
      const resolver = new RootResolver(rootfs);
      for (const p of points) {
        const user = `copy-up:${containerId}`;
        const data = await this.#d.store.mount(p.name, user);
        try {
          if ((await readdir(data)).length > 0) continue;
          let src: string;
          try {
            src = resolver.resolveDir(p.destination.replace(/^\/+/, ''), false);
          } catch (err) {
            const code = errnoCode(err);
            if (code === 'ENOENT' || code === 'ENOTDIR') continue;
            throw err;
          }
          const st = await stat(src);
          await pipeline(packDir(src), (tar) =>
            extractTar(tar, data, { whiteouts: 'none', sameOwner: true, ...(idMap ? { idMap } : {}) }),
          );
          // A user-namespaced container's volume holds its files under the remapped host ids.
          await chown(data, ...toHost(idMap, st.uid, st.gid));
          await chmod(data, st.mode & 0o7777);
        } finally {
          await this.#d.store.unmount(p.name, user);
        }
      }
    } finally {
      await this.#d.snapshots.unmount(rootfs);
    }
  }

  /** Start time: the host source of each bind and volume mount point, for OciContext.mounts. */
  async setup(containerId: string, points: MountPointRecord[]): Promise<ResolvedMount[]> {
    const out: ResolvedMount[] = [];
    const mounted: string[] = [];
    try {
      for (const p of points) {
        if (p.type === 'tmpfs') continue;
        let source: string;
        if (p.type === 'bind') {
          source = p.source;
          if (!(await exists(source))) {
            if (!p.createSource) {
              throw invalidParameter(
                `invalid mount config for type "bind": bind source path does not exist: ${source}`,
              );
            }
            // Docker's -v creates a missing host directory (volume/mounts MountPoint.Setup).
            await mkdir(source, { recursive: true, mode: 0o755 });
          }
        } else {
          source = await this.#d.store.mount(p.name, containerId);
          mounted.push(p.name);
          if (p.subpath) {
            const resolver = new RootResolver(source);
            try {
              source = resolver.resolveEntry(p.subpath.replace(/^\/+/, ''), { createParents: false });
              await lstat(source);
            } catch (err) {
              throw invalidParameter(`cannot access path ${p.subpath} in volume ${p.name}`, { cause: err });
            }
          }
        }
        out.push({
          source,
          destination: p.destination,
          writable: p.rw,
          ...(p.propagation ? { propagation: p.propagation } : {}),
          ...(p.nonRecursive ? { nonRecursive: true } : {}),
        });
      }
      return out;
    } catch (err) {
      for (const name of mounted) await this.#d.store.unmount(name, containerId).catch(() => {});
      throw err;
    }
  }

  /** Docker's inspect `Mounts`: binds, volumes (Source = the volume's files) and --mount tmpfs. */
  view(points: MountPointRecord[]): MountPoint[] {
    return points.map((p) => ({
      Type: p.type,
      ...(p.type === 'volume' ? { Name: p.name } : {}),
      Source: p.type === 'volume' ? this.#d.store.dataPath(p.name) : p.source,
      Destination: p.destination,
      ...(p.type === 'volume' ? { Driver: p.driver } : {}),
      Mode: p.mode,
      RW: p.rw,
      Propagation: p.propagation,
    }));
  }

  /** Exit: the container no longer uses its volumes. */
  async release(containerId: string, points: MountPointRecord[]): Promise<void> {
    for (const p of points) {
      if (p.type !== 'volume') continue;
      await this.#d.store
        .unmount(p.name, containerId)
        .catch((err) => this.#d.log.warn('volume unmount failed', { name: p.name, err }));
    }
  }

  /**
   * `rm -v`: removes the container's anonymous volumes that no other container uses
   * (named volumes stay, as in Docker).
   */
  async removeAnonymous(points: MountPointRecord[], usedElsewhere: (name: string) => boolean): Promise<void> {
    for (const p of points) {
      if (p.type !== 'volume' || !p.anonymous || usedElsewhere(p.name)) continue;
      await this.#d.store
        .remove(p.name)
        .catch((err) => this.#d.log.warn('anonymous volume removal failed', { name: p.name, err }));
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
