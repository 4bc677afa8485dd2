/**
 * Builds the Engine from its domains. daemon/ calls this once with the daemon's settings.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, errnoCode } from '../common/index.ts';
import { ImageStore, SnapshotStore } from '../image/index.ts';
import { extractTar } from '../platform/index.ts';
import type { ContainerConfig } from '../oci/index.ts';
import { Runtime, createCgroupManager } from '../runtime/index.ts';
import { API_VERSION_CURRENT } from '../api/types/index.ts';
import { Containers } from './containers/container-service.ts';
import { isRunning } from './containers/state.ts';
import type { Engine } from './engine.ts';
import { EventBus } from './events.ts';
import { Execs } from './exec/exec-service.ts';
import { Images } from './images/image-service.ts';
import { System } from './system/system-service.ts';

export interface EngineConfig {
  /** Persistent state (default /var/lib/berth). */
  dataRoot: string;
  /** Runtime state that must not outlive a reboot: shim sockets (default /run/berth). */
  execRoot: string;
  /** The native shim binary. */
  shimPath: string;
  /** The cgroup under which every container gets its own (dockerd's --cgroup-parent). */
  cgroupParent: string;
  /** cgroupfs mount point (tests may point at another tree). */
  cgroupRoot?: string;
  log: Logger;
}

export async function createEngine(config: EngineConfig): Promise<Engine> {
  const { dataRoot, log } = config;
  await mkdir(dataRoot, { recursive: true, mode: 0o711 });
  const events = new EventBus();
  const snapshots = new SnapshotStore({
    root: join(dataRoot, 'snapshots'),
    log: log.child({ component: 'snapshots' }),
  });
  const imageStore = new ImageStore({
    root: join(dataRoot, 'image'),
    snapshots,
    log: log.child({ component: 'images' }),
    unpack: (tar, dir, options) => extractTar(tar, dir, { ...options, sameOwner: true }),
  });
  const cgroups = createCgroupManager({ root: config.cgroupRoot, log: log.child({ component: 'cgroups' }) });
  const runtime = new Runtime({
    shimPath: config.shimPath,
    cgroups,
    log: log.child({ component: 'runtime' }),
  });
  const containers = new Containers({
    root: join(dataRoot, 'containers'),
    execRoot: join(config.execRoot, 'c'),
    cgroupParent: config.cgroupParent,
    images: imageStore,
    snapshots,
    runtime,
    events,
    log: log.child({ component: 'containers' }),
    apiVersion: API_VERSION_CURRENT,
  });
  const execs = new Execs({ containers, runtime, events, log: log.child({ component: 'exec' }) });
  const images = new Images({
    store: imageStore,
    events,
    imageUsers: (id) => containers.imageUsers(id),
    tmpDir: join(dataRoot, 'tmp'),
    commitSource: (ref) => {
      const c = containers.store.get(ref);
      const id = c.record.id;
      return {
        id,
        imageId: c.record.imageId,
        config: c.record.config as ContainerConfig,
        running: isRunning(c.state),
        diff: () => snapshots.diff(id),
        pause: async () => {
          const cg = cgroups.open(`/${config.cgroupParent}/${id}`);
          await cg.freeze();
          return () => cg.thaw();
        },
      };
    },
  });
  const id = await engineId(dataRoot);
  const system = new System({
    id,
    dataRoot,
    cgroupVersion: cgroups.version,
    counts: () => {
      const all = containers.store.all();
      const running = all.filter((c) => c.state.status === 'running').length;
      const paused = all.filter((c) => c.state.status === 'paused').length;
      return {
        containers: all.length,
        running,
        paused,
        stopped: all.filter((c) => !isRunning(c.state)).length,
        images: imageStore.list().length,
      };
    },
    eventListeners: () => 0,
  });

  return {
    system,
    containers,
    execs,
    images,
    events,
    async init() {
      await snapshots.init();
      await imageStore.init();
      await containers.init();
    },
    async shutdown() {
      // Containers belong to their shims and keep running (live restore is berth's default).
    },
  };
}

/** A stable engine id, created on first start (Docker keeps one in engine-id). */
async function engineId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    const id = randomUUID();
    await writeFile(path, id);
    return id;
  }
}
