/**
 * Images a build starts from (FROM, COPY --from=<image>) and images it reuses steps of
 * (`--cache-from`), as moby's classic builder gets them:
 * - daemon/images/image_builder.go GetImageAndReleasableLayer: a stage is local only; an image
 *   is taken from the store, or pulled when missing; with `--pull` it is always pulled first;
 *   the pull's progress goes to the build output;
 * - image/cache/cache.go ImageCache: `--cache-from` images are looked up locally (a missing one
 *   is skipped with a warning in the daemon log); a step is satisfied by a cache-from image whose
 *   history starts with the current image's history and layers and whose next history entry was
 *   created by the same command. Such a step yields the cache-from image itself when that entry
 *   is its last, else an image restored from the parent plus that entry (and its layer, if it
 *   has one). Once one cache-from image matched, only it is considered. With `--cache-from`, a
 *   local cache hit only counts when it is an ancestor of a cache-from image.
 */
import type { JsonMessage } from '../../api/types/index.ts';
import { type Digest, type Logger, isBerthError } from '../../common/index.ts';
import { type ImageRecord, type ImageStore, parseNormalizedNamed } from '../../image/index.ts';
import type { ContainerConfig, ImageConfig } from '../../oci/index.ts';
import type { RegistryAuth } from '../engine.ts';

export type PullFn = (
  ref: string,
  auth: RegistryAuth | undefined,
  signal: AbortSignal,
) => AsyncIterable<JsonMessage>;

export interface BaseImageDeps {
  images: ImageStore;
  pull?: PullFn;
}

/** Docker's ResolveAuthConfig: the credentials of `X-Registry-Config` for the image's registry. */
export function authFor(ref: string, configs: Record<string, RegistryAuth>): RegistryAuth | undefined {
  let domain: string;
  try {
    domain = parseNormalizedNamed(ref).domain;
  } catch {
    return undefined;
  }
  const host = (k: string) => {
    const h = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
  };
  for (const [k, v] of Object.entries(configs)) if (host(k) === domain) return v;
  return undefined;
}

/**
 * The image `ref` names, pulled first when `pull` is 'always', or when it is missing and `pull`
 * is 'missing'. Pull progress lines (not the byte counters) go to `out`.
 */
export async function getBaseImage(
  deps: BaseImageDeps,
  ref: string,
  options: {
    pull: 'always' | 'missing' | 'never';
    auth?: Record<string, RegistryAuth>;
    signal: AbortSignal;
    out: (text: string) => void;
  },
): Promise<ImageRecord> {
  if (options.pull !== 'always' || !deps.pull) {
    try {
      return deps.images.resolve(ref);
    } catch (err) {
      if (options.pull === 'never' || !deps.pull || !isBerthError(err, 'NotFound')) throw err;
    }
  }
  for await (const m of deps.pull(ref, authFor(ref, options.auth ?? {}), options.signal)) {
    if (m.errorDetail || m.error) throw new Error(m.errorDetail?.message ?? m.error);
    if (m.status && !m.progressDetail?.total && m.status !== 'Downloading' && m.status !== 'Extracting')
      options.out(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  }
  const name = /[:@][^/]*$/.test(ref) ? ref : `${ref}:latest`;
  return deps.images.resolve(name);
}

/** `--cache-from` images and the step matching of moby's ImageCache. */
export class CacheFrom {
  readonly #images: ImageStore;
  #sources: ImageRecord[];

  constructor(images: ImageStore, refs: string[], log: Logger) {
    this.#images = images;
    this.#sources = [];
    for (const ref of refs) {
      try {
        this.#sources.push(images.resolve(ref));
      } catch (err) {
        log.warn('could not look up cache-from image, skipping', { ref, err });
      }
    }
  }

  get active(): boolean {
    return this.#sources.length > 0;
  }

  /** Whether a local cache hit may be used: it is an ancestor of a cache-from image. */
  allowsLocal(hit: Digest): boolean {
    return this.#sources.some((s) => this.#isAncestor(s.id, hit));
  }

  #isAncestor(id: Digest, ancestor: Digest): boolean {
    let cur = this.#images.get(id)?.parent;
    for (let i = 0; cur !== undefined && i < 10_000; i++) {
      if (cur === ancestor) return true;
      cur = this.#images.get(cur)?.parent;
    }
    return false;
  }

  /**
   * The cache-from image (or restored image) for the step on `parent` whose history entry is
   * `createdBy`; `restore` makes the image from the given config when the entry is not the last.
   */
  async match(
    parent: ImageRecord | undefined,
    createdBy: string,
    restore: (config: ImageConfig) => Promise<ImageRecord>,
    stepConfig: ContainerConfig,
  ): Promise<Digest | undefined> {
    const parentConfig = parent?.config;
    const n = parentConfig?.history?.length ?? 0;
    for (const target of this.#sources) {
      const t = target.config;
      const history = t.history ?? [];
      if (!isValidParent(t, parentConfig)) continue;
      const entry = history[n];
      if (!entry || !sameCommand(entry.created_by, createdBy)) continue;
      if (history.length - 1 === n) return target.id;
      const diffIds = [...(parentConfig?.rootfs.diff_ids ?? [])];
      if (!entry.empty_layer) {
        const layerIndex = history.slice(0, n).filter((h) => !h.empty_layer).length;
        const layer = t.rootfs.diff_ids[layerIndex];
        if (layer === undefined) continue;
        diffIds.push(layer);
      }
      const config: ImageConfig = {
        architecture: t.architecture,
        os: t.os,
        ...(t.author ? { author: t.author } : {}),
        config: stepConfig,
        created: entry.created ?? t.created ?? new Date(0).toISOString(),
        docker_version: t.docker_version ?? '',
        history: [...(parentConfig?.history ?? []), entry],
        rootfs: { type: 'layers', diff_ids: diffIds },
      } as ImageConfig;
      const rec = await restore(config);
      this.#sources = [target];
      return rec.id;
    }
    return undefined;
  }
}

/**
 * moby isValidConfig compares the step's joined Cmd with the history entry exactly; the only
 * latitude here is the spacing after `#(nop)`, which berth's history wrote with two spaces for
 * every instruction before it took moby's wording (one space for COPY/ADD/WORKDIR).
 */
function sameCommand(historyEntry: string | undefined, cmd: string): boolean {
  const norm = (s: string) => s.replace(/ #\(nop\) {2,}/, ' #(nop) ');
  return historyEntry !== undefined && norm(historyEntry) === norm(cmd);
}

/** moby isValidParent: the parent's history and layers are a prefix of the image's. */
function isValidParent(img: ImageConfig, parent: ImageConfig | undefined): boolean {
  const h = img.history ?? [];
  if (h.length === 0) return false;
  const ph = parent?.history ?? [];
  if (!parent || (ph.length === 0 && parent.rootfs.diff_ids.length === 0)) return true;
  if (ph.length >= h.length) return false;
  if (parent.rootfs.diff_ids.length > img.rootfs.diff_ids.length) return false;
  for (let i = 0; i < ph.length; i++) if (!sameHistory(ph[i]!, h[i]!)) return false;
  return parent.rootfs.diff_ids.every((d, i) => d === img.rootfs.diff_ids[i]);
}

function sameHistory(a: object, b: object): boolean {
  const norm = (x: object) =>
    JSON.stringify(
      Object.entries(x)
        .filter(([, v]) => v !== undefined && v !== '' && v !== false)
        .sort(([k1], [k2]) => (k1 < k2 ? -1 : 1)),
    );
  return norm(a) === norm(b);
}
