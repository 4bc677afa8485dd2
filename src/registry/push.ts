/**
 * `docker push` (moby distribution/push_v2.go): for each layer, bottom first, the blob is
 * checked with HEAD and, when missing, mounted from another repository of the same registry
 * that is known to hold it (the image store's BlobSources, filled by pulls and pushes) or
 * uploaded (POST an upload session, then one monolithic PUT with `?digest=`); then the config;
 * then the manifest under the tag. A layer pulled from a registry is pushed as the compressed
 * blob it was pulled as (same digests, so the manifest is the pulled one, byte for byte); a
 * local layer is gzip-compressed (deterministically: same bytes, same digest, every time) into
 * a temporary blob, and the blob made is remembered by diff ID, so a later push looks for it
 * remotely before compressing again. The pushed digest is recorded as a repo digest.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BerthError,
  type Digest,
  DigestingStream,
  invalidParameter,
  notFound,
  sha256,
} from '../common/index.ts';
import {
  familiarName,
  type ImageRecord,
  type ImageStore,
  type NamedReference,
  parseNormalizedNamed,
  referenceName,
  referenceString,
  withTag,
} from '../image/index.ts';
import { type Descriptor, type ImageManifest, isLayerMediaType, MediaType } from '../oci/index.ts';
import { compressor } from '../platform/index.ts';
import { type Credentials, header, RegistryClient } from './client.ts';
import {
  countBytes,
  drain,
  layerProgress,
  MessageQueue,
  type ProgressMessage,
  progressId,
} from './progress.ts';
import { repoScope } from './pull.ts';

export interface PushOptions {
  credentials?: Credentials;
  insecureRegistries?: string[];
  /** Layers uploaded at once (dockerd's --max-concurrent-uploads, default 5). */
  concurrency?: number;
  signal?: AbortSignal;
  /** The local tags of the repository, for a push without a tag (`push -a`). */
  allTags?: string[];
}

/** Pushes `ref` (one tag; or every local tag of the repository when it has none). */
export async function* pushImage(
  store: ImageStore,
  ref: NamedReference,
  options: PushOptions = {},
): AsyncGenerator<ProgressMessage> {
  const client = new RegistryClient({
    domain: ref.domain,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
  });
  yield { status: `The push refers to repository [${referenceName(ref)}]` };
  const tags = ref.tag !== undefined ? [ref.tag] : (options.allTags ?? []);
  if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  for (const tag of tags) {
    const tagged = withTag(ref, tag);
    let image: ImageRecord;
    try {
      image = store.resolve(referenceString(tagged));
    } catch {
      throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
    }
    yield* pushOne(store, client, tagged, image, options);
  }
}

async function* pushOne(
  store: ImageStore,
  client: RegistryClient,
  ref: NamedReference,
  image: ImageRecord,
  options: PushOptions,
): AsyncGenerator<ProgressMessage> {
  const { signal } = options;
  const path = ref.path;
  const scopes = [repoScope(path, 'pull,push')];
  const target = referenceName(ref);
  const stored = await storedManifest(store, image);
  const queue = new MessageQueue<ProgressMessage>();
  const temps: Digest[] = [];
  const layers: Descriptor[] = [];
  let reusedAll = stored !== undefined;

  const work = (async () => {
    for (const chainId of image.chainIds)
      queue.push({
        status: 'Preparing',
        progressDetail: {},
        id: progressId(store.layer(chainId)?.diffId ?? chainId),
      });
    const pushLayer = async (i: number) => {
      const chainId = image.chainIds[i]!;
      const layer = store.layer(chainId)!;
      const id = progressId(layer.diffId);
      const done = async (desc: Descriptor, status: string) => {
        layers[i] = desc;
        queue.push({ status, progressDetail: {}, id });
        await store.blobSources.add(desc.digest, target).catch(() => {});
      };
      // The blob this layer was pulled as, or the one an earlier push made of it: the registry
      // may have it, or another repository there may, without compressing anything.
      const pulled = stored?.layers[i];
      let desc: Descriptor | undefined =
        pulled && (await store.content.has(pulled.digest as Digest)) ? pulled : undefined;
      if (!desc) {
        reusedAll = false;
        desc = store.blobSources.compressed(layer.diffId);
      }
      let session: string | undefined;
      if (desc) {
        const remote = await findRemote(client, path, desc, store, ref, options);
        if (remote.status !== 'upload') return done(desc, remote.status);
        session = remote.location;
      }
      if (!desc || !(await store.content.has(desc.digest as Digest))) {
        const made = await compressLayer(store, chainId, signal);
        temps.push(made.digest as Digest);
        await store.blobSources
          .setCompressed(layer.diffId, {
            mediaType: made.mediaType,
            digest: made.digest as Digest,
            size: made.size,
          })
          .catch(() => {});
        if (made.digest !== desc?.digest) {
          if (session) await cancelUpload(client, session, scopes, signal);
          desc = made;
          const remote = await findRemote(client, path, desc, store, ref, options);
          if (remote.status !== 'upload') return done(desc, remote.status);
          session = remote.location;
        }
      }
      const blob = desc;
      const report = layerProgress(queue, 'Pushing', id, blob.size);
      await putBlob(
        client,
        session ?? (await newUploadSession(client, path, scopes, signal)),
        blob,
        () => createReadStream(store.content.path(blob.digest as Digest)),
        scopes,
        report,
        signal,
      );
      await done(blob, 'Pushed');
    };
    // dockerd's --max-concurrent-uploads: that many layers at once, the manifest keeps their order.
    let next = 0;
    const worker = async () => {
      try {
        while (next < image.chainIds.length) await pushLayer(next++);
      } catch (err) {
        next = image.chainIds.length; // the others finish their layer and stop
        throw err;
      }
    };
    const workers = Math.max(1, Math.min(options.concurrency ?? 5, image.chainIds.length));
    await Promise.all(Array.from({ length: workers }, worker));
  })();
  yield* drain(queue, work);
  try {
    const configBytes = await store.content.readBytes(image.id);
    const configDesc: Descriptor = {
      mediaType: stored?.config.mediaType ?? MediaType.dockerConfig,
      digest: image.id,
      size: configBytes.length,
    };
    if (!(await blobExists(client, path, image.id, scopes, signal))) {
      await putBlob(
        client,
        await newUploadSession(client, path, scopes, signal),
        configDesc,
        () => Readable.from([Buffer.from(configBytes)]),
        scopes,
        () => {},
        signal,
      );
    }
    let manifestBytes: Buffer;
    let mediaType: string;
    if (reusedAll && stored) {
      manifestBytes = stored.bytes;
      mediaType = stored.mediaType;
    } else {
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, size: configBytes.length, digest: image.id },
        layers,
      };
      manifestBytes = Buffer.from(JSON.stringify(manifest, null, 3));
      mediaType = MediaType.dockerManifest;
    }
    const res = await client.expect('PUT', `${path}/manifests/${ref.tag}`, [201, 200, 202], {
      scopes,
      headers: { 'content-type': mediaType },
      body: () => manifestBytes,
      ...(signal ? { signal } : {}),
    });
    await res.body.dump?.().catch(() => {});
    const digest = sha256(manifestBytes);
    const sent = header(res, 'docker-content-digest');
    if (sent && sent !== digest)
      throw invalidParameter(`registry reports manifest digest ${sent}, expected ${digest}`);
    await store.setReference(`${referenceName(ref)}@${digest}`, image.id);
    yield { status: `${ref.tag}: digest: ${digest} size: ${manifestBytes.length}` };
    yield { progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: manifestBytes.length } };
  } finally {
    for (const d of temps) await store.content.delete(d);
  }
}

/** The image's stored manifest when it came from a registry (its layers are compressed blobs). */
async function storedManifest(
  store: ImageStore,
  image: ImageRecord,
): Promise<(ImageManifest & { bytes: Buffer; mediaType: string }) | undefined> {
  try {
    const bytes = await store.content.readBytes(image.manifest.digest);
    const m = JSON.parse(bytes.toString('utf8')) as ImageManifest;
    if (m.layers.length !== image.chainIds.length || !m.layers.every((l) => isLayerMediaType(l.mediaType)))
      return undefined;
    // A generated manifest of uncompressed local tars is not worth reusing.
    if (m.layers.some((l) => l.mediaType === MediaType.dockerLayer || l.mediaType === MediaType.ociLayer))
      return undefined;
    return { ...m, bytes, mediaType: image.manifest.mediaType };
  } catch {
    return undefined;
  }
}

/** gzip of the layer tar, stored as a (temporary) blob. */
async function compressLayer(store: ImageStore, chainId: Digest, signal?: AbortSignal): Promise<Descriptor> {
  const tar = await store.layerTar(chainId, signal ? { signal } : {});
  const gz = compressor('gzip');
  const counter = new DigestingStream();
  const w = store.content.writer();
  await pipeline(tar, gz, counter, w, ...(signal ? [{ signal }] : []));
  return { mediaType: MediaType.dockerLayerGzip, digest: w.blob.digest, size: w.blob.size };
}

async function blobExists(
  client: RegistryClient,
  path: string,
  digest: string,
  scopes: string[],
  signal?: AbortSignal,
): Promise<boolean> {
  const res = await client.request('HEAD', `${path}/blobs/${digest}`, {
    scopes,
    ...(signal ? { signal } : {}),
  });
  await res.body.dump?.().catch(() => {});
  return res.status === 200;
}

/**
 * How many repositories a blob is worth trying to mount from (moby's
 * getMaxMountAndExistenceCheckAttempts): the bigger the blob, the more an upload costs.
 */
export function maxMountAttempts(size: number): number {
  if (size > 10 * 1024 * 1024) return 4;
  if (size > 100 * 1024) return 3;
  return 1;
}

/**
 * The repositories to mount a blob from (moby's getRepositoryMountCandidates): those of the
 * target's registry other than the target, newest first, ties broken in favour of the ones
 * sharing more leading path components with the target; at most `max`.
 */
export function mountCandidates(sources: readonly string[], target: NamedReference, max: number): string[] {
  const targetParts = target.path.split('/');
  const shared = (path: string) => {
    const parts = path.split('/');
    let n = 0;
    while (n < parts.length && n < targetParts.length && parts[n] === targetParts[n]) n++;
    return n;
  };
  const candidates: Array<{ path: string; shared: number }> = [];
  for (const source of [...sources].reverse()) {
    let named: NamedReference;
    try {
      named = parseNormalizedNamed(source);
    } catch {
      continue;
    }
    if (named.domain !== target.domain || named.path === target.path) continue;
    if (candidates.some((c) => c.path === named.path)) continue;
    candidates.push({ path: named.path, shared: shared(named.path) });
  }
  // Array.prototype.sort is stable: equal likeness keeps newest first.
  candidates.sort((a, b) => b.shared - a.shared);
  return candidates.slice(0, max).map((c) => c.path);
}

/**
 * Whether a layer blob needs uploading (moby's layerAlreadyExists, then its mount attempts):
 * HEAD in the target repository (`Layer already exists`), then a cross-repository mount from the
 * repositories of the same registry it is known to be in (`POST …/blobs/uploads/?mount=<digest>
 * &from=<repo>`; 201: `Mounted from <repo>`), else an upload session to use (a refused mount's
 * 202 session, as distribution's client keeps it). A failed mount forgets that source, as moby's
 * V2MetadataService.Remove.
 */
async function findRemote(
  client: RegistryClient,
  path: string,
  desc: Descriptor,
  store: ImageStore,
  ref: NamedReference,
  options: PushOptions,
): Promise<{ status: string; location?: undefined } | { status: 'upload'; location: string | undefined }> {
  const { signal } = options;
  const scopes = [repoScope(path, 'pull,push')];
  if (await blobExists(client, path, desc.digest, scopes, signal)) return { status: 'Layer already exists' };
  const sources = store.blobSources.get(desc.digest);
  let session: string | undefined;
  for (const from of mountCandidates(sources, ref, maxMountAttempts(desc.size))) {
    const query = `mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`;
    let res: Awaited<ReturnType<RegistryClient['request']>> | undefined;
    let refused = false;
    try {
      res = await client.request('POST', `${path}/blobs/uploads/?${query}`, {
        scopes: [...scopes, repoScope(from, 'pull')],
        headers: { 'content-length': '0' },
        ...(signal ? { signal } : {}),
      });
      await res.body.dump?.().catch(() => {});
    } catch (err) {
      if (signal?.aborted) throw err;
      refused = err instanceof BerthError && err.kind === 'Unauthorized';
    }
    if (res?.status === 201) {
      if (session) await cancelUpload(client, session, scopes, signal);
      return { status: `Mounted from ${from}` };
    }
    const location = res?.status === 202 ? header(res, 'location') : undefined;
    if (location) {
      if (session) await cancelUpload(client, session, scopes, signal);
      session = location;
    }
    // Without rights to the source the association may still be right for other credentials.
    if (!refused || !options.credentials)
      await store.blobSources.remove(desc.digest, `${ref.domain}/${from}`).catch(() => {});
  }
  return { status: 'upload', location: session };
}

/** POST an upload session; its Location. */
async function newUploadSession(
  client: RegistryClient,
  path: string,
  scopes: string[],
  signal?: AbortSignal,
): Promise<string> {
  const start = await client.expect('POST', `${path}/blobs/uploads/`, [202], {
    scopes,
    headers: { 'content-length': '0' },
    ...(signal ? { signal } : {}),
  });
  await start.body.dump?.().catch(() => {});
  const location = header(start, 'location');
  if (!location) throw invalidParameter('registry sent no upload location');
  return location;
}

/** DELETE an upload session that will not be used (best effort). */
async function cancelUpload(
  client: RegistryClient,
  location: string,
  scopes: string[],
  signal?: AbortSignal,
) {
  try {
    const res = await client.request('DELETE', '', {
      url: client.resolveLocation(location),
      scopes,
      ...(signal ? { signal } : {}),
    });
    await res.body.dump?.().catch(() => {});
  } catch {}
}

/** PUT the whole blob into an upload session with `?digest=` (monolithic upload). */
async function putBlob(
  client: RegistryClient,
  location: string,
  desc: Descriptor,
  body: () => Readable,
  scopes: string[],
  onBytes: (n: number, force?: boolean) => void,
  signal?: AbortSignal,
): Promise<void> {
  const url = new URL(client.resolveLocation(location));
  url.searchParams.set('digest', desc.digest);
  const put = await client.expect('PUT', '', [201, 204], {
    url: url.toString(),
    scopes,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    body: () => countBytes(body(), onBytes),
    ...(signal ? { signal } : {}),
  });
  await put.body.dump?.().catch(() => {});
}
