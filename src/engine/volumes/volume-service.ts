/**
 * The /volumes verbs (moby api/server/router/volume, daemon/volume service): create, list with
 * filters, inspect, remove with the in-use check, prune.
 */
import type {
  Volume,
  VolumeCreateRequest,
  VolumeListResponse,
  VolumePruneResponse,
} from '../../api/types/index.ts';
import { conflict, invalidParameter, isBerthError } from '../../common/index.ts';
import { ANONYMOUS_LABEL, type VolumeRecord, type VolumeStore } from '../../volume/index.ts';
import type { Filters, VolumeService } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { dirSize } from '../../platform/index.ts';

export interface VolumesDeps {
  store: VolumeStore;
  events: EventBus;
  /** Ids of the containers (any state) whose mount points name the volume. */
  users: (name: string) => string[];
}

const LIST_FILTERS = new Set(['dangling', 'name', 'label', 'driver']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

export class Volumes implements VolumeService {
  readonly #d: VolumesDeps;

  constructor(deps: VolumesDeps) {
    this.#d = deps;
  }

  async create(body: VolumeCreateRequest): Promise<Volume> {
    const rec = await this.#d.store.create({
      ...(body.Name ? { name: body.Name } : {}),
      ...(body.Driver ? { driver: body.Driver } : {}),
      labels: body.Labels ?? {},
      options: body.DriverOpts ?? {},
    });
    this.#d.events.publish('volume', 'create', rec.name, { driver: rec.driver });
    return this.view(rec);
  }

  async list(filters: Filters): Promise<VolumeListResponse> {
    for (const key of Object.keys(filters)) {
      if (!LIST_FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    const dangling = parseBoolFilter(filters, 'dangling');
    const volumes = this.#d.store
      .list()
      .filter((v) => {
        if (dangling !== undefined && (this.#d.users(v.name).length === 0) !== dangling) return false;
        if (filters.name?.length && !filters.name.some((n) => v.name.includes(n))) return false;
        if (filters.driver?.length && !filters.driver.includes(v.driver)) return false;
        if (filters.label?.length && !filters.label.every((l) => matchLabel(v.labels, l))) return false;
        return true;
      })
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((v) => this.view(v));
    return { Volumes: volumes, Warnings: null };
  }

  async inspect(name: string): Promise<Volume> {
    return this.view(this.#d.store.get(name));
  }

  /**
   * Docker refuses to remove a volume any container references (`volume is in use - [ids]`,
   * 409), with or without force; force only makes a missing volume not an error.
   */
  async remove(name: string, options: { force: boolean }): Promise<void> {
    if (!this.#d.store.find(name)) {
      if (options.force) return;
      this.#d.store.get(name);
    }
    const users = this.#d.users(name);
    if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.#d.store.remove(name);
    this.#d.events.publish('volume', 'destroy', name, { driver: 'local' });
  }

  /**
   * Removes unused volumes: anonymous ones only, or all with the `all` filter. API < 1.42 always
   * pruned every unused volume, so moby adds `all=true` for those clients (the handler does).
   */
  async prune(filters: Filters): Promise<VolumePruneResponse> {
    for (const key of Object.keys(filters)) {
      if (!PRUNE_FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
    }
    const all = parseBoolFilter(filters, 'all') ?? false;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.#d.store.list()) {
      if (this.#d.users(v.name).length > 0) continue;
      if (!all && !(ANONYMOUS_LABEL in v.labels)) continue;
      if (filters.label?.length && !filters.label.every((l) => matchLabel(v.labels, l))) continue;
      if (filters['label!']?.length && filters['label!'].some((l) => matchLabel(v.labels, l))) continue;
      const size = await dirSize(this.#d.store.dataPath(v.name));
      try {
        await this.#d.store.remove(v.name);
      } catch (err) {
        if (isBerthError(err, 'Conflict')) continue;
        throw err;
      }
      this.#d.events.publish('volume', 'destroy', v.name, { driver: v.driver });
      deleted.push(v.name);
      reclaimed += size;
    }
    this.#d.events.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** /system/df: every volume with its size and the number of containers using it. */
  async usage(): Promise<Volume[]> {
    const out: Volume[] = [];
    for (const v of this.#d.store.list()) {
      out.push({
        ...this.view(v),
        UsageData: {
          Size: await dirSize(this.#d.store.dataPath(v.name)),
          RefCount: this.#d.users(v.name).length,
        },
      });
    }
    return out;
  }

  view(v: VolumeRecord): Volume {
    return {
      CreatedAt: v.createdAt,
      Driver: v.driver,
      Labels: v.labels,
      Mountpoint: this.#d.store.dataPath(v.name),
      Name: v.name,
      Options: v.options,
      Scope: 'local',
    };
  }
}

function parseBoolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters[key];
  if (!values?.length) return undefined;
  const v = values[values.length - 1] ?? '';
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidParameter(`invalid filter '${key}=${v}'`);
}

/** `key` (present) or `key=value`. */
function matchLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
