import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipelineStreams, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type BerthError,
  conflict,
  type Digest,
  DigestingStream,
  digestHex,
  invalidParameter,
  isDigest,
  type Logger,
  notFound,
  sha256,
  shortId,
} from '../common/index.ts';
import {
  type ContainerConfig,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  MediaType,
} from '../oci/index.ts';
import { dirSize, extractTar, packDir, writeJsonAtomic } from '../platform/index.ts';
import { BlobSources } from './blob-sources.ts';
import { ContentStore } from './content-store.ts';
import { fanOut } from './fan-out.ts';
import { readJsonFile } from './json-file.ts';
import {
  familiarString,
  isNamedReference,
  type NamedReference,
  parseAnyReference,
  parseNormalizedNamed,
  referenceName,
  tagNameOnly,
} from './reference.ts';
import { ReferenceStore } from './reference-store.ts';
import type { SnapshotStore } from './snapshots.ts';

/** An image as the engine sees it. */
export interface ImageRecord {
  /** `sha256:<hex>` of the exact config blob bytes, as Docker. */
  id: Digest;
  config: ImageConfig;
  /** Familiar `name:tag` references (`busybox:latest`, `localhost:5000/a:v1`). */
  repoTags: string[];
  /** Familiar `name@sha256:…` references (from pulls and pushes). */
  repoDigests: string[];
  /** The image's creation time: config.created, or when the local record was made. */
  created: string;
  /** Bytes of the unpacked layers. */
  size: number;
  /** rootfs.diff_ids, bottom layer first. */
  layers: Digest[];
  /** Chain IDs of the layers (the snapshot keys), bottom layer first. */
  chainIds: Digest[];
  /** The manifest this image was created from or generated for it. */
  manifest: { digest: Digest; mediaType: string; size: number };
  /** The local parent image (classic builds and commits), if any. */
  parent?: Digest;
  /** When a tag last moved to this image (Docker's Metadata.LastTagTime). */
  lastTagTime?: string;
}

/** A layer known to the store: its snapshot is committed under `chainId`. */
export interface LayerRecord {
  chainId: Digest;
  diffId: Digest;
  parent?: Digest;
  /** Bytes of the unpacked files. */
  size: number;
  /** The layer blob in the content store, when one was kept (local imports keep the tar). */
  blob?: Descriptor;
}

/** A container that uses an image, as the engine reports it for `remove`. */
export interface ContainerUse {
  id: string;
  running: boolean;
}

/** Unpacks a layer tar into `dir` (an empty directory); resolves with the bytes written. */
export type LayerUnpacker = (
  tar: Readable,
  dir: string,
  options: { whiteouts: 'overlay' | 'none'; signal?: AbortSignal },
) => Promise<{ size: number }>;

export interface ImageStoreOptions {
  /** `<dataRoot>/image`. */
  root: string;
  snapshots: SnapshotStore;
  log: Logger;
  /** The tar extractor; default: platform's extractTar (same owners when running as root). */
  unpack?: LayerUnpacker;
  /** 'overlay' (default) stores whiteouts as overlayfs expects; 'none' is for tests without root. */
  whiteouts?: 'overlay' | 'none';
}

export interface ImportOptions {
  /** `repo:tag` or `repo` (tag latest). */
  tag?: string;
  /** Container config from `--change`, already applied by the caller. */
  config?: ContainerConfig;
  /** The history comment; Docker's default is `Imported from <source>`. */
  message?: string;
  /** Where the tar came from, for the default message (`-` is stdin, or a URL). */
  source?: string;
  platform?: { os: string; architecture: string; variant?: string };
  signal?: AbortSignal;
}

interface ImageMeta {
  id: Digest;
  manifest: { digest: Digest; mediaType: string; size: number };
  /** Every blob this image references: config, manifest, layer blobs. */
  blobs: Digest[];
  parent?: Digest;
  recordedAt: string;
  lastTagTime?: string;
}

interface ImageEntry {
  meta: ImageMeta;
  config: ImageConfig;
  chainIds: Digest[];
}

/** `chainID(L0) = diffID(L0)`, `chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))` (OCI config.md). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? d : sha256(`${parent} ${d}`));
  }
  return out;
}

/** The production unpacker: the safe extractor, keeping owners as Docker does when root. */
const extractLayer: LayerUnpacker = (tar, dir, options) =>
  extractTar(tar, dir, {
    whiteouts: options.whiteouts,
    sameOwner: process.getuid?.() === 0,
    noOverwriteDirNonDir: false,
    signal: options.signal,
  });

function hostArchitecture(): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    s390x: 's390x',
  };
  return map[process.arch] ?? process.arch;
}

/**
 * Local images: config and manifest blobs in the content store, layer snapshots in the
 * SnapshotStore, and the records and references that tie them together.
 *
 * Layout under `root` (`<dataRoot>/image`):
 *
 *   blobs/sha256/<hex>     configs, manifests, layer tars (uncompressed for local imports:
 *                          media type application/vnd.docker.image.rootfs.diff.tar)
 *   ingest/                blobs being written
 *   images/<id hex>.json   ImageMeta: manifest, referenced blobs, parent, times
 *   layers/<chain hex>.json LayerRecord
 *   repositories.json      references, in Docker's format
 *   distribution/blob-sources.json  the repositories each blob came from / went to (BlobSources)
 *
 * Every file is written atomically; init() rebuilds the in-memory indexes from them and removes
 * what a crash left half-done (temp files, layers no image or container uses).
 *
 * Lifecycle: construct, `init()`, then use. Images are made by `importRootfs` (docker import),
 * or by `addLayer` (once per layer, bottom first) followed by `createImage` (build, commit,
 * pull, load). addLayer protects the layer (and its parents) from garbage collection until the
 * caller calls `releaseLayers` for it, in a `finally` after createImage (or after a failure);
 * a crash releases everything (init collects unused layers).
 */
export class ImageStore {
  readonly #root: string;
  readonly #snapshots: SnapshotStore;
  readonly #log: Logger;
  readonly #unpack: LayerUnpacker;
  readonly #whiteouts: 'overlay' | 'none';
  readonly #content: ContentStore;
  readonly #images = new Map<Digest, ImageEntry>();
  readonly #layers = new Map<Digest, LayerRecord>();
  readonly #refs: ReferenceStore;
  readonly #blobSources: BlobSources;
  /** Layers added but not yet claimed by an image (reference counts). */
  readonly #pending = new Map<Digest, number>();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: ImageStoreOptions) {
    this.#root = options.root;
    this.#snapshots = options.snapshots;
    this.#log = options.log;
    this.#unpack = options.unpack ?? extractLayer;
    this.#whiteouts = options.whiteouts ?? 'overlay';
    this.#content = new ContentStore({ root: options.root });
    this.#refs = new ReferenceStore({ root: options.root, log: options.log });
    this.#blobSources = new BlobSources({ root: options.root, log: options.log });
    this.#snapshots.onContainerRemoved(() => this.gc());
  }

  /** The blob store (the registry client and server read and write blobs through it). */
  get content(): ContentStore {
    return this.#content;
  }

  /** The repositories each blob was pulled from or pushed to (cross-repository mounts). */
  get blobSources(): BlobSources {
    return this.#blobSources;
  }

  get snapshots(): SnapshotStore {
    return this.#snapshots;
  }

  /** Loads the indexes, initialises the content and snapshot stores, and collects garbage. */
  async init(): Promise<void> {
    await mkdir(join(this.#root, 'images'), { recursive: true });
    await mkdir(join(this.#root, 'layers'), { recursive: true });
    await this.#content.init();
    await this.#snapshots.init();
    this.#images.clear();
    this.#layers.clear();

    for (const name of await readdir(join(this.#root, 'layers'))) {
      if (!name.endsWith('.json')) continue;
      const rec = await readJsonFile<LayerRecord>(join(this.#root, 'layers', name), this.#log);
      if (rec && (await this.#snapshots.hasLayer(rec.chainId))) this.#layers.set(rec.chainId, rec);
    }
    for (const name of await readdir(join(this.#root, 'images'))) {
      if (!name.endsWith('.json')) continue;
      const meta = await readJsonFile<ImageMeta>(join(this.#root, 'images', name), this.#log);
      if (!meta) continue;
      try {
        const config = JSON.parse((await this.#content.readBytes(meta.id)).toString('utf8')) as ImageConfig;
        const chain = chainIds(config.rootfs.diff_ids as Digest[]);
        const missing = chain.find((c) => !this.#layers.has(c));
        if (missing) {
          this.#log.warn('image has a missing layer; dropped', { imageId: meta.id, chainId: missing });
          continue;
        }
        this.#images.set(meta.id, { meta, config, chainIds: chain });
      } catch (err) {
        this.#log.warn('image record unreadable; dropped', { imageId: meta.id, err });
      }
    }
    await this.#refs.load((id) => this.#images.has(id));
    await this.#blobSources.load();
    await this.gc();
  }

  // ---- making images ----

  /**
   * `docker import`: stores the tar as one layer (the blob is the tar itself, so its digest is
   * the diff ID) while unpacking it into its snapshot, in a single pass over the stream, then
   * creates the image. The caller applies `--change` into `options.config`.
   */
  async importRootfs(tar: Readable, options: ImportOptions = {}): Promise<ImageRecord> {
    const layer = await this.addLayer(tar, { signal: options.signal });
    try {
      const created = new Date().toISOString();
      const platform = options.platform ?? { os: 'linux', architecture: hostArchitecture() };
      // daemon/images/image_import.go: one history entry whose comment is the message, or
      // "Imported from <src>".
      const config: ImageConfig = {
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: options.config ?? {},
        created,
        history: [{ created, comment: options.message || `Imported from ${options.source ?? '-'}` }],
        os: platform.os,
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      };
      return await this.createImage(config, { tag: options.tag });
    } finally {
      this.releaseLayers([layer.chainId]);
    }
  }

  /**
   * Adds one layer on top of `parent` (a chain ID; none for a base layer) from its
   * uncompressed tar: the tar is digested (diff ID), unpacked into a new snapshot and, with
   * `keepBlob` (default), stored as a blob, all in one pass. A layer that exists already is
   * not unpacked twice (concurrent adds of the same layer both succeed). The layer stays
   * protected from garbage collection until the caller calls releaseLayers([chainId]).
   */
  async addLayer(
    tar: Readable,
    options: { parent?: Digest; expectedDiffId?: Digest; keepBlob?: boolean; signal?: AbortSignal } = {},
  ): Promise<LayerRecord> {
    const { parent, keepBlob = true, signal } = options;
    if (parent !== undefined && !this.#layers.has(parent)) throw notFound(`layer ${parent} does not exist`);
    if (parent !== undefined) this.#hold(parent);
    try {
      const writer = await this.#snapshots.beginLayer();
      let storedBlob: Digest | undefined;
      try {
        const digester = new DigestingStream();
        const consumers: Array<(input: Readable) => Promise<unknown>> = [
          (input) => this.#unpack(input, writer.dir, { whiteouts: this.#whiteouts, signal }),
        ];
        if (keepBlob) {
          consumers.push(async (input) => {
            const expected = options.expectedDiffId ? { digest: options.expectedDiffId } : {};
            storedBlob = (await this.#content.write(input, expected, { signal })).digest;
          });
        }
        // pipeline (not pipe) so an error of `tar` reaches the digester and everything after it.
        const digested = pipelineStreams(tar, digester, () => {});
        const [unpacked] = (await fanOut(digested, consumers, { signal })) as [{ size: number }];
        const diffId = digester.digest;
        if (options.expectedDiffId !== undefined && options.expectedDiffId !== diffId) {
          throw invalidParameter(`layer diff ID mismatch: expected ${options.expectedDiffId}, got ${diffId}`);
        }
        const chainId = parent === undefined ? diffId : sha256(`${parent} ${diffId}`);
        this.#hold(chainId);
        const known = this.#layers.get(chainId);
        if (known) {
          await writer.discard();
          return known;
        }
        await writer.commit(chainId);
        const rec: LayerRecord = {
          chainId,
          diffId,
          ...(parent !== undefined ? { parent } : {}),
          size: unpacked.size,
          ...(keepBlob
            ? { blob: { mediaType: MediaType.dockerLayer, digest: diffId, size: digester.size } }
            : {}),
        };
        await writeJsonAtomic(this.#layerPath(chainId), rec);
        this.#layers.set(chainId, rec);
        this.#log.debug('layer added', { chainId, diffId, size: rec.size });
        return rec;
      } catch (err) {
        await writer.discard();
        // The blob may have been stored completely before the unpack failed: drop it unless
        // something else already references the same content.
        if (storedBlob !== undefined && !this.#usedBlobs().has(storedBlob))
          await this.#content.delete(storedBlob);
        throw err;
      }
    } finally {
      if (parent !== undefined) this.releaseLayers([parent]);
    }
  }

  /**
   * Adds a container's changes as one layer on top of `parent`, as `addLayer(snapshots.diff(id))`
   * would, but without unpacking the diff: the container's upper dir becomes the layer's
   * directory (SnapshotStore.takeUpper) and is packed once, for the diff ID only. No blob is
   * stored (as dockerd keeps none for a built layer): push and save pack the directory again
   * (layerTar), and packDir's archive of an unchanged directory is the same bytes, so it hashes
   * to the diff ID. The record's `blob` descriptor names that tar for generated manifests. The
   * container's overlay must be unmounted and not user-namespaced; afterwards its upper dir is
   * empty (remove the container next). Stores with whiteouts 'none' (tests) take the addLayer way.
   */
  async addContainerLayer(
    containerId: string,
    options: { parent?: Digest; signal?: AbortSignal } = {},
  ): Promise<LayerRecord> {
    const { parent, signal } = options;
    if (this.#whiteouts !== 'overlay')
      return this.addLayer(this.#snapshots.diff(containerId, signal ? { signal } : {}), options);
    if (parent !== undefined && !this.#layers.has(parent)) throw notFound(`layer ${parent} does not exist`);
    if (parent !== undefined) this.#hold(parent);
    try {
      const writer = await this.#snapshots.takeUpper(containerId, signal ? { signal } : {});
      try {
        const digester = new DigestingStream();
        const tar = packDir(writer.dir, { overlayWhiteouts: true, ...(signal ? { signal } : {}) });
        await pipeline(tar, digester, new Writable({ write: (_c, _e, done) => done() }), { signal });
        const diffId = digester.digest;
        const chainId = parent === undefined ? diffId : sha256(`${parent} ${diffId}`);
        this.#hold(chainId);
        const known = this.#layers.get(chainId);
        if (known) {
          await writer.discard();
          return known;
        }
        const size = await dirSize(writer.dir);
        await writer.commit(chainId);
        const rec: LayerRecord = {
          chainId,
          diffId,
          ...(parent !== undefined ? { parent } : {}),
          size,
          blob: { mediaType: MediaType.dockerLayer, digest: diffId, size: digester.size },
        };
        await writeJsonAtomic(this.#layerPath(chainId), rec);
        this.#layers.set(chainId, rec);
        this.#log.debug('layer added from a container', { chainId, diffId, size });
        return rec;
      } catch (err) {
        await writer.discard();
        throw err;
      }
    } finally {
      if (parent !== undefined) this.releaseLayers([parent]);
    }
  }

  /** Ends the GC protection that addLayer gave these layers (a build that is abandoned). */
  releaseLayers(chainIdList: Digest[]): void {
    for (const c of chainIdList) {
      const n = (this.#pending.get(c) ?? 0) - 1;
      if (n > 0) this.#pending.set(c, n);
      else this.#pending.delete(c);
    }
  }

  /**
   * Protects existing layers from garbage collection until releaseLayers (a pull that found
   * its layers present and is about to createImage with them).
   */
  retainLayers(chainIdList: Digest[]): void {
    for (const c of chainIdList) {
      if (!this.#layers.has(c)) throw notFound(`layer ${c} does not exist`);
    }
    for (const c of chainIdList) this.#hold(c);
  }

  #hold(chainId: Digest): void {
    this.#pending.set(chainId, (this.#pending.get(chainId) ?? 0) + 1);
  }

  /** A layer's record, or undefined. */
  layer(chainId: Digest): LayerRecord | undefined {
    return this.#layers.get(chainId);
  }

  /**
   * Records an image whose layers are all present. `config` is stored byte for byte when given
   * as bytes (pull, load: the image ID must stay the same), or serialised. Without `manifest`, a
   * Docker v2 schema 2 manifest is generated from the layers' kept blobs.
   */
  async createImage(
    config: ImageConfig | Uint8Array,
    options: {
      tag?: string;
      manifest?: { bytes: Uint8Array; mediaType: string };
      repoDigest?: string;
      parent?: Digest;
      /** More blobs this image owns (a pulled index), removed with it when nothing else uses them. */
      blobs?: Digest[];
    } = {},
  ): Promise<ImageRecord> {
    const bytes = config instanceof Uint8Array ? config : Buffer.from(JSON.stringify(config));
    const parsed = (
      config instanceof Uint8Array ? JSON.parse(Buffer.from(bytes).toString('utf8')) : config
    ) as ImageConfig;
    if (parsed?.rootfs?.type !== 'layers' || !Array.isArray(parsed.rootfs.diff_ids)) {
      throw invalidParameter('invalid image config: rootfs.type must be "layers" with diff_ids');
    }
    const diffIds = parsed.rootfs.diff_ids.map((d) => {
      if (!isDigest(d)) throw invalidParameter(`invalid diff id in image config: ${d}`);
      return d;
    });
    const chain = chainIds(diffIds);
    const layers = chain.map((c) => {
      const l = this.#layers.get(c);
      if (!l) throw invalidParameter(`layer ${c} of the image is not present`);
      return l;
    });
    if (options.parent !== undefined && !this.#images.has(options.parent)) {
      throw notFound(`No such image: ${options.parent}`);
    }
    const configBlob = await this.#content.writeBytes(bytes);
    const id = configBlob.digest;

    let manifestBytes: Uint8Array;
    let manifestType: string;
    if (options.manifest) {
      manifestBytes = options.manifest.bytes;
      manifestType = options.manifest.mediaType;
    } else {
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, size: configBlob.size, digest: id },
        layers: layers.map((l) => {
          if (!l.blob) throw invalidParameter(`layer ${l.chainId} has no blob: pass the manifest`);
          return l.blob;
        }),
      };
      manifestBytes = Buffer.from(JSON.stringify(manifest, null, 3));
      manifestType = MediaType.dockerManifest;
    }
    const manifestBlob = await this.#content.writeBytes(manifestBytes);
    const blobs = new Set<Digest>([id, manifestBlob.digest, ...(options.blobs ?? [])]);
    try {
      const m = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as ImageManifest;
      for (const l of m.layers ?? []) if (isDigest(l.digest)) blobs.add(l.digest);
    } catch (err) {
      throw invalidParameter('invalid image manifest', { cause: err });
    }

    return this.#locked(async () => {
      const now = new Date().toISOString();
      const existing = this.#images.get(id);
      const meta: ImageMeta = existing
        ? { ...existing.meta, blobs: [...new Set([...existing.meta.blobs, ...blobs])] }
        : {
            id,
            manifest: { digest: manifestBlob.digest, mediaType: manifestType, size: manifestBlob.size },
            blobs: [...blobs],
            ...(options.parent ? { parent: options.parent } : {}),
            recordedAt: now,
          };
      await writeJsonAtomic(this.#imagePath(id), meta);
      this.#images.set(id, { meta, config: parsed, chainIds: chain });
      const refs: NamedReference[] = [];
      if (options.tag) refs.push(this.#parseTag(options.tag));
      if (options.repoDigest) {
        const r = parseNormalizedNamed(options.repoDigest);
        if (r.digest === undefined) throw invalidParameter(`not a digest reference: ${options.repoDigest}`);
        refs.push({ domain: r.domain, path: r.path, digest: r.digest });
      }
      if (refs.length > 0) await this.#setRefs(refs, id);
      this.#log.info('image created', { imageId: id, refs: refs.map(familiarString) });
      return this.#record(id);
    });
  }

  // ---- lookups ----

  /**
   * Finds an image by `name[:tag]`, `name@digest`, full ID (`sha256:<hex>` or 64 hex) or an
   * unambiguous ID prefix (as Docker's GetImage). NotFound: `No such image: <ref>`.
   */
  resolve(refOrId: string): ImageRecord {
    return this.#record(this.#resolveId(refOrId));
  }

  /** The record of an image ID, or undefined. */
  get(id: Digest): ImageRecord | undefined {
    return this.#images.has(id) ? this.#record(id) : undefined;
  }

  list(): ImageRecord[] {
    return [...this.#images.keys()].map((id) => this.#record(id));
  }

  #resolveId(refOrId: string): Digest {
    let ref: ReturnType<typeof parseAnyReference>;
    try {
      ref = parseAnyReference(refOrId);
    } catch (err) {
      // A string that is no valid name may still be an ID prefix ("sha256:ab").
      const id = this.#searchPrefix(refOrId);
      if (id) return id;
      throw err;
    }
    if (!isNamedReference(ref)) {
      if (isDigest(ref.digest) && this.#images.has(ref.digest)) return ref.digest;
      throw notFound(`No such image: ${ref.digest}`);
    }
    const named = tagNameOnly(ref);
    const byRef = this.#refs.get(named.digest ? { ...named, tag: undefined } : named);
    if (byRef) return byRef;
    // name:tag@digest: the digest decides (Docker checks the tag is only decoration).
    if (named.digest && isDigest(named.digest) && named.tag !== undefined) {
      const viaDigest = this.#refs.get({ domain: named.domain, path: named.path, digest: named.digest });
      if (viaDigest) return viaDigest;
    }
    const id = this.#searchPrefix(refOrId);
    if (id) return id;
    throw notFound(`No such image: ${familiarString(named)}`);
  }

  /** The image whose ID starts with `prefix` (with or without `sha256:`), if exactly one. */
  #searchPrefix(prefix: string): Digest | undefined {
    const hex = prefix.startsWith('sha256:') ? prefix.slice(7) : prefix;
    if (hex.length === 0 || !/^[a-f0-9]+$/.test(hex)) return undefined;
    const matches = [...this.#images.keys()].filter((id) => digestHex(id).startsWith(hex));
    if (matches.length > 1) {
      // Docker's truncindex error.
      throw invalidParameter(`multiple IDs found with provided prefix: ${hex}`);
    }
    return matches[0];
  }

  #record(id: Digest): ImageRecord {
    const entry = this.#images.get(id);
    if (!entry) throw notFound(`No such image: ${id}`);
    const repoTags: string[] = [];
    const repoDigests: string[] = [];
    for (const r of this.#refs.referencesTo(id)) {
      if (r.digest !== undefined) repoDigests.push(familiarString(r));
      else repoTags.push(familiarString(r));
    }
    let size = 0;
    for (const c of entry.chainIds) size += this.#layers.get(c)?.size ?? 0;
    return {
      id,
      config: entry.config,
      repoTags,
      repoDigests,
      created: entry.config.created ?? entry.meta.recordedAt,
      size,
      layers: entry.config.rootfs.diff_ids as Digest[],
      chainIds: entry.chainIds,
      manifest: entry.meta.manifest,
      ...(entry.meta.parent ? { parent: entry.meta.parent } : {}),
      ...(entry.meta.lastTagTime ? { lastTagTime: entry.meta.lastTagTime } : {}),
    };
  }

  // ---- references ----

  /**
   * `docker tag source target`: points `target` (tag `latest` when none) at the image
   * `source` resolves to, moving the tag if it was elsewhere.
   */
  async tag(source: string, target: string): Promise<void> {
    const id = this.#resolveId(source);
    const ref = this.#parseTag(target);
    await this.#locked(() => this.#setRefs([ref], id));
  }

  /**
   * Points a reference (tag or digest form) at an image: for pulls, which record
   * `name@sha256:<manifest digest>` as a repo digest.
   */
  async setReference(ref: string, id: Digest): Promise<void> {
    if (!this.#images.has(id)) throw notFound(`No such image: ${id}`);
    const r = tagNameOnly(parseNormalizedNamed(ref));
    const normal = r.digest !== undefined ? { domain: r.domain, path: r.path, digest: r.digest } : r;
    await this.#locked(() => this.#setRefs([normal], id));
  }

  #parseTag(target: string): NamedReference {
    const ref = parseNormalizedNamed(target);
    // daemon/images/image_tag.go (via the API's tag handler): a digest is not a tag.
    if (ref.digest !== undefined) throw invalidParameter('refusing to create a tag with a digest reference');
    return tagNameOnly(ref);
  }

  async #setRefs(refs: NamedReference[], id: Digest): Promise<void> {
    // Re-tagging with a tag that already names the image (a cached rebuild) leaves
    // repositories.json as it is; the image's LastTagTime is still updated, as moby does.
    const changed = refs.some((r) => this.#refs.get(r) !== id);
    for (const r of refs) this.#refs.set(r, id);
    const entry = this.#images.get(id);
    const writes: Array<Promise<void>> = [];
    if (entry && refs.some((r) => r.digest === undefined)) {
      entry.meta = { ...entry.meta, lastTagTime: new Date().toISOString() };
      writes.push(writeJsonAtomic(this.#imagePath(id), entry.meta));
    }
    if (changed) writes.push(this.#refs.save());
    await Promise.all(writes);
  }

  // ---- removal ----

  /**
   * `docker rmi`, with Docker's semantics and messages (daemon/images/image_delete.go):
   * - by reference: untags; the image is deleted too when that was its last reference (a
   *   container using it then needs force, or it is a Conflict);
   * - by ID: deletes the image, untagging it; several tags, or a stopped container using it,
   *   need force; a running container using it is a Conflict even with force;
   * - layers (snapshots) and blobs no other image or container uses are removed, and with
   *   prune (not noPrune) the untagged local parent images too.
   * `usedBy` tells which containers use an image (the engine knows).
   */
  async remove(
    ref: string,
    options: {
      force?: boolean;
      noPrune?: boolean;
      usedBy?: (imageId: Digest) => ContainerUse[];
      /** Coarser than usedBy: a used image counts as used by a stopped container of unknown id. */
      isInUse?: (imageId: Digest) => boolean;
    } = {},
  ): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    const force = options.force ?? false;
    const prune = !(options.noPrune ?? false);
    const isInUse = options.isInUse;
    const usedBy =
      options.usedBy ??
      (isInUse ? (id: Digest) => (isInUse(id) ? [{ id: '<unknown>', running: false }] : []) : () => []);
    return this.#locked(async () => {
      const id = this.#resolveId(ref);
      const records: Array<{ Untagged?: string; Deleted?: string }> = [];
      let repoRefs = this.#refs.referencesTo(id);
      let removedRepositoryRef = false;

      if (!isImageIdPrefix(id, ref)) {
        if (!force && isSingleReference(repoRefs)) {
          const ctr = usedBy(id)[0];
          if (ctr) {
            throw conflict(
              `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(ctr.id)} is using its referenced image ${shortId(id)}`,
            );
          }
        }
        const parsed = tagNameOnly(parseNormalizedNamed(ref));
        const removed = parsed.digest !== undefined ? { ...parsed, tag: undefined } : parsed;
        this.#refs.delete(removed);
        records.push({ Untagged: familiarString(removed) });
        repoRefs = this.#refs.referencesTo(id);
        // A removed tag takes the digest references of the same repository with it when no
        // other tag of that repository is left.
        if (removed.digest === undefined) {
          const name = referenceName(removed);
          const tagLeft = repoRefs.some((r) => r.digest === undefined && referenceName(r) === name);
          if (!tagLeft) {
            const remaining: NamedReference[] = [];
            for (const r of repoRefs) {
              if (r.digest !== undefined && referenceName(r) === name) {
                this.#refs.delete(r);
                records.push({ Untagged: familiarString(r) });
              } else remaining.push(r);
            }
            repoRefs = remaining;
          }
        }
        if (repoRefs.length > 0) {
          await this.#refs.save();
          return records;
        }
        removedRepositoryRef = true;
      } else if (isSingleReference(repoRefs)) {
        const c = this.#checkConflict(id, usedBy, { hard: true, stopped: !force, references: false });
        if (c) throw c.error;
        for (const r of repoRefs) {
          this.#refs.delete(r);
          records.push({ Untagged: familiarString(r) });
        }
      }
      try {
        await this.#deleteHelper(id, records, { force, prune, quiet: removedRepositoryRef, usedBy });
      } finally {
        await this.#refs.save();
      }
      return records;
    });
  }

  #checkConflict(
    id: Digest,
    usedBy: (imageId: Digest) => ContainerUse[],
    mask: { hard: boolean; stopped: boolean; references: boolean },
  ): { error: BerthError; used: boolean } | undefined {
    // imageDeleteConflict.Error(): "conflict: unable to delete <short> (<force msg>) - <why>".
    const make = (hard: boolean, why: string) =>
      conflict(
        `conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${why}`,
      );
    if (mask.hard) {
      if ([...this.#images.values()].some((e) => e.meta.parent === id)) {
        return { error: make(true, 'image has dependent child images'), used: false };
      }
      const running = usedBy(id).find((c) => c.running);
      if (running) {
        return {
          error: make(true, `image is being used by running container ${shortId(running.id)}`),
          used: true,
        };
      }
    }
    if (mask.references && this.#refs.referencesTo(id).length > 0) {
      return { error: make(false, 'image is referenced in multiple repositories'), used: false };
    }
    if (mask.stopped) {
      const stopped = usedBy(id).find((c) => !c.running);
      if (stopped) {
        return {
          error: make(false, `image is being used by stopped container ${shortId(stopped.id)}`),
          used: true,
        };
      }
    }
    return undefined;
  }

  async #deleteHelper(
    id: Digest,
    records: Array<{ Untagged?: string; Deleted?: string }>,
    o: { force: boolean; prune: boolean; quiet: boolean; usedBy: (imageId: Digest) => ContainerUse[] },
  ): Promise<void> {
    const c = this.#checkConflict(id, o.usedBy, { hard: true, stopped: !o.force, references: !o.force });
    if (c) {
      const dangling =
        this.#refs.referencesTo(id).length === 0 &&
        ![...this.#images.values()].some((e) => e.meta.parent === id);
      if (o.quiet && (!dangling || c.used)) return;
      throw c.error;
    }
    const entry = this.#images.get(id)!;
    const parent = entry.meta.parent;
    for (const r of this.#refs.referencesTo(id)) {
      this.#refs.delete(r);
      records.push({ Untagged: familiarString(r) });
    }
    this.#images.delete(id);
    await rm(this.#imagePath(id), { force: true });
    records.push({ Deleted: id });
    this.#log.info('image deleted', { imageId: id });
    for (const chainId of await this.#collect([...entry.chainIds].reverse(), entry.meta.blobs)) {
      records.push({ Deleted: chainId });
    }
    if (o.prune && parent && this.#images.has(parent)) {
      await this.#deleteHelper(parent, records, { ...o, force: false, quiet: true });
    }
  }

  /**
   * Removes, of the candidate layers (topmost first) and blobs, those nothing references any
   * more: no image, no container snapshot, no layer being added. Returns the removed chain IDs.
   */
  async #collect(candidates: Digest[], blobCandidates: Digest[]): Promise<Digest[]> {
    const usedLayers = new Set<Digest>(this.#snapshots.layersInUseByContainers());
    for (const e of this.#images.values()) for (const c of e.chainIds) usedLayers.add(c);
    for (const c of this.#pending.keys()) {
      // A pending layer protects its whole chain.
      for (let l: Digest | undefined = c; l !== undefined; l = this.#layers.get(l)?.parent) usedLayers.add(l);
    }
    for (const c of [...usedLayers]) {
      for (let l = this.#layers.get(c)?.parent; l !== undefined; l = this.#layers.get(l)?.parent)
        usedLayers.add(l);
    }
    const removed: Digest[] = [];
    for (const chainId of candidates) {
      if (usedLayers.has(chainId)) continue;
      await this.#snapshots.removeLayer(chainId);
      this.#layers.delete(chainId);
      await rm(this.#layerPath(chainId), { force: true });
      removed.push(chainId);
    }
    const usedBlobs = this.#usedBlobs();
    for (const b of blobCandidates) if (!usedBlobs.has(b)) await this.#content.delete(b);
    for (const chainId of removed) this.#log.debug('layer removed', { chainId });
    return removed;
  }

  /** Blobs referenced by an image (config, manifest, layers) or kept for a layer. */
  #usedBlobs(): Set<Digest> {
    const used = new Set<Digest>();
    for (const e of this.#images.values()) for (const b of e.meta.blobs) used.add(b);
    for (const l of this.#layers.values()) if (l.blob && isDigest(l.blob.digest)) used.add(l.blob.digest);
    return used;
  }

  /**
   * Removes layers (and their records, snapshots and kept blobs) that no image, container or
   * pending build uses, including snapshot directories without a record. Returns what went.
   */
  async gc(): Promise<Digest[]> {
    return this.#locked(async () => {
      const candidates = new Set<Digest>([...this.#layers.keys(), ...(await this.#snapshots.listLayers())]);
      // Topmost first: sort by chain depth, deepest first.
      const depth = (c: Digest) => {
        let n = 0;
        for (let l = this.#layers.get(c)?.parent; l !== undefined; l = this.#layers.get(l)?.parent) n++;
        return n;
      };
      const ordered = [...candidates].sort((a, b) => depth(b) - depth(a));
      const blobs = [...this.#layers.values()].flatMap((l) =>
        l.blob && isDigest(l.blob.digest) ? [l.blob.digest] : [],
      );
      return this.#collect(ordered, blobs);
    });
  }

  /** Removes a container's snapshot, then (through the snapshot hook) the layers only it kept. */
  async removeContainerSnapshot(containerId: string): Promise<void> {
    await this.#snapshots.removeContainer(containerId);
  }

  /**
   * A layer's uncompressed tar (`docker save`, push): the kept blob when there is one (its
   * digest is the diff ID), otherwise packed from the snapshot, whiteouts turned back into
   * `.wh.` entries (that tar may not hash to the original diff ID, as with Docker).
   */
  async layerTar(chainId: Digest, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    const layer = this.#layers.get(chainId);
    if (!layer) throw notFound(`layer ${chainId} does not exist`);
    if (layer.blob?.digest === layer.diffId && (await this.#content.has(layer.diffId))) {
      return this.#content.get(layer.diffId);
    }
    return packDir(this.#snapshots.layerDir(chainId), {
      overlayWhiteouts: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  // ---- helpers ----

  #imagePath(id: Digest): string {
    return join(this.#root, 'images', `${digestHex(id)}.json`);
  }

  #layerPath(chainId: Digest): string {
    return join(this.#root, 'layers', `${digestHex(chainId)}.json`);
  }

  /** Runs `fn` after every earlier mutation has finished (one writer of the indexes at a time). */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }
}

/** isImageIDPrefix in image_delete.go: the ref is (a prefix of) the ID, with or without `sha256:`. */
function isImageIdPrefix(id: Digest, ref: string): boolean {
  return id.startsWith(ref) || digestHex(id).startsWith(ref);
}

/**
 * isSingleReference in image_delete.go: all references are in one repository and at most one
 * is a tag. False for none.
 */
function isSingleReference(refs: NamedReference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: NamedReference | undefined;
  const canonical = new Set<string>();
  for (const r of refs) {
    if (r.digest !== undefined) canonical.add(referenceName(r));
    else if (single === undefined) single = r;
    else return false;
  }
  single ??= refs[0]!;
  return canonical.size === 1 && canonical.has(referenceName(single));
}
