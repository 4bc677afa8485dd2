/**
 * `docker load`: reads the archive forms of reference/docker-archive-format.md §4-5 — Docker's
 * manifest.json (with `blobs/sha256/…` or legacy `<id>/layer.tar` paths, symlinks included) and
 * plain OCI image layouts (index.json, nested indexes, compressed layers, as skopeo writes) —
 * from a tar that may itself be gzip/zstd/xz/bzip2 compressed.
 *
 * The archive is first extracted (safely: nothing outside the temp dir) into `tmpDir`; every
 * path it names is then resolved inside that dir. Each layer is decompressed, checked against
 * the config's diff ID and registered; an image is recorded only when all its layers are in.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { JsonMessage } from '../../api/types/index.ts';
import {
  type Digest,
  digestHex,
  errnoCode,
  invalidParameter,
  isDigest,
  shortId,
} from '../../common/index.ts';
import {
  chainIds,
  familiarString,
  type ImageStore,
  parseNormalizedNamed,
  tagNameOnly,
} from '../../image/index.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MediaType,
} from '../../oci/index.ts';
import { autoDecompress, extractTar } from '../../platform/index.ts';

export interface LoadOptions {
  tmpDir: string;
  quiet: boolean;
  signal?: AbortSignal;
  /** Reports tag moves and loads to the engine's event bus. */
  onLoaded?: (imageId: string, tags: string[]) => void;
}

interface LoadEntry {
  configPath: string;
  layerPaths: string[];
  repoTags: string[];
}

export async function* loadImages(
  store: ImageStore,
  archive: Readable,
  options: LoadOptions,
): AsyncGenerator<JsonMessage> {
  const dir = await mkdtemp(join(options.tmpDir, 'load-'));
  try {
    await extractTar(autoDecompress(archive), dir, {
      whiteouts: 'none',
      sameOwner: false,
      signal: options.signal,
    });
    const entries = await readEntries(dir);
    const loaded: string[] = [];
    let lastId: string | undefined;
    for (const entry of entries) {
      const configBytes = await readFile(await inside(dir, entry.configPath));
      let config: ImageConfig;
      try {
        config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
      } catch (err) {
        throw invalidParameter(`invalid image config ${entry.configPath}`, { cause: err });
      }
      const diffIds = (config?.rootfs?.diff_ids ?? []) as Digest[];
      if (diffIds.length !== entry.layerPaths.length) throw invalidParameter('layers length mismatch');
      if (!diffIds.every((d) => isDigest(d))) throw invalidParameter('invalid diff id in image config');
      const chain = chainIds(diffIds);
      const held: Digest[] = [];
      try {
        for (let i = 0; i < chain.length; i++) {
          const id = shortId(digestHex(diffIds[i]!));
          if (store.layer(chain[i]!)) {
            store.retainLayers([chain[i]!]);
            held.push(chain[i]!);
            if (!options.quiet) yield { status: 'Loading layer', id, progressDetail: {} };
            continue;
          }
          const path = await inside(dir, entry.layerPaths[i]!);
          const total = (await lstat(path)).size;
          const layer = await store.addLayer(autoDecompress(createReadStream(path)), {
            ...(i > 0 ? { parent: chain[i - 1]! } : {}),
            expectedDiffId: diffIds[i]!,
            signal: options.signal,
          });
          held.push(layer.chainId);
          if (!options.quiet) {
            yield {
              status: 'Loading layer',
              id,
              progressDetail: { current: total, total },
              progress: progressBar(total, total),
            };
          }
        }
        const tags = entry.repoTags.map((t) => {
          const ref = parseNormalizedNamed(t);
          // load.go: RepoTags must be name:tag.
          if (ref.digest !== undefined) throw invalidParameter(`invalid tag ${t}: a digest is not a tag`);
          return familiarString(tagNameOnly(ref));
        });
        const notices: string[] = [];
        for (const t of tags) {
          try {
            const old = store.resolve(t);
            if (old.id !== sha256Of(configBytes)) {
              notices.push(
                `The image ${t} already exists, renaming the old one with ID ${old.id} to empty string\n`,
              );
            }
          } catch {}
        }
        const image = await store.createImage(configBytes, tags[0] ? { tag: tags[0] } : {});
        for (const t of tags.slice(1)) await store.tag(image.id, t);
        for (const n of notices) yield { stream: n };
        for (const t of tags) {
          loaded.push(t);
          yield { stream: `Loaded image: ${t}\n` };
        }
        lastId = image.id;
        if (tags.length === 0) yield { stream: `Loaded image ID: ${image.id}\n` };
        options.onLoaded?.(image.id, tags);
      } finally {
        store.releaseLayers(held);
      }
    }
    if (entries.length === 0 && lastId === undefined) return;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sha256Of(bytes: Buffer): string {
  return `sha256:${createHashHex(bytes)}`;
}

function createHashHex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Docker's jsonmessage progress bar text (`[=====>   ]  1.2MB/3.4MB`), simplified to the bar. */
function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.floor((current / total) * width) : width;
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled >= width ? '=' : '>') : ''}${' '.repeat(width - filled)}`;
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** A path named by the archive, resolved inside `dir` (symlinks followed only within it). */
async function inside(dir: string, name: string): Promise<string> {
  const root = await realpath(dir);
  const lexical = resolve(root, name);
  if (lexical !== root && !lexical.startsWith(root + sep)) {
    throw invalidParameter(`invalid archive: path ${JSON.stringify(name)} is outside the archive`);
  }
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT')
      throw invalidParameter(`invalid archive: ${name} is missing`, { cause: err });
    throw err;
  }
  if (!real.startsWith(root + sep)) {
    throw invalidParameter(`invalid archive: path ${JSON.stringify(name)} leads outside the archive`);
  }
  return real;
}

async function readJson<T>(dir: string, name: string): Promise<T> {
  const text = await readFile(await inside(dir, name), 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalidParameter(`invalid archive: ${name} is not valid JSON`, { cause: err });
  }
}

async function exists(dir: string, name: string): Promise<boolean> {
  try {
    await lstat(join(dir, name));
    return true;
  } catch {
    return false;
  }
}

/** The images the archive holds: from manifest.json when present, else from the OCI index. */
async function readEntries(dir: string): Promise<LoadEntry[]> {
  if (await exists(dir, 'manifest.json')) {
    const list = await readJson<Array<{
      Config: string;
      RepoTags?: string[] | null;
      Layers: string[];
    }> | null>(dir, 'manifest.json');
    if (!Array.isArray(list)) throw invalidParameter('invalid archive: manifest.json is not a list');
    return list.map((e) => {
      if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) {
        throw invalidParameter('invalid archive: malformed manifest.json entry');
      }
      return { configPath: e.Config, layerPaths: e.Layers, repoTags: e.RepoTags ?? [] };
    });
  }
  if (await exists(dir, 'oci-layout')) {
    const layout = await readJson<{ imageLayoutVersion?: string }>(dir, 'oci-layout');
    if (layout.imageLayoutVersion !== '1.0.0') {
      throw invalidParameter(`unsupported OCI layout version ${layout.imageLayoutVersion}`);
    }
    const index = await readJson<ImageIndex>(dir, 'index.json');
    const out: LoadEntry[] = [];
    for (const desc of index.manifests ?? []) {
      const manifestDesc = await pickManifest(dir, desc);
      if (!manifestDesc) continue;
      const manifest = await readJson<ImageManifest>(dir, blobPath(manifestDesc.digest));
      out.push({
        configPath: blobPath(manifest.config.digest),
        layerPaths: manifest.layers.map((l) => blobPath(l.digest)),
        repoTags: imageNames(desc),
      });
    }
    return out;
  }
  // Docker 29's wording (tarexport/load.go).
  throw invalidParameter('invalid archive: does not contain a manifest.json');
}

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex)) {
    throw invalidParameter(`invalid digest ${digest} in archive`);
  }
  return `blobs/${alg}/${hex}`;
}

const hostArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x' };

/** A manifest descriptor, descending through indexes to the host's platform. */
async function pickManifest(dir: string, desc: Descriptor): Promise<Descriptor | undefined> {
  if (desc.mediaType === MediaType.ociIndex || desc.mediaType === MediaType.dockerManifestList) {
    const index = await readJson<ImageIndex>(dir, blobPath(desc.digest));
    const arch = hostArch[process.arch] ?? process.arch;
    const match =
      index.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ??
      (index.manifests.length === 1 ? index.manifests[0] : undefined);
    return match ? pickManifest(dir, match) : undefined;
  }
  if (desc.mediaType === MediaType.ociManifest || desc.mediaType === MediaType.dockerManifest) return desc;
  return undefined;
}

/**
 * The names of an index entry: containerd's full `io.containerd.image.name`, else an
 * `org.opencontainers.image.ref.name` that is a whole reference (`name:tag`); a bare tag names
 * nothing (it has no repository), so that image loads untagged.
 */
function imageNames(desc: Descriptor): string[] {
  const full = desc.annotations?.['io.containerd.image.name'];
  if (full) return [full];
  const ref = desc.annotations?.['org.opencontainers.image.ref.name'];
  if (ref && (ref.includes(':') || ref.includes('/'))) {
    try {
      parseNormalizedNamed(ref);
      return [ref];
    } catch {
      return [];
    }
  }
  return [];
}
