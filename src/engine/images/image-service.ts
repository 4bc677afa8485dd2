/**
 * The image verbs of the Engine API over the image store: list, inspect, history, import,
 * tag and remove, with Docker's JSON shapes and events.
 */
import type { Readable } from 'node:stream';
import type {
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageInspectResponse,
  ImageSummary,
  JsonMessage,
} from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';
import type { ImageRecord, ImageStore, ImportOptions } from '../../image/index.ts';
import type { Filters, ImageService } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { applyChanges } from './changes.ts';

export interface ImageServiceDeps {
  store: ImageStore;
  events: EventBus;
  /** The containers that use an image: Docker refuses to delete those. */
  imageUsers: (imageId: string) => Array<{ id: string; running: boolean }>;
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

  async history(ref: string): Promise<ImageHistoryResponseItem[]> {
    const img = this.#d.store.resolve(ref);
    const history = img.config.history ?? [];
    // Newest first, like Docker. Only the newest entry carries the image id and tags.
    return history
      .map((h, i) => ({
        Id: i === history.length - 1 ? img.id : '<missing>',
        Created: Math.floor(Date.parse(h.created ?? img.created) / 1000),
        CreatedBy: h.created_by ?? '',
        Tags: i === history.length - 1 ? img.repoTags : null,
        Size: 0,
        Comment: h.comment ?? '',
      }))
      .reverse();
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
}

function inspectView(img: ImageRecord): ImageInspectResponse {
  const cfg = img.config;
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: '',
    Comment: cfg.comment ?? cfg.history?.at(-1)?.comment ?? '',
    Created: cfg.created ?? img.created,
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: {
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
      ...(cfg.config ?? {}),
    },
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
