/**
 * Builds the Engine from its domains. daemon/ calls this once with the daemon's settings.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, errnoCode } from '../common/index.ts';
import { ImageStore, SnapshotStore } from '../image/index.ts';
import { type UsernsRemap, extractTar } from '../platform/index.ts';
import type { ContainerConfig } from '../oci/index.ts';
import { Runtime, createCgroupManager } from '../runtime/index.ts';
import { API_VERSION_CURRENT } from '../api/types/index.ts';
import { type BuildCacheGcPolicy, Builder } from './build/index.ts';
import { Containers } from './containers/container-service.ts';
import { ContainerStats } from './containers/container-stats.ts';
import { probeHostFacts } from './containers/host-facts.ts';
import { isRunning } from './containers/state.ts';
import type { Engine } from './engine.ts';
import { EventBus } from './events.ts';
import { Execs } from './exec/exec-service.ts';
import { HealthMonitor } from './health/health-monitor.ts';
import { Images } from './images/image-service.ts';
import { Networks } from './networks/index.ts';
import { System } from './system/system-service.ts';
import { DiskUsage } from './system/disk-usage.ts';
import { VolumeStore } from '../volume/index.ts';
import type { BridgeDaemonConfig } from '../network/index.ts';
import { ContainerVolumes, Volumes } from './volumes/index.ts';
import { ContainerFs } from './filesystems/index.ts';
import { prepareRemappedRoot } from './containers/userns.ts';
import type { ContainerDefaults } from './containers/container-defaults.ts';
import { type RuntimeEntry, runtimeTable } from './containers/runtimes.ts';

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
  /** The daemon's default log driver and options for new containers. */
  logDefaults?: { type: string; config: Record<string, string> };
  /** berthd --insecure-registry and --registry-mirror. */
  registry?: { insecure: string[]; mirrors: string[] };
  /** berthd --max-concurrent-downloads and --max-concurrent-uploads. */
  transfers?: { downloads: number; uploads: number };
  /** The daemon's defaults for containers (--init, --no-new-privileges, --seccomp-profile, …). */
  containerDefaults?: ContainerDefaults;
  /** How info names the seccomp profile: builtin, unconfined or the file's path. */
  seccompProfileName?: string;
  /** berthd --label. */
  labels?: string[];
  /** --add-runtime / daemon.json runtimes and --default-runtime (engine/containers/runtimes.ts). */
  runtimes?: { added?: Record<string, RuntimeEntry>; defaultRuntime?: string };
  /** Networking settings (berthd --bridge, --bip, --default-address-pool, --nft-table, --iface-prefix, --mtu). */
  network: {
    defaultBridge: string;
    bip?: string;
    pools: Array<{ base: string; size: number }>;
    nftTable: string;
    ifacePrefix: string;
    mtu: number;
  } & Partial<BridgeDaemonConfig>;
  /** berthd --userns-remap, resolved: every container not run with --userns=host gets these maps. */
  usernsRemap?: UsernsRemap;
  /** berthd --experimental and the data root's filesystem, as /version and /info report them. */
  daemon?: { experimental?: boolean; backingFilesystem?: string };
  /** daemon.json builder.gc: the step cache's garbage collection. */
  buildCacheGc?: BuildCacheGcPolicy;
  /** Observers (berthd --metrics-addr): called after every health probe. */
  hooks?: { healthProbe?: (ok: boolean) => void };
}

export async function createEngine(config: EngineConfig): Promise<Engine> {
  const { dataRoot, log } = config;
  await mkdir(dataRoot, { recursive: true, mode: 0o711 });
  const remapRoot = config.usernsRemap
    ? await prepareRemappedRoot(dataRoot, config.usernsRemap, log)
    : { idmappedMounts: true };
  const events = new EventBus();
  const snapshots = new SnapshotStore({
    root: join(dataRoot, 'snapshots'),
    log: log.child({ component: 'snapshots' }),
    remapByCopy: !remapRoot.idmappedMounts,
  });
  const imageStore = new ImageStore({
    root: join(dataRoot, 'image'),
    snapshots,
    log: log.child({ component: 'images' }),
    unpack: (tar, dir, options) => extractTar(tar, dir, { ...options, sameOwner: true }),
  });
  const runtimes = runtimeTable({ shimPath: config.shimPath, ...config.runtimes });
  const cgroups = createCgroupManager({ root: config.cgroupRoot, log: log.child({ component: 'cgroups' }) });
  const runtime = new Runtime({
    shimPath: config.shimPath,
    cgroups,
    log: log.child({ component: 'runtime' }),
  });
  const networks = new Networks({
    root: join(dataRoot, 'networks'),
    ...config.network,
    events,
    log: log.child({ component: 'networks' }),
    ...(config.containerDefaults ? { containerDefaults: config.containerDefaults } : {}),
  });
  const volumeStore = new VolumeStore({
    root: join(dataRoot, 'volumes'),
    log: log.child({ component: 'volumes' }),
    ...(config.usernsRemap ? { dataOwner: config.usernsRemap.root } : {}),
  });
  const containerVolumes = new ContainerVolumes({
    store: volumeStore,
    snapshots,
    log: log.child({ component: 'volumes' }),
  });
  const hostFacts = probeHostFacts(cgroups.version, config.cgroupRoot);
  const containers = new Containers({
    volumes: containerVolumes,
    networking: networks,
    root: join(dataRoot, 'containers'),
    execRoot: join(config.execRoot, 'c'),
    cgroupParent: config.cgroupParent,
    images: imageStore,
    snapshots,
    runtime,
    events,
    log: log.child({ component: 'containers' }),
    apiVersion: API_VERSION_CURRENT,
    hostFacts,
    ...(config.containerDefaults ? { defaults: config.containerDefaults } : {}),
    runtimes,
    runtimesRoot: config.execRoot,
    ...(config.logDefaults ? { logDefaults: config.logDefaults } : {}),
    ...(config.usernsRemap ? { usernsRemap: config.usernsRemap } : {}),
  });
  networks.setContainers(containers.store);
  const volumes = new Volumes({
    store: volumeStore,
    events,
    users: (name) => containers.volumeUsers(name),
  });
  const execs = new Execs({ containers, runtime, events, log: log.child({ component: 'exec' }) });
  const health = new HealthMonitor({
    containers,
    execs,
    events,
    log: log.child({ component: 'health' }),
    ...(config.hooks?.healthProbe ? { onProbe: config.hooks.healthProbe } : {}),
  });
  const images = new Images({
    store: imageStore,
    events,
    insecureRegistries: config.registry?.insecure ?? [],
    registryMirrors: config.registry?.mirrors ?? [],
    ...(config.transfers
      ? { maxConcurrentDownloads: config.transfers.downloads, maxConcurrentUploads: config.transfers.uploads }
      : {}),
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
        diff: () => {
          const remap = containers.lifecycle.remapOf(c.record.hostConfig);
          return snapshots.diff(id, remap ? { idMap: remap.idMap } : {});
        },
        pause: async () => {
          const cg = cgroups.open(`/${config.cgroupParent}/${id}`);
          await cg.freeze();
          return () => cg.thaw();
        },
      };
    },
  });
  const builder = new Builder({
    dataRoot,
    images: imageStore,
    snapshots,
    containers,
    log: log.child({ component: 'build' }),
    pull: (ref, auth, signal) => images.pull({ fromImage: ref }, auth, signal),
    ...(config.buildCacheGc ? { cacheGc: config.buildCacheGc } : {}),
  });
  const id = await engineId(dataRoot);
  const system = new System({
    id,
    dataRoot,
    cgroupVersion: cgroups.version,
    host: hostFacts,
    registry: config.registry ?? { insecure: [], mirrors: [] },
    labels: config.labels ?? [],
    security: {
      seccompProfile: config.seccompProfileName ?? 'builtin',
      noNewPrivileges: config.containerDefaults?.noNewPrivileges ?? false,
      cgroupnsPrivate:
        (config.containerDefaults?.cgroupnsMode ?? (cgroups.version === 2 ? 'private' : 'host')) ===
        'private',
    },
    runtimes,
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
    usernsRemap: config.usernsRemap !== undefined,
    ...(config.daemon?.experimental ? { experimental: true } : {}),
    ...(config.daemon?.backingFilesystem ? { backingFilesystem: config.daemon.backingFilesystem } : {}),
  });

  const disk = new DiskUsage({
    images: imageStore,
    removeImage: (ref) => images.remove(ref, { force: false, noPrune: false }),
    listContainers: () => containers.list({ all: true, size: false, filters: {} }),
    removeContainer: (cid) => containers.remove(cid, { force: false, volumes: false, link: false }),
    containerSize: (cid) => snapshots.containerRootfsSize(cid),
    imageUsers: (iid) => containers.imageUsers(iid),
    volumeUsage: () => volumes.usage(),
    buildCache: builder.cache,
    events,
  });

  return {
    system,
    disk,
    containers,
    execs,
    images,
    events,
    builds: {
      build: (context, options, signal) => builder.build(context, options, signal),
      prune: async () => {
        const keys = await builder.cache.prune();
        return { CachesDeleted: keys, SpaceReclaimed: 0 };
      },
    },
    networks,
    volumes,
    containerFs: new ContainerFs({ containers, snapshots, volumes: containerVolumes }),
    stats: new ContainerStats({
      store: containers.store,
      cgroupVersion: cgroups.version,
      cgroupStats: (cid) => cgroups.open(`/${config.cgroupParent}/${cid}`).stats(),
      networkCounters: (pid) => networks.counters(pid),
    }),
    async init() {
      await snapshots.init();
      await volumeStore.init();
      await imageStore.init();
      await networks.init();
      await containers.init();
      await networks.restore();
    },
    async stopAll(timeoutSeconds: number) {
      await containers.stopAllAtShutdown(timeoutSeconds);
    },
    async shutdown() {
      // Containers belong to their shims and keep running (live restore is berth's default);
      // bridges and rules stay for them, the in-process DNS servers and port proxies close.
      await networks.shutdown();
      containers.lifecycle.restarts.stopAll();
      health.stopAll();
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
