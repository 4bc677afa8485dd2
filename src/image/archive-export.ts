/**
 * `docker save`: images as the archive Docker 25+ writes (reference/docker-archive-format.md §1):
 * an OCI image layout (oci-layout, index.json, blobs/sha256/…) plus Docker's manifest.json and
 * repositories, with uncompressed layer tars named by their diff IDs, readable by every Docker
 * version and by skopeo (`docker-archive:` and `oci-archive:`).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import {
  type Digest,
  DigestingStream,
  digestHex,
  packTar,
  sha256,
  type TarWriteEntry,
} from '../common/index.ts';
import { type Descriptor, type ImageIndex, type ImageManifest, MediaType } from '../oci/index.ts';
import type { ImageRecord, ImageStore } from './image-store.ts';
import {
  familiarName,
  familiarString,
  isNamedReference,
  parseAnyReference,
  referenceString,
  tagNameOnly,
} from './reference.ts';

export interface SaveOptions {
  /** Where layers that have no kept tar are packed before they are written (removed after). */
  tmpDir: string;
  signal?: AbortSignal;
}

interface SavedImage {
  image: ImageRecord;
  /** Normalized `name:tag` references to record (none when saved by ID). */
  tags: Array<{ full: string; familiar: string; repo: string; tag: string }>;
}

/** Which images and tags `names` select, in order, each image once (Docker's tarexport parseNames). */
export function selectImages(store: ImageStore, names: string[]): SavedImage[] {
  const out = new Map<string, SavedImage>();
  for (const name of names) {
    const image = store.resolve(name);
    const entry = out.get(image.id) ?? { image, tags: [] };
    out.set(image.id, entry);
    let ref: ReturnType<typeof parseAnyReference> | undefined;
    try {
      ref = parseAnyReference(name);
    } catch {
      ref = undefined;
    }
    const isId = image.id.startsWith(name) || digestHex(image.id).startsWith(name);
    if (!ref || !isNamedReference(ref) || isId) continue;
    if (ref.digest !== undefined && ref.tag === undefined) continue;
    const named = tagNameOnly({ ...ref, digest: undefined });
    const full = referenceString(named);
    if (!entry.tags.some((t) => t.full === full)) {
      entry.tags.push({
        full,
        familiar: familiarString(named),
        repo: familiarName(named),
        tag: named.tag ?? 'latest',
      });
    }
  }
  return [...out.values()];
}

/**
 * The archive as a stream. Layers with a kept tar (digest = diff ID) are copied from the content
 * store; others are packed from their snapshot into `tmpDir` first (their digest may then differ
 * from the diff ID, and they are named by the digest they really have, as Docker does).
 */
export function saveImages(store: ImageStore, names: string[], options: SaveOptions): Readable {
  const selected = selectImages(store, names);
  return packTar(archiveEntries(store, selected, options), { signal: options.signal });
}

async function* archiveEntries(
  store: ImageStore,
  selected: SavedImage[],
  options: SaveOptions,
): AsyncGenerator<TarWriteEntry> {
  const spool = await mkdtemp(join(options.tmpDir, 'save-'));
  try {
    const mtime = Math.floor(Date.parse(selected[0]?.image.created ?? '') / 1000) || 0;
    const dir = (name: string): TarWriteEntry => ({
      header: { name, type: 'directory', mode: 0o755, mtime },
    });
    const file = (name: string, body: string | Buffer): TarWriteEntry => ({
      header: { name, type: 'file', mode: 0o644, mtime, size: Buffer.byteLength(body) },
      body,
    });
    yield dir('blobs/');
    yield dir('blobs/sha256/');
    const written = new Set<string>();
    const manifestJson: Array<Record<string, unknown>> = [];
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    const repositories: Record<string, Record<string, string>> = {};

    for (const { image, tags } of selected) {
      const configBytes = await store.content.readBytes(image.id);
      if (!written.has(image.id)) {
        written.add(image.id);
        yield file(`blobs/sha256/${digestHex(image.id)}`, configBytes);
      }
      const layerDescs: Descriptor[] = [];
      for (const chainId of image.chainIds) {
        const layer = store.layer(chainId);
        if (!layer) throw new Error(`layer ${chainId} vanished during save`);
        let digest: Digest;
        let size: number;
        let body: () => Readable;
        if (layer.blob?.digest === layer.diffId && (await store.content.has(layer.diffId))) {
          digest = layer.diffId;
          size = (await store.content.info(layer.diffId)).size;
          body = () => createReadStream(store.content.path(digest));
        } else {
          const path = join(spool, digestHex(chainId));
          const digester = new DigestingStream();
          await pipeline(await store.layerTar(chainId, options), digester, createWriteStream(path), {
            signal: options.signal,
          });
          digest = digester.digest;
          size = digester.size;
          body = () => createReadStream(path);
        }
        layerDescs.push({ mediaType: MediaType.ociLayer, digest, size });
        if (written.has(digest)) continue;
        written.add(digest);
        yield {
          header: { name: `blobs/sha256/${digestHex(digest)}`, type: 'file', mode: 0o644, mtime, size },
          body: body(),
        };
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: image.id, size: configBytes.length },
        layers: layerDescs,
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      const manifestDesc: Descriptor = {
        mediaType: MediaType.ociManifest,
        digest: sha256(manifestBytes),
        size: manifestBytes.length,
      };
      if (!written.has(manifestDesc.digest)) {
        written.add(manifestDesc.digest);
        yield file(`blobs/sha256/${digestHex(manifestDesc.digest as Digest)}`, manifestBytes);
      }
      if (tags.length === 0) index.manifests.push(manifestDesc);
      for (const t of tags) {
        index.manifests.push({
          ...manifestDesc,
          annotations: { 'io.containerd.image.name': t.full, 'org.opencontainers.image.ref.name': t.tag },
        });
        repositories[t.repo] = {
          ...(repositories[t.repo] ?? {}),
          [t.tag]: digestHex(image.layers.at(-1) ?? image.id),
        };
      }
      manifestJson.push({
        Config: `blobs/sha256/${digestHex(image.id)}`,
        RepoTags: tags.length ? tags.map((t) => t.familiar) : null,
        Layers: layerDescs.map((d) => `blobs/sha256/${digestHex(d.digest as Digest)}`),
      });
    }
    yield file('index.json', JSON.stringify(index));
    yield file('manifest.json', JSON.stringify(manifestJson));
    yield file('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (Object.keys(repositories).length > 0) yield file('repositories', JSON.stringify(repositories));
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}
