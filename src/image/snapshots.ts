import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  type Digest,
  digestHex,
  errnoCode,
  invalidParameter,
  isDigest,
  type Logger,
} from '../common/index.ts';
import {
  dirSize,
  type IdMap,
  idmapMounts,
  mount as mountFs,
  packDir,
  syncDir,
  toHost,
  umount,
  writeJsonAtomic,
} from '../platform/index.ts';
import { ensureShiftedLayer, removeShiftedLayer, shiftedRoot } from './shifted-layers.ts';
import { normalizeUpperDir } from './upper-layer.ts';

/** The overlay directories of one container, as handed to mount(2). */
export interface ContainerSnapshot {
  /** The read-only layers, topmost first (the order of overlay's `lowerdir=`). */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
}

/** A directory being filled with a layer's files; see SnapshotStore.beginLayer(). */
export interface LayerWriter {
  /** Where to unpack the layer. */
  readonly dir: string;
  /**
   * Moves the unpacked files into place as the snapshot of `chainId`. Returns 'exists' when an
   * identical snapshot was committed first (by a concurrent import); ours is then discarded.
   */
  commit(chainId: Digest): Promise<'created' | 'exists'>;
  /** Throws the unpacked files away (after a failure). Safe to call after commit(). */
  discard(): Promise<void>;
}

interface ContainerMeta {
  chainIds: Digest[];
}

/** mount(2) copies at most one page of option data. */
const MAX_MOUNT_DATA = 4095;
/** Length of the short link names under `l/` that keep `lowerdir=` short. */
const LINK_LEN = 20;

/**
 * Overlay snapshots: one read-only directory per layer chain ID, shared by every image and
 * container that has that layer, plus an upper and work directory per container.
 *
 * Layout under `root` (`<dataRoot>/snapshots`):
 *
 *   layers/<chain hex>/        the unpacked files of a layer (overlay whiteouts: 0/0 char devices,
 *                              `trusted.overlay.opaque` xattrs)
 *   l/<20 hex>  -> ../layers/<chain hex>   short names that keep the mount data under a page
 *   containers/<id>/upper/     the container's writes
 *   containers/<id>/work/      overlay's work dir
 *   containers/<id>/merged/    the default mount point
 *   containers/<id>/meta.json  {"chainIds": [...]} (bottom layer first), written atomically
 *   empty/                     the lower dir of an image without layers
 *   im/<16 hex>/<n>            a user-namespaced container's layers, idmapped, only while its
 *                              overlay is being mounted (see #mountIdmapped)
 *   shifted/<uid>.<gid>/<link> chowned layer copies for user-namespaced containers where idmapped
 *                              mounts are unavailable (remapByCopy; see shifted-layers.ts)
 *   tmp/                       layers being unpacked; emptied by init()
 *
 * Lifecycle: `init()` once. Layers are written with `beginLayer()` → unpack into `dir` →
 * `commit(chainId)`, or made of an unmounted container's upper dir with `takeUpper(id)` →
 * `commit(chainId)` (build steps); only the ImageStore does that and decides (removeLayer) when a layer is no
 * longer used by any image or container. The engine calls `prepare(id, chainIds)` when a
 * container is created, `mount` / `unmount` around its runs, and `removeContainer` when it is
 * removed; removeContainer unmounts any overlay still using the container's upper dir.
 */
export class SnapshotStore {
  readonly #root: string;
  readonly #log: Logger;
  readonly #containers = new Map<string, ContainerMeta>();
  readonly #onRemoved: Array<() => Promise<unknown>> = [];
  #indexOff = false;

  /** Remapped containers get chowned layer copies (no idmapped mounts here); see shifted-layers.ts. */
  readonly #remapByCopy: boolean;

  constructor(options: { root: string; log: Logger; remapByCopy?: boolean }) {
    this.#root = options.root;
    this.#log = options.log;
    this.#remapByCopy = options.remapByCopy ?? false;
  }

  get root(): string {
    return this.#root;
  }

  async init(): Promise<void> {
    for (const d of ['layers', 'l', 'containers', 'empty']) {
      await mkdir(join(this.#root, d), { recursive: true });
    }
    await rm(join(this.#root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.#root, 'tmp'));
    // Docker's overlay2 driver mounts with index=off where the kernel has the option, so the
    // same lower dirs can be shared by many mounts without the index's exclusivity checks.
    this.#indexOff = existsSync('/sys/module/overlay/parameters/index');
    this.#containers.clear();
    for (const id of await readdir(join(this.#root, 'containers'))) {
      try {
        const meta = JSON.parse(
          await readFile(join(this.#root, 'containers', id, 'meta.json'), 'utf8'),
        ) as ContainerMeta;
        this.#containers.set(id, meta);
      } catch (err) {
        this.#log.warn('container snapshot without metadata', { containerId: id, err });
      }
    }
  }

  // ---- layers ----

  /** The directory holding the files of layer `chainId` (it may not exist). */
  layerDir(chainId: Digest): string {
    return join(this.#root, 'layers', hexOf(chainId));
  }

  async hasLayer(chainId: Digest): Promise<boolean> {
    return existsSync(this.layerDir(chainId));
  }

  /** Chain IDs of every committed layer snapshot. */
  async listLayers(): Promise<Digest[]> {
    const names = await readdir(join(this.#root, 'layers'));
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  /** A fresh directory to unpack a layer into; see LayerWriter. */
  async beginLayer(): Promise<LayerWriter> {
    const dir = join(this.#root, 'tmp', randomBytes(12).toString('hex'));
    await mkdir(dir, { mode: 0o755 });
    return this.#layerWriter(dir);
  }

  /**
   * A container's upper dir as a layer being written, without copying it (build steps; see
   * upper-layer.ts): the container's overlay must be unmounted and it must not be user-namespaced
   * (its upper dir would hold remapped ids). The upper dir is cleaned into a layer directory and
   * moved to `tmp/`; the container gets a fresh empty upper dir, so removing it still works.
   * Pack `dir` for the diff, then commit or discard as with beginLayer.
   */
  async takeUpper(containerId: string, options: { signal?: AbortSignal } = {}): Promise<LayerWriter> {
    const meta = this.#containers.get(containerId);
    if (!meta) throw invalidParameter(`no snapshot prepared for container ${containerId}`);
    const { upperDir } = this.#snapshotOf(containerId, meta);
    if ((await overlayMountsUsing(upperDir)).length > 0)
      throw invalidParameter(`the root filesystem of ${containerId} is still mounted`);
    normalizeUpperDir(upperDir, options.signal);
    const dir = join(this.#root, 'tmp', randomBytes(12).toString('hex'));
    await rename(upperDir, dir);
    await mkdir(upperDir, { mode: 0o755 });
    return this.#layerWriter(dir);
  }

  #layerWriter(dir: string): LayerWriter {
    let done = false;
    return {
      dir,
      commit: async (chainId) => {
        const target = this.layerDir(chainId);
        // Flush the unpacked files before they become visible under their final name, so a
        // crash cannot leave a committed snapshot with missing data.
        await syncFilesystem(dir);
        let result: 'created' | 'exists' = 'created';
        try {
          await rename(dir, target);
        } catch (err) {
          const code = errnoCode(err);
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          result = 'exists';
          await rm(dir, { recursive: true, force: true });
        }
        done = true;
        await this.#ensureLink(chainId);
        await syncDir(join(this.#root, 'layers'));
        return result;
      },
      discard: async () => {
        if (!done) await rm(dir, { recursive: true, force: true });
        done = true;
      },
    };
  }

  /** Removes a layer snapshot. The caller (ImageStore) has checked nothing uses it. */
  async removeLayer(chainId: Digest): Promise<void> {
    if (this.layersInUseByContainers().has(chainId)) {
      throw invalidParameter(`layer ${chainId} is in use by a container`);
    }
    await rm(this.#linkPath(chainId), { force: true });
    await removeShiftedLayer(this.#root, this.#linkName(chainId));
    // Rename first so a half-removed layer is never visible under its chain ID.
    const doomed = join(this.#root, 'tmp', `rm-${randomBytes(8).toString('hex')}`);
    try {
      await rename(this.layerDir(chainId), doomed);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /** Chain IDs that some container's snapshot stacks on. */
  layersInUseByContainers(): Set<Digest> {
    const used = new Set<Digest>();
    for (const meta of this.#containers.values()) for (const c of meta.chainIds) used.add(c);
    return used;
  }

  #linkName(chainId: Digest): string {
    return hexOf(chainId).slice(0, LINK_LEN);
  }

  #linkPath(chainId: Digest): string {
    return join(this.#root, 'l', this.#linkName(chainId));
  }

  async #ensureLink(chainId: Digest): Promise<void> {
    const link = this.#linkPath(chainId);
    const want = join('..', 'layers', hexOf(chainId));
    try {
      if ((await readlink(link)) === want) return;
      await unlink(link);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    try {
      await symlink(want, link);
    } catch (err) {
      // A concurrent commit of the same layer made it.
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
  }

  // ---- containers ----

  #containerDir(containerId: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) {
      throw invalidParameter(`invalid container id for a snapshot: ${containerId}`);
    }
    return join(this.#root, 'containers', containerId);
  }

  /** The default mount point of a container's root filesystem. */
  rootfsPath(containerId: string): string {
    return join(this.#containerDir(containerId), 'merged');
  }

  /**
   * Creates the container's upper and work dirs on top of the layers `chainIds` (as in the
   * image: bottom layer first). Every layer must exist. Calling it again for the same container
   * returns the existing snapshot.
   */
  async prepare(containerId: string, chainIds: Digest[]): Promise<ContainerSnapshot> {
    const dir = this.#containerDir(containerId);
    const existing = this.#containers.get(containerId);
    if (existing) return this.#snapshotOf(containerId, existing);
    for (const c of chainIds) {
      if (!(await this.hasLayer(c))) throw invalidParameter(`layer ${c} does not exist`);
    }
    const meta: ContainerMeta = { chainIds: [...chainIds] };
    await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, 'work'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'merged'), { recursive: true, mode: 0o755 });
    await writeJsonAtomic(join(dir, 'meta.json'), meta);
    this.#containers.set(containerId, meta);
    return this.#snapshotOf(containerId, meta);
  }

  /** The containers that have a snapshot (crash recovery compares them with the container store). */
  containerIds(): string[] {
    return [...this.#containers.keys()];
  }

  /** The prepared snapshot of a container, or undefined. */
  snapshot(containerId: string): ContainerSnapshot | undefined {
    const meta = this.#containers.get(containerId);
    return meta && this.#snapshotOf(containerId, meta);
  }

  #snapshotOf(containerId: string, meta: ContainerMeta): ContainerSnapshot {
    const dir = this.#containerDir(containerId);
    const lowerDirs =
      meta.chainIds.length === 0
        ? [join(this.#root, 'empty')]
        : [...meta.chainIds].reverse().map((c) => this.#linkPath(c));
    return { lowerDirs, upperDir: join(dir, 'upper'), workDir: join(dir, 'work') };
  }

  /**
   * Mounts the container's overlay at `target` (default: rootfsPath(id)), creating it; if it is
   * mounted there already, does nothing. With `idMap` (a user-namespaced container), the lower
   * layers are idmapped by it; see #mountIdmapped.
   */
  async mount(
    containerId: string,
    target = this.rootfsPath(containerId),
    options: { idMap?: IdMap } = {},
  ): Promise<string> {
    const meta = this.#containers.get(containerId);
    if (!meta) throw invalidParameter(`no snapshot prepared for container ${containerId}`);
    const snap = this.#snapshotOf(containerId, meta);
    // Idempotent: a rootfs still mounted (a restart after a crash) is reused, not stacked.
    if ((await overlayMountsUsing(snap.upperDir)).includes(target)) return target;
    await mkdir(target, { recursive: true });
    if (options.idMap && this.#remapByCopy) await this.#mountShifted(snap, meta, target, options.idMap);
    else if (options.idMap) await this.#mountIdmapped(containerId, snap, meta, target, options.idMap);
    else this.#mountOverlay(snap.lowerDirs, snap, meta, target);
    return target;
  }

  /**
   * mount(2) of the overlay. Lower dirs are named through the short `l/` links; when even those
   * exceed a page, the mount is made with paths relative to the snapshot root (as Docker's overlay2).
   */
  #mountOverlay(lowerDirs: string[], snap: ContainerSnapshot, meta: ContainerMeta, target: string): void {
    const tail = `,upperdir=${snap.upperDir},workdir=${snap.workDir}${this.#indexOff ? ',index=off' : ''}`;
    const absolute = `lowerdir=${lowerDirs.join(':')}${tail}`;
    if (absolute.length <= MAX_MOUNT_DATA) {
      mountFs('overlay', target, 'overlay', { data: absolute });
      return;
    }
    const rel = `lowerdir=${lowerDirs.map((d) => relative(this.#root, d)).join(':')}${tail}`;
    if (rel.length > MAX_MOUNT_DATA) {
      throw invalidParameter(`too many layers (${meta.chainIds.length}) to mount an overlay`);
    }
    // mount(2) is synchronous here, so no other JavaScript runs while the cwd is changed;
    // berth never uses relative paths elsewhere.
    const cwd = process.cwd();
    process.chdir(this.#root);
    try {
      mountFs('overlay', target, 'overlay', { data: rel });
    } finally {
      process.chdir(cwd);
    }
  }

  /**
   * A user-namespaced container's overlay: each lower layer is first mounted idmapped (layers
   * stay in container ids on disk, shared with every other container), the overlay is made on
   * those, and the idmapped mounts are detached again (overlay holds private clones of its
   * layers). The upper dir is not idmapped: what the container writes is owned by its remapped
   * host ids, and the upper root by the remapped root, as with Docker.
   */
  async #mountIdmapped(
    containerId: string,
    snap: ContainerSnapshot,
    meta: ContainerMeta,
    target: string,
    idMap: IdMap,
  ): Promise<void> {
    const base = this.#idmappedDir(containerId);
    await this.#removeIdmapped(base);
    const pairs = snap.lowerDirs.map((source, i) => ({ source, target: join(base, String(i)) }));
    for (const p of pairs) await mkdir(p.target, { recursive: true });
    await chown(snap.upperDir, ...toHost(idMap, 0, 0));
    // One user namespace for all the layers; on failure none stays mounted.
    idmapMounts(pairs, idMap);
    try {
      this.#mountOverlay(
        pairs.map((p) => p.target),
        snap,
        meta,
        target,
      );
    } finally {
      for (const p of pairs) umount(p.target, { detach: true });
      await rm(base, { recursive: true, force: true });
    }
  }

  /**
   * A user-namespaced container's overlay without idmapped mounts: over copies of its layers
   * owned by the remapped ids (made once per layer and remapping), the upper root owned by the
   * remapped root.
   */
  async #mountShifted(
    snap: ContainerSnapshot,
    meta: ContainerMeta,
    target: string,
    idMap: IdMap,
  ): Promise<void> {
    const root = shiftedRoot(this.#root, idMap);
    const lowers: string[] = [];
    for (const dir of snap.lowerDirs) {
      lowers.push(await ensureShiftedLayer(dir, root, basename(dir), join(this.#root, 'tmp'), idMap));
    }
    await chown(snap.upperDir, ...toHost(idMap, 0, 0));
    this.#mountOverlay(lowers, snap, meta, target);
  }

  /**
   * Where a container's idmapped layers are mounted while its overlay is made: short, so the
   * relative `lowerdir=` fits as many layers as Docker allows (`im/<16 hex>/<n>` per layer).
   */
  #idmappedDir(containerId: string): string {
    this.#containerDir(containerId); // validates the id
    return join(this.#root, 'im', createHash('sha256').update(containerId).digest('hex').slice(0, 16));
  }

  /** Leftover idmapped layer mounts of a crashed start: detached, then their dirs removed. */
  async #removeIdmapped(base: string): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(base);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const n of names) {
      try {
        umount(join(base, n), { detach: true });
      } catch (err) {
        if (errnoCode(err) !== 'EINVAL' && errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    await rm(base, { recursive: true, force: true });
  }

  /** Unmounts a container's root filesystem; a target that is not mounted is not an error. */
  async unmount(target: string): Promise<void> {
    try {
      umount(target);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EINVAL' || code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      this.#log.warn('rootfs busy, detaching', { target });
      umount(target, { detach: true });
    }
  }

  /** Unmounts every overlay of the container and removes its upper, work and mount dirs. */
  async removeContainer(containerId: string): Promise<void> {
    const dir = this.#containerDir(containerId);
    const upper = join(dir, 'upper');
    for (const target of await overlayMountsUsing(upper)) await this.unmount(target);
    // Idmapped layer mounts left by a crash mid-mount: detached first, or rm would go into them.
    await this.#removeIdmapped(this.#idmappedDir(containerId));
    this.#containers.delete(containerId);
    await rm(dir, { recursive: true, force: true });
    for (const hook of this.#onRemoved) {
      try {
        await hook();
      } catch (err) {
        this.#log.warn('after container snapshot removal', { containerId, err });
      }
    }
  }

  /**
   * Runs `hook` after every removeContainer (the ImageStore collects the layers that only the
   * container kept alive). A failing hook is logged, never thrown to the remover.
   */
  onContainerRemoved(hook: () => Promise<unknown>): void {
    this.#onRemoved.push(hook);
  }

  /**
   * The container's changes as a layer tar (`docker commit`, build steps): its upper dir with
   * overlay whiteouts turned back into `.wh.` entries. Feed it to ImageStore.addLayer.
   */
  diff(containerId: string, options: { signal?: AbortSignal; idMap?: IdMap } = {}): Readable {
    const meta = this.#containers.get(containerId);
    if (!meta) throw invalidParameter(`no snapshot prepared for container ${containerId}`);
    return packDir(this.#snapshotOf(containerId, meta).upperDir, {
      overlayWhiteouts: true,
      // A user-namespaced container wrote under remapped ids: layers hold its own.
      ...(options.idMap ? { idMap: options.idMap } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      log: this.#log,
    });
  }

  /** Bytes the container has written (its upper dir; hard links counted once), as Docker's SizeRw. */
  async containerRootfsSize(containerId: string): Promise<number> {
    return dirSize(join(this.#containerDir(containerId), 'upper'));
  }

  /** Bytes of the files of a layer snapshot. */
  async layerSize(chainId: Digest): Promise<number> {
    return dirSize(this.layerDir(chainId));
  }
}

function hexOf(chainId: Digest): string {
  if (!isDigest(chainId)) throw invalidParameter(`invalid chain id: ${chainId}`);
  return digestHex(chainId);
}

const execFileP = promisify(execFile);

/** syncfs(2) of the filesystem holding `path`, through coreutils `sync -f`. */
async function syncFilesystem(path: string): Promise<void> {
  await execFileP('sync', ['-f', path]);
}

/** Mount points of overlay mounts whose upperdir is `upper` (from /proc/self/mountinfo). */
export async function overlayMountsUsing(upper: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const targets: string[] = [];
  for (const line of info.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'overlay') continue;
    const opts = unescapeMountinfo(superOpts).split(',');
    if (!opts.includes(`upperdir=${upper}`)) continue;
    const mountPoint = line.slice(0, sep).split(' ')[4];
    if (mountPoint) targets.push(unescapeMountinfo(mountPoint));
  }
  // Innermost first, so nested mounts come off before their parents.
  return targets.reverse();
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
