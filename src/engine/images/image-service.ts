/**
 * The image verbs of the Engine API over the image store: list, inspect, history, import,
 * tag and remove, with Docker's JSON shapes and events.
 */

import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type {
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageSearchResponseItem,
  ImageInspectResponse,
  ImageSummary,
  JsonMessage,
} from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';
import {
  familiarString,
  type ImageRecord,
  type ImageStore,
  type ImportOptions,
  parseNormalizedNamed,
  referenceName,
  referenceString,
  saveImages,
  selectImages,
  withTag,
} from '../../image/index.ts';
import type { ContainerConfig } from '../../oci/index.ts';
import { pullImage, pullReference, pushImage, RegistryClient, searchImages } from '../../registry/index.ts';
import type { Filters, ImageService, RegistryAuth } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { loadImages } from './archive-load.ts';
import { applyChanges } from './changes.ts';
import { type CommitSource, commitContainer } from './commit.ts';

export interface ImageServiceDeps {
  store: ImageStore;
  events: EventBus;
  /** The containers that use an image: Docker refuses to delete those. */
  imageUsers: (imageId: string) => Array<{ id: string; running: boolean }>;
  /** Scratch space for save and load (under the data root, so big archives do not fill /tmp). */
  tmpDir: string;
  /** The container `docker commit` names (NotFound when there is none). */
  commitSource: (ref: string) => CommitSource;
  /** Registries reachable over plain HTTP besides loopback (--insecure-registry). */
  insecureRegistries?: string[];
  /** Docker Hub mirrors (berthd --registry-mirror), tried before Docker Hub on pulls. */
  registryMirrors?: string[];
  /** Layers pulled and pushed at once (berthd --max-concurrent-downloads/-uploads). */
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
}

export class Images implements ImageService {
  readonly #d: ImageServiceDeps;

  constructor(deps: ImageServiceDeps) {
    this.#d = deps;
  }

  async list(options: { all: boolean; filters: Filters; digests: boolean }): Promise<ImageSummary[]> {
    const filter = imageFilter(options.filters, (ref) => this.#d.store.resolve(ref));
    return this.#d.store
      .list()
      .filter(filter)
      .sort((a, b) => Date.parse(b.config.created ?? '') - Date.parse(a.config.created ?? ''))
      .map((img) => ({
        Id: img.id,
        ParentId: '',
        RepoTags: img.repoTags,
        RepoDigests: img.repoDigests,
        Created: Math.floor(Date.parse(img.config.created ?? img.created) / 1000),
        Size: img.size,
        SharedSize: -1,
        VirtualSize: img.size,
        Labels: img.config.config?.Labels ?? {},
        Containers: -1,
      }));
  }

  async inspect(ref: string): Promise<ImageInspectResponse> {
    const img = this.#d.store.resolve(ref);
    return inspectView(img);
  }

  /**
   * Newest entry first (moby daemon/images/image_history.go): each entry that made a layer has
   * that layer's unpacked size; the newest entry carries the image's ID and tags, the next one
   * its local parent's (commits, classic builds), and so on; the rest are `<missing>`.
   */
  async history(ref: string): Promise<ImageHistoryResponseItem[]> {
    const img = this.#d.store.resolve(ref);
    let layer = 0;
    const items: ImageHistoryResponseItem[] = (img.config.history ?? []).map((h) => {
      let size = 0;
      if (!h.empty_layer) {
        const chainId = img.chainIds[layer++];
        size = chainId ? (this.#d.store.layer(chainId)?.size ?? 0) : 0;
      }
      return {
        Id: '<missing>',
        Created: Math.floor(Date.parse(h.created ?? img.created) / 1000),
        CreatedBy: h.created_by ?? '',
        Tags: null,
        Size: size,
        Comment: h.comment ?? '',
      };
    });
    items.reverse();
    let current: ImageRecord | undefined = img;
    for (const item of items) {
      if (!current) break;
      item.Id = current.id;
      item.Tags = current.repoTags.length ? current.repoTags : null;
      current = current.parent ? this.#d.store.get(current.parent) : undefined;
    }
    return items;
  }

  async *import(
    tar: Readable,
    options: { repo?: string; tag?: string; message?: string; changes: string[]; platform?: string },
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage> {
    const tag = options.repo ? (options.tag ? `${options.repo}:${options.tag}` : options.repo) : undefined;
    const config = applyChanges({}, options.changes);
    const platform = options.platform ? parsePlatform(options.platform) : undefined;
    const img = await this.#d.store.importRootfs(tar, {
      tag,
      config: config as ImportOptions['config'],
      message: options.message,
      source: '-',
      platform,
      signal,
    });
    this.#d.events.publish('image', 'import', img.id, { name: img.id });
    if (tag) this.#d.events.publish('image', 'tag', img.id, { name: img.repoTags.at(-1) ?? tag });
    yield { status: img.id };
  }

  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    if (!repo) throw invalidParameter('repository name must have at least one component');
    const target = tag ? `${repo}:${tag}` : repo;
    await this.#d.store.tag(ref, target);
    const img = this.#d.store.resolve(target);
    this.#d.events.publish('image', 'tag', img.id, {
      name: target.includes(':') ? target : `${target}:latest`,
    });
  }

  async remove(
    ref: string,
    options: { force: boolean; noPrune: boolean },
  ): Promise<ImageDeleteResponseItem[]> {
    // Docker reports removed layers as Deleted items too, but sends events for images only.
    const imagesBefore = new Set<string>(this.#d.store.list().map((i) => i.id));
    const items = await this.#d.store.remove(ref, {
      force: options.force,
      noPrune: options.noPrune,
      usedBy: (id) => this.#d.imageUsers(id),
    });
    for (const item of items) {
      if (item.Untagged) this.#d.events.publish('image', 'untag', item.Untagged, { name: item.Untagged });
      if (item.Deleted && imagesBefore.has(item.Deleted)) {
        this.#d.events.publish('image', 'delete', item.Deleted, { name: item.Deleted });
      }
    }
    return items;
  }

  async *pull(
    options: { fromImage: string; tag?: string; platform?: string },
    auth: RegistryAuth | undefined,
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage> {
    const ref = pullReference(options.fromImage, options.tag);
    const before = new Set(this.#d.store.list().map((i) => i.id));
    yield* pullImage(this.#d.store, ref, {
      ...(auth ? { credentials: auth } : {}),
      insecureRegistries: this.#d.insecureRegistries ?? [],
      mirrors: this.#d.registryMirrors ?? [],
      ...(this.#d.maxConcurrentDownloads ? { concurrency: this.#d.maxConcurrentDownloads } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
      signal,
    });
    const name = familiarString(ref);
    try {
      const img = this.#d.store.resolve(
        referenceString(ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' }),
      );
      if (!before.has(img.id) || ref.tag) this.#d.events.publish('image', 'pull', name, { name });
    } catch {}
  }

  async *push(
    name: string,
    options: { tag?: string },
    auth: RegistryAuth | undefined,
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage> {
    let ref = parseNormalizedNamed(name);
    if (options.tag) ref = withTag(ref, options.tag);
    const repo = referenceName(ref);
    const allTags = this.#d.store
      .list()
      .flatMap((i) => i.repoTags)
      .map((t) => parseNormalizedNamed(t))
      .filter((r) => referenceName(r) === repo && r.tag)
      .map((r) => r.tag!);
    yield* pushImage(this.#d.store, ref, {
      ...(auth ? { credentials: auth } : {}),
      insecureRegistries: this.#d.insecureRegistries ?? [],
      allTags: [...new Set(allTags)].sort(),
      ...(this.#d.maxConcurrentUploads ? { concurrency: this.#d.maxConcurrentUploads } : {}),
      signal,
    });
    this.#d.events.publish('image', 'push', familiarString(ref), { name: familiarString(ref) });
  }

  async search(
    options: { term: string; limit?: number; filters: Filters },
    auth: RegistryAuth | undefined,
    signal: AbortSignal,
  ): Promise<ImageSearchResponseItem[]> {
    return searchImages(options.term, {
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      filters: options.filters,
      ...(auth ? { credentials: auth } : {}),
      insecureRegistries: this.#d.insecureRegistries ?? [],
      signal,
    });
  }

  async login(auth: RegistryAuth, signal: AbortSignal): Promise<{ Status: string; IdentityToken?: string }> {
    // registry.ConvertToHostname: the server address may be a URL (https://host/v1/).
    const raw = auth.serverAddress ?? 'docker.io';
    const host = raw.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
    const client = new RegistryClient({
      domain,
      credentials: auth,
      insecureRegistries: this.#d.insecureRegistries ?? [],
    });
    await client.login(signal);
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  async save(names: string[], signal: AbortSignal): Promise<Readable> {
    if (names.length === 0) throw invalidParameter('no images to save');
    selectImages(this.#d.store, names); // NotFound before the 200 goes out
    await mkdir(this.#d.tmpDir, { recursive: true });
    const tar = saveImages(this.#d.store, names, { tmpDir: this.#d.tmpDir, signal });
    for (const n of names) {
      const img = this.#d.store.resolve(n);
      this.#d.events.publish('image', 'save', img.id, { name: n });
    }
    return tar;
  }

  async *load(
    archive: Readable,
    options: { quiet: boolean },
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage> {
    await mkdir(this.#d.tmpDir, { recursive: true });
    yield* loadImages(this.#d.store, archive, {
      tmpDir: this.#d.tmpDir,
      quiet: options.quiet,
      signal,
      onLoaded: (id, tags) => {
        this.#d.events.publish('image', 'load', id, { name: tags[0] ?? id });
        for (const t of tags) this.#d.events.publish('image', 'tag', id, { name: t });
      },
    });
  }

  async commit(
    containerRef: string,
    options: {
      repo?: string;
      tag?: string;
      comment?: string;
      author?: string;
      pause: boolean;
      changes: string[];
      config?: Record<string, unknown>;
    },
    signal: AbortSignal,
  ): Promise<{ Id: string }> {
    const source = this.#d.commitSource(containerRef);
    // The API: tag without repo is an error (daemon/commit.go via reference.ParseNormalizedNamed).
    if (options.tag && !options.repo) throw invalidParameter('tag specified without repo');
    const tag = options.repo ? (options.tag ? `${options.repo}:${options.tag}` : options.repo) : undefined;
    const config = applyChanges((options.config ?? {}) as ContainerConfig, options.changes);
    const img = await commitContainer(this.#d.store, source, {
      ...(tag ? { tag } : {}),
      ...(options.comment ? { comment: options.comment } : {}),
      ...(options.author ? { author: options.author } : {}),
      pause: options.pause,
      config: config as ContainerConfig,
      signal,
    });
    this.#d.events.publish('container', 'commit', source.id, {
      comment: options.comment ?? '',
      imageID: img.id,
      imageRef: tag ?? '',
    });
    if (tag) this.#d.events.publish('image', 'tag', img.id, { name: img.repoTags.at(-1) ?? tag });
    return { Id: img.id };
  }
}

function inspectView(img: ImageRecord): ImageInspectResponse {
  const cfg = img.config;
  const emptyConfig = {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: '',
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
  };
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: '',
    Comment: cfg.comment ?? cfg.history?.at(-1)?.comment ?? '',
    Created: cfg.created ?? img.created,
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    // Deprecated; the API handler leaves them out from v1.45 (docker-compose 1.29 reads them).
    Container: cfg.container ?? '',
    ContainerConfig: { ...emptyConfig, ...(cfg.container_config ?? {}) },
    Config: { ...emptyConfig, ...(cfg.config ?? {}) },
    Architecture: cfg.architecture,
    Variant: cfg.variant,
    Os: cfg.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: 'overlay2', Data: {} },
    RootFS: { Type: 'layers', Layers: img.layers },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

function parsePlatform(p: string): { os: string; architecture: string } {
  const [os = 'linux', architecture = process.arch === 'x64' ? 'amd64' : process.arch] = p.split('/');
  return { os, architecture };
}

/** Docker's image list filters: reference, label, dangling, before, since. */
function imageFilter(filters: Filters, resolve: (ref: string) => ImageRecord): (img: ImageRecord) => boolean {
  const allowed = new Set(['reference', 'label', 'dangling', 'before', 'since', 'until']);
  for (const key of Object.keys(filters)) {
    if (!allowed.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  const createdOf = (ref: string) => Date.parse(resolve(ref).created);
  const before = (filters.before ?? []).map(createdOf);
  const since = (filters.since ?? []).map(createdOf);
  return (img) => {
    const any = (key: string, pred: (v: string) => boolean) =>
      !filters[key]?.length || filters[key]!.some(pred);
    const created = Date.parse(img.created);
    return (
      any('dangling', (v) => (v === 'true' || v === '1') === (img.repoTags.length === 0)) &&
      any('label', (v) => {
        const labels = img.config.config?.Labels ?? {};
        const i = v.indexOf('=');
        return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
      }) &&
      any('reference', (v) => img.repoTags.some((t) => globMatch(v.includes(':') ? v : `${v}:*`, t))) &&
      before.every((t) => created < t) &&
      since.every((t) => created > t)
    );
  };
}

/** Docker matches `reference` filters with path.Match-style globs. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  return re.test(value);
}
