/**
 * A typed Docker Engine API client. Construct one per process with the daemon URL; the first
 * call pings the daemon once to negotiate the API version (min of the server's `API-Version`
 * and ours), and every later request is sent under that `/v1.xx` prefix.
 *
 * Errors: an error status becomes DaemonError (the server's message, kind from the status), a
 * daemon that is not listening becomes DaemonUnreachableError. Streams (logs, events, pull,
 * import) are async iterables that end when the daemon ends the response; pass an AbortSignal
 * to stop early. Hijacked streams (attach, exec start) are raw duplex sockets the caller ends.
 */
import type { Duplex, Readable } from 'node:stream';
import type {
  ContainerCreateRequest,
  ContainerUpdateRequest,
  ContainerUpdateResponse,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerSummary,
  ContainerTopResponse,
  ContainerWaitResponse,
  EventMessage,
  ExecCreateRequest,
  ExecInspectResponse,
  ExecStartRequest,
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageSearchResponseItem,
  ImagePruneResponse,
  ImageInspectResponse,
  ImageSummary,
  JsonMessage,
  SystemInfo,
  SystemVersion,
  ContainerPathStat,
  ContainerPruneResponse,
  ContainerStatsResponse,
  FilesystemChange,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkPruneResponse,
  NetworkResource,
  SystemDataUsageResponse,
  Volume,
  VolumeCreateRequest,
  VolumeListResponse,
  VolumePruneResponse,
} from '../api/types/index.ts';
import { API_VERSION_CURRENT, compareApiVersions } from '../api/types/version.ts';
import { DaemonError } from './errors.ts';
import { parseHost, resolveHost } from './host.ts';
import type { ClientTls } from './tls.ts';
import { jsonLines, type OutputFrame, outputFrames } from './streams.ts';
import { type QueryValue, type RequestOptions, readBody, Transport } from './transport.ts';

export interface ClientOptions {
  /** Daemon URL (`unix:///path`, `tcp://host:port`); default from resolveHost(). */
  host?: string;
  /** Skip negotiation and use this API version. */
  apiVersion?: string;
  /** TLS to a tcp daemon (resolveClientTls). */
  tls?: ClientTls;
}

export interface PingInfo {
  apiVersion: string;
  osType?: string;
  experimental: boolean;
  builderVersion?: string;
}

/** Docker's filter map (`{"status": ["running"]}`), sent JSON-encoded as `filters=`. */
export type Filters = Record<string, string[]>;

export interface ContainerListOptions {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: Filters;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  tail?: string;
  /** json-file attributes before each line (`docker logs --details`). */
  details?: boolean;
  /** Whether the container has a TTY (then the stream is raw, not stdcopy-framed). */
  tty: boolean;
  signal?: AbortSignal;
}

export interface AttachOptions {
  stream?: boolean;
  logs?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  detachKeys?: string;
}

export interface EventsOptions {
  since?: string;
  until?: string;
  filters?: Filters;
  signal?: AbortSignal;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes?: string[];
  message?: string;
  platform?: string;
}

/** A pending `POST /containers/{id}/wait`: `registered` settles once the daemon answered headers. */
export interface PendingWait {
  registered: Promise<void>;
  result: Promise<ContainerWaitResponse>;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const enc = encodeURIComponent;

/**
 * Docker's filters.ToJSON: `{"status":{"running":true}}`, the form every daemon version reads
 * (the newer list form is not understood by old ones).
 */
export function filtersQuery(filters: Filters | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const [key, values] of Object.entries(filters)) {
    out[key] = Object.fromEntries(values.map((v) => [v, true]));
  }
  return JSON.stringify(out);
}

export class EngineClient {
  readonly #transport: Transport;
  readonly #host: string;
  #version: Promise<string> | undefined;

  constructor(opts: ClientOptions = {}) {
    this.#host = resolveHost(opts.host);
    this.#transport = new Transport(parseHost(this.#host), opts.tls);
    if (opts.apiVersion) this.#version = Promise.resolve(opts.apiVersion);
  }

  /** The daemon URL this client talks to. */
  get host(): string {
    return this.#host;
  }

  /** The negotiated API version (pings the daemon on first use). */
  apiVersion(): Promise<string> {
    this.#version ??= this.ping().then((p) => p.apiVersion);
    return this.#version;
  }

  /** Frees idle connections so the process can exit promptly. */
  close(): void {
    this.#transport.close();
  }

  // ---- system

  /** GET /_ping (unversioned). The API version is min(server's, ours). */
  async ping(signal?: AbortSignal): Promise<PingInfo> {
    const res = await this.#transport.request('GET', '/_ping', { signal });
    await readBody(res);
    const header = (name: string) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    // Docker's client assumes 1.24 when an old daemon sends no API-Version header.
    const server = header('API-Version') || '1.24';
    const apiVersion = compareApiVersions(server, API_VERSION_CURRENT) < 0 ? server : API_VERSION_CURRENT;
    return {
      apiVersion,
      osType: header('OSType'),
      experimental: header('Docker-Experimental') === 'true',
      builderVersion: header('Builder-Version'),
    };
  }

  version(): Promise<SystemVersion> {
    return this.#json('GET', '/version');
  }

  info(): Promise<SystemInfo> {
    return this.#json('GET', '/info');
  }

  /** GET /events: yields events until the daemon ends the stream (`until`) or `signal` aborts. */
  async *events(opts: EventsOptions = {}): AsyncGenerator<EventMessage> {
    const res = await this.#request('GET', '/events', {
      query: { since: opts.since, until: opts.until, filters: filtersQuery(opts.filters) },
      signal: opts.signal,
    });
    yield* jsonLines<EventMessage>(res);
  }

  // ---- containers

  containerCreate(
    body: ContainerCreateRequest,
    opts: { name?: string; platform?: string } = {},
  ): Promise<ContainerCreateResponse> {
    return this.#json('POST', '/containers/create', {
      query: { name: opts.name || undefined, platform: opts.platform || undefined },
      body,
    });
  }

  containerList(opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    return this.#json('GET', '/containers/json', {
      query: {
        all: opts.all || undefined,
        limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
        size: opts.size || undefined,
        filters: filtersQuery(opts.filters),
      },
    });
  }

  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspectResponse> {
    return this.#json('GET', `/containers/${enc(id)}/json`, { query: { size: opts.size || undefined } });
  }

  containerUpdate(id: string, body: ContainerUpdateRequest): Promise<ContainerUpdateResponse> {
    return this.#json('POST', `/containers/${enc(id)}/update`, { body });
  }

  async containerPause(id: string): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/pause`);
  }

  async containerUnpause(id: string): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/unpause`);
  }

  async containerStart(id: string, opts: { detachKeys?: string } = {}): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/start`, { query: { detachKeys: opts.detachKeys } });
  }

  async containerStop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/stop`, {
      query: { t: opts.timeout, signal: opts.signal },
    });
  }

  async containerRestart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/restart`, {
      query: { t: opts.timeout, signal: opts.signal },
    });
  }

  async containerKill(id: string, signal?: string): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }

  async containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}) {
    await this.#empty('DELETE', `/containers/${enc(id)}`, {
      query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined },
    });
  }

  async containerRename(id: string, name: string): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/rename`, { query: { name } });
  }

  containerTop(id: string, psArgs?: string): Promise<ContainerTopResponse> {
    return this.#json('GET', `/containers/${enc(id)}/top`, { query: { ps_args: psArgs || undefined } });
  }

  async containerResize(id: string, height: number, width: number): Promise<void> {
    await this.#empty('POST', `/containers/${enc(id)}/resize`, { query: { h: height, w: width } });
  }

  /**
   * POST /containers/{id}/wait. The daemon sends headers as soon as it has registered the
   * waiter, so awaiting `registered` before starting a container guarantees its exit is seen
   * (docker/cli waitExitOrRemoved).
   */
  containerWait(id: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): PendingWait {
    const response = this.#request('POST', `/containers/${enc(id)}/wait`, { query: { condition }, signal });
    const result = response.then(async (res) => {
      const text = await readBody(res);
      const body = JSON.parse(text) as ContainerWaitResponse;
      return body;
    });
    return { registered: response.then(() => undefined), result };
  }

  /** GET /containers/{id}/logs as frames (demultiplexed unless `tty`). */
  async *containerLogs(id: string, opts: LogsOptions): AsyncGenerator<OutputFrame> {
    const res = await this.#request('GET', `/containers/${enc(id)}/logs`, {
      query: {
        follow: opts.follow || undefined,
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        since: opts.since,
        until: opts.until,
        timestamps: opts.timestamps || undefined,
        tail: opts.tail,
        details: opts.details || undefined,
      },
      signal: opts.signal,
    });
    yield* outputFrames(res, opts.tty);
  }

  /** POST /containers/{id}/attach, hijacked: the returned socket carries stdin out and output in. */
  async containerAttach(id: string, opts: AttachOptions): Promise<Duplex> {
    const path = await this.#path(`/containers/${enc(id)}/attach`);
    return this.#transport.hijack('POST', path, {
      query: {
        stream: opts.stream ?? true,
        logs: opts.logs || undefined,
        stdin: opts.stdin || undefined,
        stdout: opts.stdout || undefined,
        stderr: opts.stderr || undefined,
        detachKeys: opts.detachKeys,
      },
    });
  }

  // ---- exec

  execCreate(containerId: string, body: ExecCreateRequest): Promise<{ Id: string }> {
    return this.#json('POST', `/containers/${enc(containerId)}/exec`, { body });
  }

  /** POST /exec/{id}/start with Detach: the daemon starts the process and answers at once. */
  async execStartDetached(execId: string, body: ExecStartRequest = {}): Promise<void> {
    await this.#empty('POST', `/exec/${enc(execId)}/start`, { body: { ...body, Detach: true } });
  }

  /** POST /exec/{id}/start, hijacked: the socket carries the process's stdio. */
  async execStart(execId: string, body: ExecStartRequest = {}): Promise<Duplex> {
    const path = await this.#path(`/exec/${enc(execId)}/start`);
    return this.#transport.hijack('POST', path, { body: { ...body, Detach: false } });
  }

  execInspect(execId: string): Promise<ExecInspectResponse> {
    return this.#json('GET', `/exec/${enc(execId)}/json`);
  }

  async execResize(execId: string, height: number, width: number): Promise<void> {
    await this.#empty('POST', `/exec/${enc(execId)}/resize`, { query: { h: height, w: width } });
  }

  // ---- images

  imageList(opts: { all?: boolean; digests?: boolean; filters?: Filters } = {}): Promise<ImageSummary[]> {
    return this.#json('GET', '/images/json', {
      query: {
        all: opts.all || undefined,
        digests: opts.digests || undefined,
        filters: filtersQuery(opts.filters),
      },
    });
  }

  imageInspect(name: string): Promise<ImageInspectResponse> {
    return this.#json('GET', `/images/${name}/json`);
  }

  async imageTag(source: string, repo: string, tag?: string): Promise<void> {
    await this.#empty('POST', `/images/${source}/tag`, { query: { repo, tag: tag || undefined } });
  }

  /** GET /images/search (docker search); `registryAuth` is the X-Registry-Auth value. */
  imageSearch(
    term: string,
    opts: { limit?: number; filters?: Filters; registryAuth?: string } = {},
  ): Promise<ImageSearchResponseItem[]> {
    return this.#json('GET', '/images/search', {
      query: { term, limit: opts.limit, filters: filtersQuery(opts.filters) },
      ...(opts.registryAuth ? { headers: { 'X-Registry-Auth': opts.registryAuth } } : {}),
    });
  }

  imageHistory(name: string): Promise<ImageHistoryResponseItem[]> {
    return this.#json('GET', `/images/${name}/history`);
  }

  imageRemove(
    name: string,
    opts: { force?: boolean; noPrune?: boolean } = {},
  ): Promise<ImageDeleteResponseItem[]> {
    return this.#json('DELETE', `/images/${name}`, {
      query: { force: opts.force || undefined, noprune: opts.noPrune || undefined },
    });
  }

  /**
   * POST /images/create?fromImage=…: yields the daemon's progress messages. A message with
   * `error` is thrown as a DaemonError (Docker reports pull failures inside a 200 stream).
   */
  async *imagePull(
    image: string,
    tag?: string,
    opts: { platform?: string; signal?: AbortSignal; registryAuth?: string } = {},
  ) {
    const res = await this.#request('POST', '/images/create', {
      query: { fromImage: image, tag, platform: opts.platform },
      signal: opts.signal,
      ...(opts.registryAuth ? { headers: { 'X-Registry-Auth': opts.registryAuth } } : {}),
    });
    yield* progressMessages(res);
  }

  /** POST /images/{name}/push: progress messages; `registryAuth` is the X-Registry-Auth value. */
  async *imagePush(name: string, opts: { tag?: string; registryAuth?: string; signal?: AbortSignal } = {}) {
    const res = await this.#request('POST', `/images/${name}/push`, {
      query: { tag: opts.tag },
      // dockerd requires the header; an empty AuthConfig is "{}".
      headers: { 'X-Registry-Auth': opts.registryAuth ?? Buffer.from('{}').toString('base64url') },
      signal: opts.signal,
    });
    yield* progressMessages(res);
  }

  /** GET /images/get?names=…: the `docker save` tar stream. */
  async imageSave(names: string[], opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const path = await this.#path('/images/get');
    const q = names.map((n) => `names=${enc(n)}`).join('&');
    return this.#transport.request('GET', `${path}?${q}`, { signal: opts.signal });
  }

  /** POST /images/load: streams `source` (a docker save archive, maybe compressed). */
  async *imageLoad(source: Readable, opts: { quiet?: boolean } = {}): AsyncGenerator<JsonMessage> {
    const res = await this.#request('POST', '/images/load', {
      query: { quiet: opts.quiet || undefined },
      body: source,
    });
    yield* progressMessages(res);
  }

  /** POST /commit */
  async containerCommit(
    container: string,
    opts: {
      repo?: string;
      tag?: string;
      comment?: string;
      author?: string;
      pause?: boolean;
      changes?: string[];
    } = {},
  ): Promise<{ Id: string }> {
    const path = await this.#path('/commit');
    const query: Record<string, QueryValue> = {
      container,
      repo: opts.repo,
      tag: opts.tag,
      comment: opts.comment,
      author: opts.author,
      pause: opts.pause === false ? '0' : undefined,
    };
    const changes = (opts.changes ?? []).map((c) => `&changes=${enc(c)}`).join('');
    const res = await this.#transport.request('POST', `${path}${queryPrefix(query)}${changes}`, { body: {} });
    const text = await readBody(res);
    return JSON.parse(text) as { Id: string };
  }

  /** POST /auth */
  registryLogin(auth: { username?: string; password?: string; serveraddress?: string }) {
    return this.#json<{ Status: string; IdentityToken?: string }>('POST', '/auth', { body: auth });
  }

  /** POST /images/create?fromSrc=-: streams `source` (a tar, possibly compressed) as the body. */
  async *imageImport(source: Readable, opts: ImportOptions = {}): AsyncGenerator<JsonMessage> {
    const query: Record<string, QueryValue> = {
      fromSrc: '-',
      repo: opts.repo,
      tag: opts.tag,
      message: opts.message,
      platform: opts.platform,
    };
    const path = await this.#path('/images/create');
    const changes = (opts.changes ?? []).map((c) => `&changes=${enc(c)}`).join('');
    const res = await this.#transport.request('POST', `${path}${queryPrefix(query)}${changes}`, {
      body: source,
    });
    yield* progressMessages(res);
  }

  /**
   * POST /build with a tar context: Docker's classic build stream (`stream` lines, `aux` ID).
   * An error message in the stream throws.
   */
  async *build(context: Readable, opts: BuildOptions): AsyncGenerator<JsonMessage> {
    const params = new URLSearchParams();
    for (const t of opts.tags) params.append('t', t);
    if (opts.dockerfile) params.set('dockerfile', opts.dockerfile);
    if (Object.keys(opts.buildArgs).length) params.set('buildargs', JSON.stringify(opts.buildArgs));
    if (Object.keys(opts.labels).length) params.set('labels', JSON.stringify(opts.labels));
    if (opts.target) params.set('target', opts.target);
    if (opts.noCache) params.set('nocache', '1');
    if (opts.quiet) params.set('q', '1');
    if (opts.network) params.set('networkmode', opts.network);
    params.set('rm', opts.rm ? '1' : '0');
    if (opts.forceRm) params.set('forcerm', '1');
    if (opts.pull) params.set('pull', '1');
    if (opts.cacheFrom?.length) params.set('cachefrom', JSON.stringify(opts.cacheFrom));
    if (opts.platform) params.set('platform', opts.platform);
    if (opts.remote) params.set('remote', opts.remote);
    const path = await this.#path('/build');
    const res = await this.#transport.request('POST', `${path}?${params.toString()}`, {
      body: context,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    yield* progressMessages(res);
  }

  // ---- volumes, networks, container filesystems, disk usage and prunes

  volumeCreate(body: VolumeCreateRequest): Promise<Volume> {
    return this.#json('POST', '/volumes/create', { body });
  }

  volumeList(opts: { filters?: Filters } = {}): Promise<VolumeListResponse> {
    return this.#json('GET', '/volumes', { query: { filters: filtersQuery(opts.filters) } });
  }

  volumeInspect(name: string): Promise<Volume> {
    return this.#json('GET', `/volumes/${enc(name)}`);
  }

  async volumeRemove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#empty('DELETE', `/volumes/${enc(name)}`, { query: { force: opts.force || undefined } });
  }

  volumePrune(opts: { filters?: Filters } = {}): Promise<VolumePruneResponse> {
    return this.#json('POST', '/volumes/prune', { query: { filters: filtersQuery(opts.filters) } });
  }

  networkCreate(body: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.#json('POST', '/networks/create', { body });
  }

  networkList(opts: { filters?: Filters } = {}): Promise<NetworkResource[]> {
    return this.#json('GET', '/networks', { query: { filters: filtersQuery(opts.filters) } });
  }

  networkInspect(id: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<NetworkResource> {
    return this.#json('GET', `/networks/${enc(id)}`, {
      query: { verbose: opts.verbose || undefined, scope: opts.scope },
    });
  }

  async networkConnect(id: string, body: NetworkConnectRequest): Promise<void> {
    await this.#empty('POST', `/networks/${enc(id)}/connect`, { body });
  }

  async networkDisconnect(id: string, container: string, force = false): Promise<void> {
    await this.#empty('POST', `/networks/${enc(id)}/disconnect`, {
      body: { Container: container, Force: force },
    });
  }

  async networkRemove(id: string): Promise<void> {
    await this.#empty('DELETE', `/networks/${enc(id)}`);
  }

  networkPrune(opts: { filters?: Filters } = {}): Promise<NetworkPruneResponse> {
    return this.#json('POST', '/networks/prune', { query: { filters: filtersQuery(opts.filters) } });
  }

  /** GET /system/df (`types` needs API 1.42; older daemons answer every kind). */
  diskUsage(): Promise<SystemDataUsageResponse> {
    return this.#json('GET', '/system/df');
  }

  containerPrune(opts: { filters?: Filters } = {}): Promise<ContainerPruneResponse> {
    return this.#json('POST', '/containers/prune', { query: { filters: filtersQuery(opts.filters) } });
  }

  imagePrune(opts: { filters?: Filters } = {}): Promise<ImagePruneResponse> {
    return this.#json('POST', '/images/prune', { query: { filters: filtersQuery(opts.filters) } });
  }

  buildCachePrune(
    opts: { all?: boolean; filters?: Filters } = {},
  ): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.#json('POST', '/build/prune', {
      query: { all: opts.all || undefined, filters: filtersQuery(opts.filters) },
    });
  }

  /** GET /containers/{id}/changes (null when nothing changed). */
  containerChanges(id: string): Promise<FilesystemChange[] | null> {
    return this.#json('GET', `/containers/${enc(id)}/changes`);
  }

  /** GET /containers/{id}/export: the tar of the container's filesystem. */
  containerExport(id: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    return this.#request('GET', `/containers/${enc(id)}/export`, { signal: opts.signal });
  }

  /**
   * GET /containers/{id}/stats: samples in Docker's StatsJSON shape, one a second while `stream`,
   * else one (`oneShot`: at once without precpu; otherwise the daemon primes precpu first).
   */
  async *containerStats(
    id: string,
    opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal },
  ): AsyncGenerator<ContainerStatsResponse> {
    const res = await this.#request('GET', `/containers/${enc(id)}/stats`, {
      query: { stream: opts.stream ? '1' : '0', 'one-shot': opts.oneShot ? '1' : undefined },
      signal: opts.signal,
    });
    yield* jsonLines<ContainerStatsResponse>(res);
  }

  /** HEAD /containers/{id}/archive: the stat of a path in the container. */
  async containerStatPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.#request('HEAD', `/containers/${enc(id)}/archive`, { query: { path } });
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  }

  /** GET /containers/{id}/archive: the path's stat and a tar of it. */
  async containerGetArchive(
    id: string,
    path: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ stat: ContainerPathStat; tar: Readable }> {
    const res = await this.#request('GET', `/containers/${enc(id)}/archive`, {
      query: { path },
      signal: opts.signal,
    });
    return { stat: decodePathStat(res.headers['x-docker-container-path-stat']), tar: res };
  }

  /** PUT /containers/{id}/archive: extracts `tar` into the directory `path`. */
  async containerPutArchive(
    id: string,
    path: string,
    tar: Readable,
    opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {},
  ): Promise<void> {
    await this.#empty('PUT', `/containers/${enc(id)}/archive`, {
      query: {
        path,
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir || undefined,
        copyUIDGID: opts.copyUIDGID || undefined,
      },
      body: tar,
    });
  }

  // ---- plumbing

  async #path(path: string): Promise<string> {
    return `/v${await this.apiVersion()}${path}`;
  }

  async #request(method: string, path: string, opts: RequestOptions = {}) {
    return this.#transport.request(method, await this.#path(path), opts);
  }

  async #json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const text = await readBody(await this.#request(method, path, opts));
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  async #empty(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    await readBody(await this.#request(method, path, opts));
  }
}

export interface BuildOptions {
  tags: string[];
  dockerfile?: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  quiet: boolean;
  network?: string;
  rm: boolean;
  forceRm: boolean;
  pull?: boolean;
  cacheFrom?: string[];
  platform?: string;
  /** A git repository or URL the daemon fetches as the context. */
  remote?: string;
}

async function* progressMessages(res: Readable): AsyncGenerator<JsonMessage> {
  for await (const msg of jsonLines<JsonMessage>(res)) {
    if (msg.error || msg.errorDetail) {
      throw new DaemonError(500, msg.errorDetail?.message ?? msg.error ?? 'unknown error');
    }
    yield msg;
  }
}

function queryPrefix(query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.append(k, String(v));
  }
  return `?${params.toString()}`;
}

/** The base64 JSON of X-Docker-Container-Path-Stat. */
function decodePathStat(header: string | string[] | undefined): ContainerPathStat {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) throw new DaemonError(500, 'no X-Docker-Container-Path-Stat header in the response');
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as ContainerPathStat;
}
