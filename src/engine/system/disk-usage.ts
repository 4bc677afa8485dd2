/**
 * Disk usage and pruning across domains (moby daemon/disk_usage.go, daemon/prune.go,
 * daemon/images/image_prune.go): GET /system/df, POST /containers/prune and /images/prune.
 * The volume and network prunes live with their services; this adds the ones that need the
 * image store and the containers together.
 */
import type {
  BuildCache as BuildCacheItem,
  ContainerPruneResponse,
  ContainerSummary,
  ImagePruneResponse,
  ImageSummary,
  SystemDataUsageResponse,
  Volume,
} from '../../api/types/index.ts';
import { type Digest, invalidParameter, isBerthError } from '../../common/index.ts';
import type { ImageRecord, ImageStore } from '../../image/index.ts';
import type { BuildCache } from '../build/index.ts';
import type { DiskService, Filters } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { labelsMatch, untilTime } from './prune-filters.ts';

export interface DiskUsageDeps {
  images: ImageStore;
  /** Image removal with its events (engine/images): Docker's prune goes through ImageDelete. */
  removeImage: (ref: string) => Promise<Array<{ Untagged?: string; Deleted?: string }>>;
  /** Every container as GET /containers/json?all=1 lists it. */
  listContainers: () => Promise<ContainerSummary[]>;
  /** Removes a stopped container (no force, no volumes), with its events. */
  removeContainer: (id: string) => Promise<void>;
  /** Bytes a container wrote (its upper dir). */
  containerSize: (id: string) => Promise<number>;
  /** The containers (any state) created from an image. */
  imageUsers: (imageId: string) => Array<{ id: string; running: boolean }>;
  volumeUsage: () => Promise<Volume[]>;
  buildCache?: BuildCache;
  events: EventBus;
}

const CONTAINER_PRUNE_FILTERS = new Set(['until', 'label', 'label!']);
const IMAGE_PRUNE_FILTERS = new Set(['dangling', 'until', 'label', 'label!']);
const DF_TYPES = new Set(['container', 'image', 'volume', 'build-cache']);

export class DiskUsage implements DiskService {
  readonly #d: DiskUsageDeps;

  constructor(deps: DiskUsageDeps) {
    this.#d = deps;
  }

  /** GET /system/df; `types` (API 1.42) limits the answer to some kinds, the others are null. */
  async df(types: string[] = []): Promise<SystemDataUsageResponse> {
    for (const t of types) if (!DF_TYPES.has(t)) throw invalidParameter(`unknown object type: ${t}`);
    const want = (t: string) => types.length === 0 || types.includes(t);
    const out: SystemDataUsageResponse = {
      LayersSize: 0,
      Images: [],
      Containers: [],
      Volumes: [],
      BuildCache: [],
    };
    if (want('image')) {
      const { images, layersSize } = this.#imageUsage();
      out.Images = images;
      out.LayersSize = layersSize;
    } else (out as unknown as Record<string, unknown>).Images = null;
    if (want('container')) out.Containers = await this.#containerUsage();
    else (out as unknown as Record<string, unknown>).Containers = null;
    if (want('volume')) out.Volumes = await this.#d.volumeUsage();
    else (out as unknown as Record<string, unknown>).Volumes = null;
    if (want('build-cache')) out.BuildCache = await this.#buildCacheUsage();
    else (out as unknown as Record<string, unknown>).BuildCache = null;
    return out;
  }

  #layerSize(chainId: Digest): number {
    return this.#d.images.layer(chainId)?.size ?? 0;
  }

  /** Every image with SharedSize (bytes of layers other images use too) and its container count. */
  #imageUsage(): { images: ImageSummary[]; layersSize: number } {
    const all = this.#d.images.list();
    const uses = new Map<Digest, number>();
    for (const img of all) for (const c of new Set(img.chainIds)) uses.set(c, (uses.get(c) ?? 0) + 1);
    let layersSize = 0;
    for (const c of uses.keys()) layersSize += this.#layerSize(c);
    const images = all
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created))
      .map((img) => {
        let shared = 0;
        for (const c of new Set(img.chainIds)) if ((uses.get(c) ?? 0) > 1) shared += this.#layerSize(c);
        return {
          Id: img.id,
          ParentId: img.parent ?? '',
          RepoTags: img.repoTags,
          RepoDigests: img.repoDigests,
          Created: Math.floor(Date.parse(img.config.created ?? img.created) / 1000),
          Size: img.size,
          SharedSize: shared,
          VirtualSize: img.size,
          Labels: img.config.config?.Labels ?? {},
          Containers: this.#d.imageUsers(img.id).length,
        };
      });
    return { images, layersSize };
  }

  async #containerUsage(): Promise<ContainerSummary[]> {
    const list = await this.#d.listContainers();
    const out: ContainerSummary[] = [];
    for (const c of list) {
      const rw = await this.#d.containerSize(c.Id);
      const image = this.#d.images.get(c.ImageID as Digest);
      out.push({ ...c, SizeRw: rw, SizeRootFs: rw + (image?.size ?? 0) });
    }
    return out;
  }

  /**
   * The classic builder's step cache: each record names an image, whose layers images already
   * count, so a record holds no bytes of its own (Size 0, Shared).
   */
  async #buildCacheUsage(): Promise<BuildCacheItem[]> {
    const recs = (await this.#d.buildCache?.list()) ?? [];
    return recs.map((r) => ({
      ID: r.key,
      Type: 'regular',
      Description: `classic build step cached as ${r.imageId}`,
      InUse: false,
      Shared: true,
      Size: 0,
      CreatedAt: r.created.toISOString(),
      LastUsedAt: r.lastUsed.toISOString(),
      UsageCount: 0,
    }));
  }

  /** POST /containers/prune: every container that is not running (nor paused/restarting). */
  async pruneContainers(filters: Filters): Promise<ContainerPruneResponse> {
    for (const key of Object.keys(filters)) {
      if (!CONTAINER_PRUNE_FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    const until = untilOf(filters);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of await this.#d.listContainers()) {
      if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') continue;
      if (until !== undefined && c.Created * 1000 > until) continue;
      if (!labelsMatch(c.Labels ?? {}, filters)) continue;
      const size = await this.#d.containerSize(c.Id).catch(() => 0);
      try {
        await this.#d.removeContainer(c.Id);
      } catch (err) {
        if (isBerthError(err, 'NotFound') || isBerthError(err, 'Conflict')) continue;
        throw err;
      }
      deleted.push(c.Id);
      reclaimed += size;
    }
    this.#d.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /**
   * POST /images/prune: dangling images only (no tag), or with `dangling=false` every image no
   * container uses. Untagged images with children are kept (they go with their last child).
   * In-use images are skipped, as Docker skips the conflicts of ImageDelete.
   */
  async pruneImages(filters: Filters): Promise<ImagePruneResponse> {
    for (const key of Object.keys(filters)) {
      if (!IMAGE_PRUNE_FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    const dangling = filters.dangling?.at(-1);
    let danglingOnly = true;
    if (dangling !== undefined) {
      if (['false', '0'].includes(dangling.toLowerCase())) danglingOnly = false;
      else if (!['true', '1'].includes(dangling.toLowerCase())) {
        throw invalidParameter(`invalid filter 'dangling=${dangling}'`);
      }
    }
    const until = untilOf(filters);
    const store = this.#d.images;
    const layerSizes = new Map<Digest, number>();
    for (const img of store.list()) for (const c of img.chainIds) layerSizes.set(c, this.#layerSize(c));

    const all = store.list();
    const hasChildren = (id: Digest) => all.some((i) => i.parent === id);
    const refsOf = (img: ImageRecord) => img.repoTags.length + img.repoDigests.length;
    const top = all.filter((img) => {
      if (refsOf(img) === 0 && hasChildren(img.id)) return false;
      if (until !== undefined && Date.parse(img.created) > until) return false;
      if (!labelsMatch(img.config.config?.Labels ?? {}, filters)) return false;
      if (this.#d.imageUsers(img.id).length > 0) return false;
      return true;
    });
    const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
    const tryRemove = async (ref: string) => {
      try {
        deleted.push(...(await this.#d.removeImage(ref)));
      } catch (err) {
        if (isBerthError(err, 'NotFound') || isBerthError(err, 'Conflict')) return;
        throw err;
      }
    };
    for (const img of top) {
      if (!store.get(img.id)) continue;
      if (refsOf(img) > 0) {
        // A tagged image is kept unless -a; one with only digest references is dangling.
        if (danglingOnly && img.repoTags.length > 0) continue;
        for (const ref of [...img.repoTags, ...img.repoDigests]) await tryRemove(ref);
      } else {
        await tryRemove(img.id);
      }
    }
    let reclaimed = 0;
    for (const [chainId, size] of layerSizes) if (!store.layer(chainId)) reclaimed += size;
    this.#d.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** POST /build/prune with filters: `until` keeps newer records; label filters (records have no labels). */
  async pruneBuildCache(
    filters: Filters,
  ): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    const allowed = new Set(['until', 'label', 'label!']);
    for (const key of Object.keys(filters)) {
      if (!allowed.has(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    const until = untilOf(filters);
    const dropped =
      (await this.#d.buildCache?.prune(
        (r) => (until !== undefined && r.created.getTime() > until) || !labelsMatch({}, filters),
      )) ?? [];
    return { CachesDeleted: dropped.length ? dropped : null, SpaceReclaimed: 0 };
  }
}

function untilOf(filters: Filters): number | undefined {
  const values = filters.until ?? [];
  if (values.length > 1) throw invalidParameter('more than one until filter specified');
  return values[0] === undefined ? undefined : untilTime(values[0]);
}
