/**
 * `docker commit` (moby daemon/commit.go, daemon/images/image_commit.go): the container's upper
 * dir becomes one new layer on top of its image's layers, and a new image config is made from
 * the parent image's config, the container's config merged with the caller's (`-c` changes
 * applied), and one more history entry. An unchanged container gives an `empty_layer` history
 * entry and no new diff ID, as Docker does.
 */
import type { Readable } from 'node:stream';
import { type Digest, invalidParameter } from '../../common/index.ts';
import type { ImageRecord, ImageStore } from '../../image/index.ts';
import type { ContainerConfig, ImageConfig } from '../../oci/index.ts';

/** sha256 of an empty tar archive (two zero blocks): Docker's layer.EmptyLayer DiffID. */
export const EMPTY_LAYER_DIFF_ID =
  'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef' as Digest;

/** What the engine knows about the container being committed. */
export interface CommitSource {
  id: string;
  imageId: string;
  /** The container's Config as inspect shows it. */
  config: ContainerConfig;
  running: boolean;
  /** The upper dir as a layer tar. */
  diff: () => Readable;
  /** Freezes the container (when running and pause was asked) and returns the thaw. */
  pause: () => Promise<() => Promise<void>>;
}

export interface CommitOptions {
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  /** The request body's Config, with `changes` already applied. */
  config?: ContainerConfig;
  signal?: AbortSignal;
}

export async function commitContainer(
  store: ImageStore,
  source: CommitSource,
  options: CommitOptions,
): Promise<ImageRecord> {
  const parent = store.get(source.imageId as Digest);
  if (!parent) throw invalidParameter(`the image of container ${source.id} is gone`);
  const thaw = options.pause && source.running ? await source.pause() : async () => {};
  let layer: Awaited<ReturnType<ImageStore['addLayer']>>;
  try {
    layer = await store.addLayer(source.diff(), {
      ...(parent.chainIds.length ? { parent: parent.chainIds.at(-1)! } : {}),
      signal: options.signal,
    });
  } finally {
    await thaw();
  }
  try {
    const created = new Date().toISOString();
    const isEmpty = layer.diffId === EMPTY_LAYER_DIFF_ID;
    const merged = mergeConfig(options.config ?? {}, source.config);
    const base = parent.config;
    const config: ImageConfig = {
      architecture: base.architecture,
      ...(base.variant ? { variant: base.variant } : {}),
      config: merged,
      container: source.id,
      container_config: source.config,
      created,
      ...(options.author ? { author: options.author } : {}),
      ...(options.comment ? { comment: options.comment } : {}),
      docker_version: '',
      history: [
        ...(base.history ?? []),
        {
          created,
          ...(options.author ? { author: options.author } : {}),
          created_by: (source.config.Cmd ?? []).join(' '),
          ...(options.comment ? { comment: options.comment } : {}),
          ...(isEmpty ? { empty_layer: true } : {}),
        },
      ],
      os: base.os,
      rootfs: { type: 'layers', diff_ids: isEmpty ? [...parent.layers] : [...parent.layers, layer.diffId] },
    };
    return await store.createImage(config, {
      ...(options.tag ? { tag: options.tag } : {}),
      parent: parent.id,
    });
  } finally {
    store.releaseLayers([layer.chainId]);
  }
}

/**
 * moby daemon/commit.go merge(userConf, imageConf): what the user did not set comes from the
 * container's config; ports, volumes and labels are unions, Env is merged by variable name.
 */
export function mergeConfig(user: ContainerConfig, container: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = { ...container, ...stripEmpty(user) };
  if (!user.User) out.User = container.User;
  out.ExposedPorts = { ...(container.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  if (Object.keys(out.ExposedPorts).length === 0) out.ExposedPorts = container.ExposedPorts ?? null;
  const env = new Map<string, string>();
  for (const e of [...(container.Env ?? []), ...(user.Env ?? [])]) env.set(e.split('=')[0]!, e);
  out.Env = container.Env || user.Env ? [...env.values()] : null;
  if (!user.Entrypoint?.length) {
    if (!user.Cmd?.length) {
      out.Cmd = container.Cmd ?? null;
      out.Entrypoint = container.Entrypoint ?? null;
    } else out.Entrypoint = container.Entrypoint ?? null;
  }
  out.Labels =
    container.Labels || user.Labels ? { ...(container.Labels ?? {}), ...(user.Labels ?? {}) } : null;
  out.Volumes =
    container.Volumes || user.Volumes ? { ...(container.Volumes ?? {}), ...(user.Volumes ?? {}) } : null;
  if (!user.WorkingDir) out.WorkingDir = container.WorkingDir ?? '';
  return out;
}

function stripEmpty(c: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as ContainerConfig;
}
