/**
 * The Engine: Docker's behaviour behind the API. api/server turns HTTP requests into calls on
 * this interface and its results back into HTTP; it knows nothing else about containers.
 * Every method throws BerthError (src/common) with Docker's wording where clients parse it.
 *
 * Lifecycle: daemon/ builds one Engine (createEngine) at start, calls `init()` to load state and
 * re-adopt running containers, serves, and calls `shutdown()` on exit (running containers keep
 * running: they belong to their shims).
 */
import type { Readable, Writable } from 'node:stream';
import type {
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerPathStat,
  ContainerPruneResponse,
  ContainerStatsResponse,
  ContainerSummary,
  ContainerTopResponse,
  ContainerUpdateRequest,
  ContainerWaitResponse,
  EventMessage,
  ExecCreateRequest,
  ExecInspectResponse,
  ExecStartRequest,
  FilesystemChange,
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageSearchResponseItem,
  ImageInspectResponse,
  ImagePruneResponse,
  ImageSummary,
  JsonMessage,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkDisconnectRequest,
  NetworkPruneResponse,
  NetworkResource,
  SystemDataUsageResponse,
  SystemInfo,
  SystemVersion,
  Volume,
  VolumeCreateRequest,
  VolumeListResponse,
  VolumePruneResponse,
} from '../api/types/index.ts';
import type { BuildOptions } from './build/index.ts';

/** Docker's `filters` query parameter, decoded: `{"status":["running"],"label":["a=b"]}`. */
export type Filters = Record<string, string[]>;

export interface Engine {
  readonly system: SystemService;
  readonly containers: ContainerService;
  readonly execs: ExecService;
  readonly images: ImageService;
  readonly events: EventService;
  /** Optional so engines without a builder (test doubles) need not provide one. */
  readonly builds?: BuildService;
  readonly networks: NetworkService;
  readonly volumes: VolumeService;
  readonly containerFs: ContainerFsService;
  /** /system/df and the container, image and build-cache prunes (engine/system/disk-usage.ts). */
  readonly disk?: DiskService;
  /** GET /containers/{id}/stats (engine/containers/container-stats.ts). */
  readonly stats?: StatsService;
  init(): Promise<void>;
  shutdown(): Promise<void>;
  /**
   * berthd stopping without live-restore: stops every running container (each within
   * `timeoutSeconds`, -1 = no limit), without counting as a manual stop (restart policies apply
   * at the next start).
   */
  stopAll?(timeoutSeconds: number): Promise<void>;
}

export interface SystemService {
  version(): SystemVersion;
  info(): Promise<SystemInfo>;
}

/**
 * A live attach or exec I/O session. `output` is already in wire format: Docker's stdcopy
 * frames when `tty` is false, raw bytes when true. It ends when the process's output ends (or
 * the session is closed). `input` is the process's stdin when requested; ending it sends EOF.
 */
export interface IoSession {
  readonly tty: boolean;
  readonly output: Readable;
  readonly input?: Writable;
  /** Detaches this session without touching the process. Idempotent. */
  close(): void;
}

/** One line of a container log: the bytes as the process wrote them (with their '\n'). */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  line: Buffer;
  /** RFC 3339 with nanoseconds, UTC, as written by the log driver. */
  time: string;
  /** json-file's extra attributes (`--log-opt labels=…`, `env=…`), when the line has them. */
  attrs?: Record<string, string>;
}

export interface LogsOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (fractional allowed); 0 = unset. */
  since: number;
  until: number;
  timestamps: boolean;
  /** 'all' or a number of lines from the end. */
  tail: number | 'all';
}

export interface ContainerService {
  create(
    body: ContainerCreateRequest,
    /** apiVersion: the request's negotiated API version (what is kept or discarded depends on it). */
    options: { name?: string; platform?: string; apiVersion?: string },
  ): Promise<ContainerCreateResponse>;
  inspect(ref: string, options?: { size?: boolean }): Promise<ContainerInspectResponse>;
  list(options: {
    all: boolean;
    limit?: number;
    size: boolean;
    filters: Filters;
  }): Promise<ContainerSummary[]>;
  /** Throws NotModified when already running (Docker answers 304). */
  start(ref: string): Promise<void>;
  /** POST /containers/{id}/update: Resources + RestartPolicy; applied live when running. */
  update(ref: string, body: ContainerUpdateRequest, apiVersion?: string): Promise<{ Warnings: string[] }>;
  /** Freezer; Conflict when not running / already paused (unpause: when not paused). */
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  /** Throws NotModified when not running. `timeout` seconds before SIGKILL (default: the container's StopTimeout or 10). */
  stop(ref: string, options: { timeout?: number; signal?: string }): Promise<void>;
  restart(ref: string, options: { timeout?: number; signal?: string }): Promise<void>;
  kill(ref: string, options: { signal?: string }): Promise<void>;
  /**
   * Validates the request (unknown container → NotFound) and registers the wait; the returned
   * `result` settles when the condition is met. Docker sends the 200 headers in between.
   */
  wait(
    ref: string,
    options: { condition: 'not-running' | 'next-exit' | 'removed'; signal: AbortSignal },
  ): Promise<{ result: Promise<ContainerWaitResponse> }>;
  remove(ref: string, options: { force: boolean; volumes: boolean; link: boolean }): Promise<void>;
  rename(ref: string, newName: string): Promise<void>;
  top(ref: string, psArgs?: string): Promise<ContainerTopResponse>;
  logs(
    ref: string,
    options: LogsOptions,
    signal: AbortSignal,
  ): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }>;
  attach(
    ref: string,
    options: {
      stream: boolean;
      logs: boolean;
      stdin: boolean;
      stdout: boolean;
      stderr: boolean;
      detachKeys?: string;
    },
  ): Promise<IoSession>;
  resize(ref: string, height: number, width: number): Promise<void>;
}

export interface ExecService {
  create(containerRef: string, body: ExecCreateRequest): Promise<{ Id: string }>;
  /** With `Detach`, resolves once started and the session is undefined. */
  start(execId: string, body: ExecStartRequest): Promise<IoSession | undefined>;
  inspect(execId: string): Promise<ExecInspectResponse>;
  resize(execId: string, height: number, width: number): Promise<void>;
}

export interface ImageService {
  list(options: { all: boolean; filters: Filters; digests: boolean }): Promise<ImageSummary[]>;
  inspect(ref: string): Promise<ImageInspectResponse>;
  history(ref: string): Promise<ImageHistoryResponseItem[]>;
  /** POST /images/create?fromSrc=- : the progress stream Docker sends (`{"status":"sha256:…"}`). */
  import(
    tar: Readable,
    options: { repo?: string; tag?: string; message?: string; changes: string[]; platform?: string },
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage>;
  tag(ref: string, repo: string, tag?: string): Promise<void>;
  remove(ref: string, options: { force: boolean; noPrune: boolean }): Promise<ImageDeleteResponseItem[]>;
  /** GET /images/get: the `docker save` archive of the named images (checked before streaming). */
  save(names: string[], signal: AbortSignal): Promise<Readable>;
  /** POST /images/load: JSON messages ("Loaded image: …"). */
  load(archive: Readable, options: { quiet: boolean }, signal: AbortSignal): AsyncIterable<JsonMessage>;
  /** POST /commit: the new image's ID. */
  commit(
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
  ): Promise<{ Id: string }>;
  /** POST /images/create?fromImage: Docker's pull progress stream. */
  pull(
    options: { fromImage: string; tag?: string; platform?: string },
    auth: RegistryAuth | undefined,
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage>;
  /** POST /images/{name}/push: Docker's push progress stream (all tags of `name` without `tag`). */
  push(
    name: string,
    options: { tag?: string },
    auth: RegistryAuth | undefined,
    signal: AbortSignal,
  ): AsyncIterable<JsonMessage>;
  /** GET /images/search: the index's repositories matching the term (docker search). */
  search(
    options: { term: string; limit?: number; filters: Filters },
    auth: RegistryAuth | undefined,
    signal: AbortSignal,
  ): Promise<ImageSearchResponseItem[]>;
  /** POST /auth: checks the credentials against the registry. */
  login(auth: RegistryAuth, signal: AbortSignal): Promise<{ Status: string; IdentityToken?: string }>;
}

/** Docker's AuthConfig (X-Registry-Auth, POST /auth), decoded. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

/** The classic builder (engine/build): POST /build and /build/prune. */
export interface BuildService {
  /** Docker's JSON message stream of a build of the context tar; errors after the start come in-band. */
  build(context: Readable, options: BuildOptions, signal: AbortSignal): AsyncIterable<JsonMessage>;
  /** Drops the build cache records (`docker builder prune`). */
  prune(): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;
}

export interface EventService {
  /** Past events from `since` (buffered), then live ones until `until` or the signal aborts. */
  subscribe(
    options: { since?: number; until?: number; filters: Filters },
    signal: AbortSignal,
  ): AsyncIterable<EventMessage>;
}

/** Docker's /networks verbs (engine/networks). */
export interface NetworkService {
  list(options: { filters: Filters }): Promise<NetworkResource[]>;
  inspect(ref: string): Promise<NetworkResource>;
  create(body: NetworkCreateRequest): Promise<NetworkCreateResponse>;
  remove(ref: string): Promise<void>;
  prune(options: { filters: Filters }): Promise<NetworkPruneResponse>;
  connect(ref: string, body: NetworkConnectRequest): Promise<void>;
  disconnect(ref: string, body: NetworkDisconnectRequest): Promise<void>;
}

export interface VolumeService {
  create(body: VolumeCreateRequest): Promise<Volume>;
  list(filters: Filters): Promise<VolumeListResponse>;
  inspect(name: string): Promise<Volume>;
  remove(name: string, options: { force: boolean }): Promise<void>;
  prune(filters: Filters): Promise<VolumePruneResponse>;
}

/** A container's files from outside: cp (archive), diff (changes) and export. */
export interface ContainerFsService {
  /** HEAD /containers/{id}/archive. */
  statPath(ref: string, path: string): Promise<ContainerPathStat>;
  /** GET /containers/{id}/archive: the stat, then the tar; `done` settles when it is all written. */
  getArchive(
    ref: string,
    path: string,
    signal: AbortSignal,
  ): Promise<{ stat: ContainerPathStat; tar: Readable; done: Promise<void> }>;
  /** PUT /containers/{id}/archive: extracts `tar` into the directory `path`. */
  putArchive(
    ref: string,
    path: string,
    tar: Readable,
    options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
    signal: AbortSignal,
  ): Promise<void>;
  /** GET /containers/{id}/changes (null when there are none, as Docker sends). */
  changes(ref: string): Promise<FilesystemChange[] | null>;
  /** GET /containers/{id}/export. */
  export(ref: string, signal: AbortSignal): Promise<{ tar: Readable; done: Promise<void> }>;
}

/** Disk usage and the prunes that span containers and images. */
export interface DiskService {
  /** GET /system/df (`types`: container, image, volume, build-cache; empty = all). */
  df(types?: string[]): Promise<SystemDataUsageResponse>;
  pruneContainers(filters: Filters): Promise<ContainerPruneResponse>;
  pruneImages(filters: Filters): Promise<ImagePruneResponse>;
  pruneBuildCache(filters: Filters): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}

/** Resource usage samples of a container, in Docker's StatsJSON shape. */
export interface StatsService {
  /**
   * Resolves `ref` (throws NotFound before anything is sent) and returns its samples: one a
   * second while `stream`, else one (`oneShot`: at once, without precpu).
   */
  open(
    ref: string,
    options: { stream: boolean; oneShot: boolean },
    signal: AbortSignal,
  ): AsyncIterable<ContainerStatsResponse>;
}
