/**
 * `docker image prune` (moby daemon/images/image_prune.go): removes dangling images — those with
 * no tag and no child image — or, with `dangling=false` (`-a`), every image no container uses.
 * Filters: dangling, until, label, label!. Images in use are skipped, as are ones whose removal
 * fails (a conflict); the reclaimed space is the size of the layers that went away.
 */
import type { ImagePruneResponse } from '../../api/types/index.ts';
import { type Digest, invalidParameter } from '../../common/index.ts';
import type { ImageRecord, ImageStore } from '../../image/index.ts';
import type { Filters } from '../engine.ts';

export interface PruneDeps {
  store: ImageStore;
  /** The containers that use an image. */
  imageUsers: (imageId: string) => Array<{ id: string; running: boolean }>;
  /** Removes a reference or image as `DELETE /images/{name}` (force off, parents pruned). */
  remove: (ref: string) => Promise<Array<{ Untagged?: string; Deleted?: string }>>;
}

export async function pruneImages(deps: PruneDeps, filters: Filters): Promise<ImagePruneResponse> {
  const allowed = new Set(['dangling', 'until', 'label', 'label!']);
  for (const key of Object.keys(filters)) {
    if (!allowed.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  let danglingOnly = true;
  for (const v of filters.dangling ?? []) {
    const b = parseBool(v);
    if (b === undefined) throw invalidParameter(`invalid filter 'dangling=${v}'`);
    danglingOnly = b;
  }
  const until = (filters.until ?? []).map(parseUntil);
  const matches = labelMatcher(filters);
  const all = deps.store.list();
  // Dangling-only looks at heads (images no other image names as parent): untagged parents go
  // with their child, through the parent pruning of the removal.
  const parents = new Set(all.map((i) => i.parent).filter((p): p is Digest => !!p));
  const candidates = all
    .filter((i) => !danglingOnly || !parents.has(i.id))
    .filter((i) => until.every((t) => Date.parse(i.created) <= t))
    .filter(matches);
  // Chain ID → unpacked size, taken before anything goes.
  const layerSize = new Map<string, number>();
  for (const img of all) {
    for (const c of img.chainIds) layerSize.set(c, deps.store.layer(c)?.size ?? 0);
  }
  const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
  for (const img of candidates) {
    if (!deps.store.get(img.id)) continue; // went with a child pruned before it
    if (deps.imageUsers(img.id).length > 0) continue;
    const refs = [...img.repoTags, ...img.repoDigests];
    if (refs.length > 0) {
      // Tagged images go only with -a; one with digests alone (repo@<digest>) is dangling.
      if (danglingOnly && img.repoTags.length > 0) continue;
      for (const ref of refs) deleted.push(...(await tryRemove(deps, ref)));
    } else {
      deleted.push(...(await tryRemove(deps, img.id)));
    }
  }
  let reclaimed = 0;
  for (const d of deleted) if (d.Deleted) reclaimed += layerSize.get(d.Deleted) ?? 0;
  return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}

/** imageDeleteFailed: a failed removal (a conflict, most often) is skipped, not reported. */
async function tryRemove(
  deps: PruneDeps,
  ref: string,
): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
  try {
    return await deps.remove(ref);
  } catch {
    return [];
  }
}

function parseBool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (['1', 't', 'true'].includes(s)) return true;
  if (['0', 'f', 'false'].includes(s)) return false;
  return undefined;
}

/** `until`: a Unix timestamp (with fraction), an RFC 3339 date, or a Go duration before now. */
export function parseUntil(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const dur = /^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(v);
  if (dur) {
    let ms = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
      ms += Number(m[1]) * units[m[2] as string]!;
    return now - ms;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidParameter(`invalid filter 'until=${v}'`);
  return t;
}

function labelMatcher(filters: Filters): (img: ImageRecord) => boolean {
  const has = (labels: Record<string, string>, v: string) => {
    const i = v.indexOf('=');
    return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
  };
  return (img) => {
    const labels = img.config.config?.Labels ?? {};
    return (
      (filters.label ?? []).every((v) => has(labels, v)) &&
      !(filters['label!'] ?? []).some((v) => has(labels, v))
    );
  };
}
