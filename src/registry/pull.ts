/**
 * `docker pull` (moby distribution/pull_v2.go): resolve the manifest (descending a manifest
 * list / OCI index to the wanted platform), fetch the config, download the missing layers in
 * parallel (three at a time, as Docker's max-concurrent-downloads), each verified against its
 * digest while it streams into the content store, then register them bottom-up (decompressed,
 * checked against the config's diff IDs) and record the image with its manifest and repo digest.
 * Nothing is recorded unless every step succeeded; a failed layer leaves no blob and no snapshot.
 */
import { Readable } from 'node:stream';
import { BerthError, type Digest, invalidParameter, isDigest, notFound, sha256 } from '../common/index.ts';
import {
  chainIds,
  familiarString,
  type ImageStore,
  type NamedReference,
  parseNormalizedNamed,
  referenceName,
  referenceString,
  withDigest,
  withTag,
} from '../image/index.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  layerCompression,
  MediaType,
  type Platform,
} from '../oci/index.ts';
import { decompressor } from '../platform/index.ts';
import { downloadBlobBytes } from './blob-download.ts';
import { type Credentials, header, RegistryClient } from './client.ts';
import { drain, layerProgress, MessageQueue, type ProgressMessage, progressId } from './progress.ts';

export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');

export interface PullOptions {
  credentials?: Credentials;
  insecureRegistries?: string[];
  /** Docker Hub mirrors (dockerd --registry-mirror URLs), tried in order before Docker Hub. */
  mirrors?: string[];
  /** `os/arch[/variant]`; default: the host's. */
  platform?: string;
  /** Layers downloaded at once (Docker's default 3). */
  concurrency?: number;
  signal?: AbortSignal;
}

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
};

export function parsePlatform(s: string | undefined): Platform {
  if (!s) return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
  const [os = 'linux', architecture = ARCH[process.arch] ?? process.arch, variant] = s
    .toLowerCase()
    .split('/');
  return {
    os,
    architecture: architecture === 'x86_64' ? 'amd64' : architecture,
    ...(variant ? { variant } : {}),
  };
}

/** Scope for a repository (token.md): `repository:<path>:<actions>`. */
export function repoScope(path: string, actions: string): string {
  return `repository:${path}:${actions}`;
}

/** The reference a pull request names: fromImage plus tag (a tag that is a digest pins it). */
export function pullReference(fromImage: string, tag?: string): NamedReference {
  let ref = parseNormalizedNamed(fromImage);
  if (tag) ref = isDigest(tag) || tag.includes(':') ? withDigest(ref, tag) : withTag(ref, tag);
  return ref;
}

/** Fetches a manifest by tag or digest and checks its bytes against the digest. */
export async function fetchManifest(
  client: RegistryClient,
  path: string,
  reference: string,
  signal?: AbortSignal,
): Promise<{ bytes: Buffer; mediaType: string; digest: Digest }> {
  const res = await client.expect('GET', `${path}/manifests/${reference}`, [200], {
    scopes: [repoScope(path, 'pull')],
    headers: { accept: MANIFEST_ACCEPT },
    ...(signal ? { signal } : {}),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  if (bytes.length > 4 * 1024 * 1024) throw invalidParameter(`manifest ${reference} is larger than 4 MB`);
  const digest = sha256(bytes);
  // Docker verifies by-digest pulls against the digest, tag pulls against Docker-Content-Digest.
  const want = isDigest(reference) ? reference : header(res, 'docker-content-digest');
  if (want && want !== digest) {
    throw invalidParameter(`manifest verification failed for digest ${want}: got ${digest}`);
  }
  let parsed: { mediaType?: string };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
  } catch (err) {
    throw invalidParameter(`invalid manifest for ${path}:${reference}`, { cause: err });
  }
  const contentType = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
  const mediaType = parsed.mediaType ?? contentType;
  if (
    parsed.mediaType &&
    contentType &&
    contentType !== parsed.mediaType &&
    contentType !== 'application/json'
  ) {
    throw invalidParameter(
      `manifest media type ${parsed.mediaType} does not match Content-Type ${contentType}`,
    );
  }
  return { bytes, mediaType, digest };
}

/**
 * Downloads a blob into the content store, verifying digest and size while streaming; a broken
 * connection resumes where it stopped (blob-download.ts).
 */
async function downloadBlob(
  store: ImageStore,
  client: RegistryClient,
  path: string,
  desc: Descriptor,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
  fetched?: Digest[],
): Promise<void> {
  if (await store.content.has(desc.digest as Digest)) return;
  fetched?.push(desc.digest as Digest);
  let n = 0;
  const bytes = downloadBlobBytes(client, path, desc, [repoScope(path, 'pull')], signal ? { signal } : {});
  const counted = Readable.from(
    (async function* () {
      for await (const c of bytes) {
        n += c.length;
        onBytes(n);
        yield c;
      }
    })(),
    { objectMode: false },
  );
  await store.content.write(counted, { digest: desc.digest, size: desc.size }, { signal });
}

/**
 * Pulls one reference (tag or digest) into the store, reporting progress as Docker does. With a
 * name only (`pull -a`), pulls every tag of the repository.
 */
export async function* pullImage(
  store: ImageStore,
  ref: NamedReference,
  options: PullOptions = {},
): AsyncGenerator<ProgressMessage> {
  // dockerd's pull endpoints: Docker Hub's mirrors first, then Docker Hub; any failure at a
  // mirror falls through to the next endpoint.
  const mirrors = ref.domain === 'docker.io' ? (options.mirrors ?? []) : [];
  for (const endpoint of [...mirrors, undefined]) {
    const client = new RegistryClient({
      domain: ref.domain,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
      ...(endpoint ? { endpoint } : {}),
    });
    try {
      yield* pullFrom(store, client, ref, options);
      return;
    } catch (err) {
      if (endpoint === undefined || options.signal?.aborted) throw err;
    }
  }
}

async function* pullFrom(
  store: ImageStore,
  client: RegistryClient,
  ref: NamedReference,
  options: PullOptions,
): AsyncGenerator<ProgressMessage> {
  if (ref.tag === undefined && ref.digest === undefined) {
    const tags = await listTags(client, ref.path, options.signal);
    yield { status: `Pulling from ${ref.path}`, id: '' };
    for (const t of tags) yield* pullOne(store, client, withTag(ref, t), options);
    yield { status: `Status: Downloaded newer image for ${familiarString(ref)}` };
    return;
  }
  yield* pullOne(store, client, ref, options);
}

export async function listTags(
  client: RegistryClient,
  path: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const tags: string[] = [];
  let next: string | undefined = `${path}/tags/list`;
  while (next) {
    const res = await client.expect('GET', next, [200], {
      scopes: [repoScope(path, 'pull')],
      ...(signal ? { signal } : {}),
    });
    const body = (await res.body.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    const link = header(res, 'link');
    const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
    next = m ? m[1]!.replace(/^\/v2\//, '') : undefined;
  }
  return tags;
}

/** The image `ref` named before this pull, if any. */
function previousTarget(store: ImageStore, ref: NamedReference): Digest | undefined {
  try {
    return store.resolve(referenceString(ref)).id;
  } catch {
    return undefined;
  }
}

async function* pullOne(
  store: ImageStore,
  client: RegistryClient,
  ref: NamedReference,
  options: PullOptions,
): AsyncGenerator<ProgressMessage> {
  const { signal } = options;
  const path = ref.path;
  const reference = ref.digest ?? ref.tag ?? 'latest';
  yield { status: `Pulling from ${path}`, id: ref.digest ? reference : reference };
  let top = await fetchManifest(client, path, reference, signal).catch((err: unknown) => {
    // moby distribution/errors.go: "manifest for busybox:nope not found: manifest unknown: …"
    if (err instanceof BerthError && err.kind === 'NotFound')
      throw notFound(`manifest for ${familiarString(ref)} not found: ${err.message}`, { cause: err });
    throw err;
  });
  // dockerd reports "up to date" when the reference already named the pulled image.
  const before = previousTarget(store, ref);
  const repoDigest = top.digest;
  const extraBlobs: Digest[] = [];
  if (top.mediaType === MediaType.ociIndex || top.mediaType === MediaType.dockerManifestList) {
    const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
    const want = parsePlatform(options.platform);
    const match = index.manifests.find(
      (m) =>
        m.platform?.os === want.os &&
        m.platform.architecture === want.architecture &&
        (!want.variant || m.platform.variant === want.variant),
    );
    if (!match) {
      throw notFound(
        `no matching manifest for ${want.os}/${want.architecture}${want.variant ? `/${want.variant}` : ''} in the manifest list entries`,
      );
    }
    await store.content.writeBytes(top.bytes, { digest: top.digest });
    extraBlobs.push(top.digest);
    top = await fetchManifest(client, path, match.digest, signal);
    if (top.digest !== match.digest) throw invalidParameter(`manifest digest mismatch for ${match.digest}`);
  }
  if (top.mediaType !== MediaType.ociManifest && top.mediaType !== MediaType.dockerManifest) {
    throw invalidParameter(`unsupported manifest media type ${top.mediaType}`);
  }
  const manifest = JSON.parse(top.bytes.toString('utf8')) as ImageManifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw invalidParameter('invalid manifest');
  for (const l of manifest.layers) {
    if (!isDigest(l.digest)) throw invalidParameter(`invalid layer digest ${l.digest}`);
    if (l.urls?.length) throw invalidParameter(`foreign layer ${l.digest} (with urls) is not supported`);
  }

  // Config first: its diff IDs tell which layers are already here.
  const fetched: Digest[] = [];
  let recorded = false;
  try {
    await downloadBlob(store, client, path, manifest.config, () => {}, signal, fetched);
    const configBytes = await store.content.readBytes(manifest.config.digest as Digest);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const diffIds = (config.rootfs?.diff_ids ?? []) as Digest[];
    if (diffIds.length !== manifest.layers.length) {
      throw invalidParameter("layers from manifest don't match image configuration");
    }
    const chain = chainIds(diffIds);
    const display = familiarString(ref);

    const queue = new MessageQueue<ProgressMessage>();
    const held: Digest[] = [];
    const work = (async () => {
      const missing: number[] = [];
      for (let i = 0; i < chain.length; i++) {
        const id = progressId(manifest.layers[i]!.digest);
        if (store.layer(chain[i]!)) {
          store.retainLayers([chain[i]!]);
          held.push(chain[i]!);
          queue.push({ status: 'Already exists', progressDetail: {}, id });
        } else {
          missing.push(i);
          queue.push({ status: 'Pulling fs layer', progressDetail: {}, id });
        }
      }
      // Parallel downloads, sequential registration in layer order.
      const downloads = new Map<number, Promise<void>>();
      let nextToStart = 0;
      const startOne = () => {
        const i = missing[nextToStart++];
        if (i === undefined) return;
        const desc = manifest.layers[i]!;
        const id = progressId(desc.digest);
        const report = layerProgress(queue, 'Downloading', id, desc.size);
        const p = downloadBlob(store, client, path, desc, (n) => report(n), signal, fetched).then(() => {
          queue.push({ status: 'Verifying Checksum', progressDetail: {}, id });
          queue.push({ status: 'Download complete', progressDetail: {}, id });
          startOne();
        });
        p.catch(() => {});
        downloads.set(i, p);
      };
      for (let k = 0; k < (options.concurrency ?? 3); k++) startOne();
      for (const i of missing) {
        await downloads.get(i);
        const desc = manifest.layers[i]!;
        const id = progressId(desc.digest);
        const compression = layerCompression(desc.mediaType);
        const blob = await store.content.get(desc.digest as Digest);
        let n = 0;
        const report = layerProgress(queue, 'Extracting', id, desc.size);
        blob.on('data', (c: Buffer) => {
          n += c.length;
          report(n);
        });
        const tar = blob.pipe(decompressor(compression));
        blob.on('error', (err) => tar.destroy(err));
        const layer = await store.addLayer(tar, {
          ...(i > 0 ? { parent: chain[i - 1]! } : {}),
          expectedDiffId: diffIds[i]!,
          ...(signal ? { signal } : {}),
        });
        held.push(layer.chainId);
        queue.push({ status: 'Pull complete', progressDetail: {}, id });
      }
      const tagged = ref.tag !== undefined && ref.digest === undefined;
      await store.createImage(configBytes, {
        manifest: { bytes: top.bytes, mediaType: top.mediaType },
        ...(tagged ? { tag: referenceString(ref) } : {}),
        repoDigest: `${referenceString({ domain: ref.domain, path: ref.path })}@${repoDigest}`,
        blobs: extraBlobs,
      });
      recorded = true;
      // Where these layers live, for cross-repository mounts when they are pushed elsewhere.
      await store.blobSources
        .add(
          manifest.layers.map((l) => l.digest),
          referenceName(ref),
        )
        .catch(() => {});
    })();
    try {
      yield* drain(queue, work);
    } finally {
      store.releaseLayers(held);
    }
    yield { status: `Digest: ${repoDigest}` };
    yield {
      status:
        before === manifest.config.digest
          ? `Status: Image is up to date for ${display}`
          : `Status: Downloaded newer image for ${display}`,
    };
  } finally {
    // A failed pull leaves nothing behind: the blobs it fetched go (layers are collected by the store).
    if (!recorded) for (const d of fetched) await store.content.delete(d);
  }
}
