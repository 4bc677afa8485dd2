/**
 * The classic builder (moby builder/dockerfile), over our image store, snapshots and containers.
 *
 * build(): the context tar is received into a temp dir under `<dataRoot>/build-tmp/` and indexed
 * as it arrives (context.ts; COPY/ADD read its files from the tar, it is never unpacked), the
 * Dockerfile parsed, and the stages up to the target run in order. Each instruction is a step
 * that makes an image whose parent is the previous one:
 * - metadata steps (ENV, LABEL, CMD, …) commit the new config with an empty layer;
 * - RUN creates a container from the current image with the shell command, streams its output,
 *   waits, and commits the container's changes: with --rm (the default) its upper dir becomes the
 *   layer directory (ImageStore.addContainerLayer); a kept or user-namespaced container's diff is
 *   packed and unpacked (SnapshotStore.diff → ImageStore.addLayer);
 * - COPY/ADD/WORKDIR prepare a snapshot of the current image, mount it, write the files, unmount
 *   it and commit its upper dir as the layer directory (addContainerLayer).
 * Before running, a step looks up the cache (BuildCache); a hit reuses the image. A COPY/ADD's
 * key comes from a hash of its sources (cache-key.ts), so a hit prepares no snapshot (nor mounts
 * a COPY --from image whose sources were hashed before).
 * Temporary containers, snapshots and the context dir are removed whatever happens; on failure
 * nothing is tagged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, readFile, readdir, realpath, rm, statfs } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { JsonMessage } from '../../api/types/index.ts';
import {
  type Digest,
  type Logger,
  StdcopyDecoder,
  invalidParameter,
  isBerthError,
  newId,
  notFound,
  shortId,
} from '../../common/index.ts';
import {
  type CommandForm,
  type Dockerfile,
  DockerfileParseError,
  type Instruction,
  type Stage,
  ShellLexError,
  envLookup,
  parseDockerfile,
  parseInstruction,
  processWord,
  processWords,
  toStages,
} from '../../dockerfile/index.ts';
import type { ImageRecord, ImageStore, LayerRecord, SnapshotStore } from '../../image/index.ts';
import type { ContainerConfig, HealthConfig, ImageConfig } from '../../oci/index.ts';
import type { Containers } from '../containers/container-service.ts';
import type { RegistryAuth } from '../engine.ts';
import { BuildCache } from './build-cache.ts';
import { type BuildCacheGcPolicy, selectForGc } from './build-cache-gc.ts';
import { CacheFrom, type PullFn, getBaseImage } from './base-image.ts';
import { copyKeyExtra, sourceSummary } from './cache-key.ts';
import { parseChmod } from './chmod.ts';
import { BuildContext } from './context.ts';
import type { SourceFs } from './source-fs.ts';
import { type MatchedSource, applyCopy, matchSources, planCopy, resolveChown } from './copy.ts';
import { exposeWords, fsCmd, healthcheckComment, metaCmd, withCliLabels } from './history.ts';
import { checkPlatform } from './platform.ts';
import { fetchRemoteContext } from './remote-context.ts';
import {
  type Download,
  checkChecksumFlag,
  downloadSource,
  isRemoteUrl,
  mergePlans,
  mergeSummaries,
} from './remote-source.ts';
import { OrderedOutput, planStages, runStageGraph } from './stages.ts';

export interface BuildOptions {
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  labels: Record<string, string>;
  networkMode?: string;
  quiet: boolean;
  /** Resources of the RUN containers (memory, cpu…, ulimits, extra hosts) as a HostConfig. */
  hostConfig?: Record<string, unknown>;
  /** `remote`: a git repository or URL the daemon fetches as the context (remote-context.ts). */
  remote?: string;
  /** `--pull`: pull every FROM / COPY --from image even when it is present. */
  pull?: boolean;
  /** `--cache-from`: local images whose history can satisfy steps (base-image.ts CacheFrom). */
  cacheFrom?: string[];
  /** X-Registry-Config: credentials per registry, for the pulls. */
  authConfigs?: Record<string, RegistryAuth>;
  /** `--platform`: only the host's is accepted (platform.ts). */
  platform?: string;
  /** Remove intermediate containers after a successful step (default true). */
  rm: boolean;
  /** Remove them even after a failed step. */
  forceRm: boolean;
  /**
   * Called once the Dockerfile is parsed: from then on errors belong in the JSON stream (moby
   * replies with an HTTP error only before that).
   */
  onStart?: () => void;
}

export interface BuilderDeps {
  dataRoot: string;
  images: ImageStore;
  snapshots: SnapshotStore;
  containers: Containers;
  log: Logger;
  /** Pulls an image (POST /images/create); without it a missing image is an error. */
  pull?: PullFn;
  /** daemon.json builder.gc: applied at start and after every build (build-cache-gc.ts). */
  cacheGc?: BuildCacheGcPolicy;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DOCKER_VERSION = '28.2.2';

/** Build args Docker passes without an ARG (builder/dockerfile/buildargs.go builtinAllowedBuildArgs). */
const BUILTIN_ARGS = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

interface StageState {
  /** Current image; undefined while a `FROM scratch` stage has no step yet. */
  imageId?: Digest;
  image: ImageConfig;
  /** Declared ARGs of this stage with their values (undefined: declared without value). */
  args: Map<string, string | undefined>;
  /** Index of the stage in the file: only earlier stages can be named by FROM and COPY --from. */
  stage: number;
  /** `--cache-from` images, looked up afresh for every stage (moby imageProber.Reset). */
  cacheFrom?: CacheFrom;
  /** The run config of the step being dispatched (what a cache-from image restored gets). */
  stepConfig?: ContainerConfig;
}

export class Builder {
  readonly #d: BuilderDeps;
  readonly cache: BuildCache;
  #swept: Promise<void> | undefined;

  constructor(deps: BuilderDeps) {
    this.#d = deps;
    this.cache = new BuildCache(join(deps.dataRoot, 'build-cache'), {
      trackUse: deps.cacheGc?.enabled === true,
    });
    if (deps.cacheGc?.enabled) setImmediate(() => void this.collectGarbage());
  }

  /** Removes the step-cache records builder.gc's rules select; resolves with their keys. */
  async collectGarbage(): Promise<string[]> {
    const policy = this.#d.cacheGc;
    if (!policy?.enabled) return [];
    try {
      const fs = await statfs(this.#d.dataRoot);
      const drop = new Set(selectForGc(await this.cache.list(), policy, fs.bavail * fs.bsize));
      if (drop.size === 0) return [];
      const dropped = await this.cache.prune((r) => !drop.has(r.key));
      this.#d.log.info('build cache garbage collected', { records: dropped.length });
      return dropped;
    } catch (err) {
      this.#d.log.warn('build cache garbage collection failed', { err });
      return [];
    }
  }

  /** POST /build: Docker's JSON message stream for a build of the context tar. */
  build(context: Readable, options: BuildOptions, signal: AbortSignal): AsyncIterable<JsonMessage> {
    const queue: JsonMessage[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let failure: unknown;
    const push = (m: JsonMessage) => {
      queue.push(m);
      wake?.();
    };
    void this.#withSource(context, options, signal, (source) => this.#run(source, options, signal, push))
      .catch((err) => {
        failure = err;
      })
      .finally(() => {
        done = true;
        wake?.();
        if (this.#d.cacheGc?.enabled) void this.collectGarbage();
      });
    return {
      async *[Symbol.asyncIterator]() {
        while (true) {
          while (queue.length > 0) yield queue.shift()!;
          if (done) break;
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
        if (failure !== undefined) throw failure;
      },
    };
  }

  /**
   * The context to build: the request body, or a remote context (git, URL) fetched as a tar
   * (remote-context.ts), after `--platform` is checked.
   */
  async #withSource(
    context: Readable,
    options: BuildOptions,
    signal: AbortSignal,
    fn: (source: Readable) => Promise<void>,
  ): Promise<void> {
    if (options.platform) checkPlatform(options.platform);
    // What a previous daemon left in build-tmp (it stopped while removing a context) goes first,
    // before this build puts anything there (the remote context's clone or download included).
    this.#swept ??= sweepDir(join(this.#d.dataRoot, 'build-tmp'));
    await this.#swept;
    if (!options.remote) return fn(context);
    const work = join(this.#d.dataRoot, 'build-tmp', `remote-${newId()}`);
    try {
      const dockerfile = options.dockerfile || 'Dockerfile';
      await fn(await fetchRemoteContext(options.remote, work, { dockerfile, signal }));
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => {});
    }
  }

  async #run(
    context: Readable,
    options: BuildOptions,
    signal: AbortSignal,
    push: (m: JsonMessage) => void,
  ): Promise<void> {
    const out = (text: string) => {
      if (!options.quiet) push({ stream: text });
    };
    const work = join(this.#d.dataRoot, 'build-tmp', newId());
    const run = new BuildRun(this.#d, this.cache, options, signal, out);
    try {
      const ctx = await BuildContext.receive(context, work, {
        dockerfile: options.dockerfile || 'Dockerfile',
        signal,
      });
      run.context = ctx;
      run.contextDir = ctx.dir;
      const text = ctx.dockerfile;
      let df: Dockerfile;
      try {
        const parsed = parseDockerfile(text);
        for (const w of parsed.warnings) out(`${w}\n`);
        df = toStages(parsed, options.dockerfile || 'Dockerfile');
      } catch (err) {
        if (err instanceof DockerfileParseError) throw invalidParameter(err.message);
        throw err;
      }
      options.onStart?.();
      const imageId = await run.buildAll(df);
      if (options.quiet) push({ stream: `${imageId}\n` });
      push({ aux: { ID: imageId } });
      out(`Successfully built ${shortId(imageId.slice(7))}\n`);
      for (const tag of options.tags) {
        await this.#d.images.tag(imageId, tag);
        out(`Successfully tagged ${familiar(tag)}\n`);
      }
    } finally {
      run.context?.close();
      await run.cleanup();
      // The unpacked context is removed after the reply ends: the client does not wait for it.
      setImmediate(() => void rm(work, { recursive: true, force: true }).catch(() => {}));
    }
  }
}

/** Removes everything in `dir` (a missing dir is fine). */
async function sweepDir(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(join(dir, n), { recursive: true, force: true }).catch(() => {})));
}

const familiar = (tag: string) => (tag.includes(':') && !tag.endsWith(']') ? tag : `${tag}:latest`);

/** One build: the state of every stage, the temporary objects to remove at the end. */
class BuildRun {
  contextDir = '';
  /** The received context: COPY/ADD match and hash their sources in its index. */
  context: BuildContext | undefined;
  readonly #d: BuilderDeps;
  readonly #cache: BuildCache;
  readonly #o: BuildOptions;
  readonly #signal: AbortSignal;
  /** Aborts the other stages when one fails. */
  readonly #abort = new AbortController();
  readonly #baseOut: (s: string) => void;
  /** Output of the current stage (stage order is kept by OrderedOutput), or of the build. */
  readonly #out = (s: string) => (stageContext.getStore()?.out ?? this.#baseOut)(s);
  /** Stage name or index → its image, once built (stages may finish in any order). */
  readonly #stageImages = new Map<string, { index: number; id: Digest }>();
  readonly #usedArgs = new Set<string>();
  readonly #cleanups: Array<() => Promise<void>> = [];
  #step = 0;
  #total = 0;

  constructor(
    d: BuilderDeps,
    cache: BuildCache,
    o: BuildOptions,
    signal: AbortSignal,
    out: (s: string) => void,
  ) {
    this.#d = d;
    this.#cache = cache;
    this.#o = o;
    this.#signal = AbortSignal.any([signal, this.#abort.signal]);
    this.#baseOut = out;
  }

  async cleanup(): Promise<void> {
    for (const c of this.#cleanups.reverse())
      await c().catch((err) => this.#d.log.warn('build cleanup', { err }));
  }

  async buildAll(df: Dockerfile): Promise<Digest> {
    let last = df.stages.length - 1;
    if (this.#o.target) {
      const t = this.#o.target.toLowerCase();
      const i = df.stages.findIndex((s) => s.name === t);
      if (i < 0) throw invalidParameter(`failed to reach build target ${this.#o.target} in Dockerfile`);
      last = i;
    }
    const stages = withCliLabels(df.stages.slice(0, last + 1), this.#o.labels);
    // Meta args (before the first FROM): defaults overridden by --build-arg.
    const meta = new Map<string, string | undefined>();
    for (const a of df.metaArgs) {
      for (const { key, value } of a.args) {
        const given = this.#o.buildArgs[key];
        const v =
          given ??
          (value !== undefined ? this.#expand(value, envLookup(mapEnv(meta)), df.escape, a) : undefined);
        meta.set(key, v);
        if (given !== undefined && given !== null) this.#usedArgs.add(key);
      }
    }
    // Only the stages the target reaches are built; independent ones at the same time.
    const plan = planStages(stages, last, (s) => {
      try {
        return this.#expand(s.from.image, envLookup(mapEnv(meta)), df.escape, s.from);
      } catch {
        return s.from.image;
      }
    });
    // Steps are numbered over the stages built.
    const offsets = new Map<number, number>();
    let total = 0;
    for (const s of plan.stages) {
      offsets.set(s.index, total);
      total += 1 + s.instructions.length;
    }
    this.#total = total;
    // Build args declared by skipped stages count as consumed (as they did when every stage ran).
    for (const s of plan.skipped) {
      for (const ins of s.instructions) {
        if (ins.kind !== 'arg') continue;
        for (const { key } of ins.args) if (this.#o.buildArgs[key] != null) this.#usedArgs.add(key);
      }
    }
    const output = new OrderedOutput(
      plan.stages.map((s) => s.index),
      this.#baseOut,
    );
    const results = new Map<number, Digest | undefined>();
    const log = this.#d.log;
    try {
      await runStageGraph(
        plan,
        Math.max(2, availableParallelism()),
        async (stage) => {
          const fields = { stage: stage.index, ...(stage.name !== undefined && { name: stage.name }) };
          log.info('build stage started', { ...fields, at: Date.now() });
          const ctx = { out: output.writer(stage.index), step: offsets.get(stage.index) ?? 0 };
          results.set(
            stage.index,
            await stageContext.run(ctx, () => this.#buildStage(stage, meta, df.escape)),
          );
          log.info('build stage finished', { ...fields, at: Date.now() });
          output.finish(stage.index);
        },
        () => this.#abort.abort(),
      );
    } catch (err) {
      output.flushAll();
      throw err;
    }
    const imageId = results.get(last);
    const unused = Object.keys(this.#o.buildArgs).filter(
      (k) => !this.#usedArgs.has(k) && !BUILTIN_ARGS.has(k),
    );
    if (unused.length > 0) {
      this.#out(`[Warning] One or more build-args [${unused.sort().join(' ')}] were not consumed\n`);
    }
    if (!imageId) throw invalidParameter('No image was generated. Is your Dockerfile empty?');
    return imageId;
  }

  #stepHeader(ins: Instruction): void {
    const ctx = stageContext.getStore();
    const n = ctx ? ++ctx.step : ++this.#step;
    this.#out(`Step ${n}/${this.#total} : ${ins.node.original}\n`);
  }

  #expand(word: string, env: ReturnType<typeof envLookup>, escapeToken: string, ins: Instruction): string {
    try {
      return processWord(word, env, escapeToken);
    } catch (err) {
      if (err instanceof ShellLexError) {
        throw invalidParameter(
          `dockerfile parse error on line ${ins.node.startLine}: failed to process "${word}": ${err.message}`,
        );
      }
      throw err;
    }
  }

  #expandWords(
    text: string,
    env: ReturnType<typeof envLookup>,
    escapeToken: string,
    ins: Instruction,
  ): string[] {
    try {
      return processWords(text, env, escapeToken);
    } catch (err) {
      if (err instanceof ShellLexError) {
        throw invalidParameter(
          `dockerfile parse error on line ${ins.node.startLine}: failed to process "${text}": ${err.message}`,
        );
      }
      throw err;
    }
  }

  async #buildStage(
    stage: Stage,
    meta: Map<string, string | undefined>,
    escapeToken: string,
  ): Promise<Digest | undefined> {
    const from = stage.from;
    this.#stepHeader(from);
    const imageRef = this.#expand(from.image, envLookup(mapEnv(meta)), escapeToken, from);
    if (from.platform !== undefined)
      checkPlatform(this.#expand(from.platform, envLookup(mapEnv(meta)), escapeToken, from));
    const state: StageState = { image: emptyImage(), args: new Map(), stage: stage.index };
    if (this.#o.cacheFrom && this.#o.cacheFrom.length > 0 && !this.#o.noCache)
      state.cacheFrom = new CacheFrom(this.#d.images, this.#o.cacheFrom, this.#d.log);
    if (imageRef.toLowerCase() !== 'scratch') {
      const named = this.#stageImages.get(imageRef.toLowerCase());
      // moby getImageOrStage: FROM names an earlier stage by its name only.
      const fromStage = named && named.index < stage.index && !/^\d+$/.test(imageRef) ? named.id : undefined;
      let base: ImageRecord;
      try {
        base = fromStage ? this.#d.images.resolve(fromStage) : await this.#baseImage(imageRef);
      } catch (err) {
        if (isBerthError(err, 'NotFound') && !this.#d.pull) {
          throw notFound(
            `pull access denied for ${imageRef.split(':')[0]}, repository does not exist or may require 'docker login': No such image: ${imageRef}`,
          );
        }
        throw err;
      }
      state.imageId = base.id;
      state.image = structuredClone(base.config);
      // moby dispatchState.setDefaultPath: a base without PATH gets the default one appended.
      const env = state.image.config?.Env ?? [];
      if (!env.some((e) => e.split('=')[0] === 'PATH')) {
        state.image.config = { ...(state.image.config ?? {}), Env: [...env, DEFAULT_PATH] };
      }
      this.#out(` ---> ${shortId(base.id.slice(7))}\n`);
      // ONBUILD triggers of the base run first (and are not inherited).
      const triggers = state.image.config?.OnBuild ?? [];
      if (state.image.config) state.image.config.OnBuild = null;
      for (const t of triggers) {
        this.#out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
        const parsed = parseDockerfile(t).nodes[0];
        if (!parsed) continue;
        const ins = parseInstruction(parsed, escapeToken);
        await this.#dispatch(state, ins, escapeToken, meta, true);
      }
    } else {
      this.#out(' ---> \n');
    }
    for (const ins of stage.instructions) {
      this.#signal.throwIfAborted();
      this.#stepHeader(ins);
      await this.#dispatch(state, ins, escapeToken, meta, false);
    }
    if (state.imageId) {
      this.#stageImages.set(String(stage.index), { index: stage.index, id: state.imageId });
      if (stage.name) this.#stageImages.set(stage.name, { index: stage.index, id: state.imageId });
    }
    return state.imageId;
  }

  /** Env for expansion: the stage's ENV, then the ARGs in scope that ENV does not set. */
  #expansionEnv(state: StageState): ReturnType<typeof envLookup> {
    const env = state.image.config?.Env ?? [];
    const keys = new Set(env.map((e) => e.split('=')[0]!));
    const args: string[] = [];
    for (const [k, v] of state.args) if (v !== undefined && !keys.has(k)) args.push(`${k}=${v}`);
    return envLookup(args, env);
  }

  async #dispatch(
    state: StageState,
    ins: Instruction,
    escapeToken: string,
    meta: Map<string, string | undefined>,
    trigger: boolean,
  ): Promise<void> {
    void trigger;
    const cfg: ContainerConfig = { ...(state.image.config ?? {}) };
    state.stepConfig = cfg;
    const env = this.#expansionEnv(state);
    const ex = (w: string) => this.#expand(w, env, escapeToken, ins);
    switch (ins.kind) {
      case 'env': {
        const list = [...(cfg.Env ?? [])];
        const parts: string[] = [];
        for (const { key, value } of ins.pairs) {
          const k = ex(key);
          const v = ex(value);
          const i = list.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) list[i] = `${k}=${v}`;
          else list.push(`${k}=${v}`);
          parts.push(`${k}=${v}`);
        }
        cfg.Env = list;
        return this.#commitMeta(state, cfg, `ENV ${parts.join(' ')}`);
      }
      case 'label': {
        const labels = { ...(cfg.Labels ?? {}) };
        const parts: string[] = [];
        for (const { key, value } of ins.pairs) {
          const k = ex(key);
          const v = ex(value);
          labels[k] = v;
          parts.push(`${k}=${v}`);
        }
        cfg.Labels = labels;
        return this.#commitMeta(state, cfg, `LABEL ${parts.join(' ')}`);
      }
      case 'maintainer':
        state.image.author = ins.name;
        return this.#commitMeta(state, cfg, `MAINTAINER ${ins.name}`);
      case 'arg': {
        const parts: string[] = [];
        for (const { key, value } of ins.args) {
          const given = this.#o.buildArgs[key];
          let v: string | undefined;
          if (given !== undefined && given !== null) {
            v = given;
            this.#usedArgs.add(key);
          } else if (value !== undefined) v = ex(value);
          else if (meta.has(key)) v = meta.get(key);
          state.args.set(key, v);
          parts.push(value !== undefined ? `${key}=${value}` : key);
        }
        return this.#commitMeta(state, cfg, `ARG ${parts.join(' ')}`);
      }
      case 'cmd': {
        cfg.Cmd = this.#commandArgs(ins.command, cfg);
        this.#cmdSetInStage.add(state);
        return this.#commitMeta(state, cfg, `CMD ${goQuoteList(cfg.Cmd)}`);
      }
      case 'entrypoint': {
        cfg.Entrypoint = this.#commandArgs(ins.command, cfg);
        // An ENTRYPOINT resets the CMD inherited from the base (moby dispatchEntrypoint).
        if (!this.#cmdSetInStage.has(state)) cfg.Cmd = null;
        return this.#commitMeta(state, cfg, `ENTRYPOINT ${goQuoteList(cfg.Entrypoint)}`);
      }
      case 'workdir': {
        let dir = ex(ins.path);
        if (!dir.startsWith('/')) dir = posix.join(cfg.WorkingDir || '/', dir);
        cfg.WorkingDir = posix.normalize(dir);
        return this.#commitFs(state, cfg, `WORKDIR ${cfg.WorkingDir}`, async (rootfs) => {
          await mkdir(join(rootfs, cfg.WorkingDir!), { recursive: true, mode: 0o755 });
        });
      }
      case 'user':
        cfg.User = ex(ins.user);
        return this.#commitMeta(state, cfg, `USER ${cfg.User}`);
      case 'expose': {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        const words: string[] = [];
        for (const raw of exposeWords(ins.ports)) {
          const word = ex(raw);
          words.push(word);
          for (const p of expandPorts(word)) ports[p] = {};
        }
        cfg.ExposedPorts = ports;
        return this.#commitMeta(state, cfg, `EXPOSE ${words.join(' ')}`);
      }
      case 'volume': {
        const vols = { ...(cfg.Volumes ?? {}) };
        const list: string[] = [];
        for (const p of ins.paths) {
          const v = ex(p).trim();
          if (!v) throw invalidParameter('VOLUME specified can not be an empty string');
          vols[v] = {};
          list.push(v);
        }
        cfg.Volumes = vols;
        return this.#commitMeta(state, cfg, `VOLUME [${list.join(' ')}]`);
      }
      case 'stopsignal':
        cfg.StopSignal = ex(ins.signal);
        return this.#commitMeta(state, cfg, `STOPSIGNAL ${cfg.StopSignal}`);
      case 'shell':
        cfg.Shell = [...ins.args];
        return this.#commitMeta(state, cfg, `SHELL [${ins.args.join(' ')}]`);
      case 'onbuild':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.expression];
        return this.#commitMeta(state, cfg, `ONBUILD ${ins.expression}`);
      case 'healthcheck': {
        if (ins.test.none) cfg.Healthcheck = { Test: ['NONE'] };
        else {
          const c = ins.test.command;
          const hc: HealthConfig = {
            Test: c.form === 'exec' ? ['CMD', ...c.args] : ['CMD-SHELL', c.text],
          };
          const dur = (name: string, v?: string) => {
            if (v === undefined) return undefined;
            const ns = parseGoDuration(v);
            if (ns === undefined) throw invalidParameter(`time: invalid duration "${v}"`);
            if (ns !== 0 && ns < 1_000_000)
              throw invalidParameter(`Interval "${name}" cannot be less than 1ms`);
            return ns;
          };
          const interval = dur('interval', ins.interval);
          const timeout = dur('timeout', ins.timeout);
          const startPeriod = dur('start-period', ins.startPeriod);
          const startInterval = dur('start-interval', ins.startInterval);
          if (interval !== undefined) hc.Interval = interval;
          if (timeout !== undefined) hc.Timeout = timeout;
          if (startPeriod !== undefined) hc.StartPeriod = startPeriod;
          if (startInterval !== undefined) (hc as Record<string, unknown>).StartInterval = startInterval;
          if (ins.retries !== undefined) {
            const r = Number(ins.retries);
            if (!Number.isInteger(r) || r < 0) throw invalidParameter('--retries cannot be negative');
            hc.Retries = r;
          }
          cfg.Healthcheck = hc;
        }
        return this.#commitMeta(state, cfg, healthcheckComment(cfg.Healthcheck));
      }
      case 'run':
        return this.#run(state, ins, cfg);
      case 'copy':
      case 'add':
        return this.#copy(state, ins, cfg, ex, env, escapeToken);
      case 'from':
        throw invalidParameter('FROM is not allowed here');
    }
  }

  readonly #cmdSetInStage = new WeakSet<StageState>();

  #commandArgs(c: CommandForm, cfg: ContainerConfig): string[] {
    return c.form === 'exec' ? [...c.args] : [...(cfg.Shell ?? DEFAULT_SHELL), c.text];
  }

  /** Build args in scope that RUN sees, as moby's `|N K=V` Cmd prefix. */
  #runArgs(state: StageState, cfg: ContainerConfig): string[] {
    const envKeys = new Set((cfg.Env ?? []).map((e) => e.split('=')[0]!));
    const out: string[] = [];
    for (const [k, v] of [...state.args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (v === undefined || envKeys.has(k)) continue;
      out.push(`${k}=${v}`);
    }
    return out;
  }

  async #run(state: StageState, ins: Instruction & { kind: 'run' }, cfg: ContainerConfig): Promise<void> {
    // moby dispatchRun: the classic builder runs no RUN flag.
    const flag = ins.flagsUsed[0];
    if (flag !== undefined)
      throw invalidParameter(
        `the --${flag} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`,
      );
    let cmd: string[];
    if (ins.command.form === 'exec') cmd = [...ins.command.args];
    else {
      let script = ins.command.text;
      const h = ins.heredocs;
      if (h.length === 1 && /^<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?$/.test(script.trim())) {
        script = h[0]!.content;
      } else if (h.length > 0) {
        script = `${script}\n${h.map((d) => `${d.content}${d.name}`).join('\n')}`;
      }
      cmd = [...(cfg.Shell ?? DEFAULT_SHELL), script];
    }
    const args = this.#runArgs(state, cfg);
    const cacheCmd = args.length > 0 ? [`|${args.length}`, ...args, ...cmd] : cmd;
    const probe = { ...cfg, Cmd: cacheCmd };
    if (await this.#probe(state, probe)) return;

    const c = this.#d.containers;
    const body = {
      ...cfg,
      Image: state.imageId ?? '',
      Cmd: cmd,
      Entrypoint: [''],
      Env: [...(cfg.Env ?? []), ...args],
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      Healthcheck: undefined,
      HostConfig: { ...this.#o.hostConfig, NetworkMode: this.#o.networkMode || 'default' },
    };
    if (!state.imageId) throw invalidParameter('RUN on an empty (scratch) image: there is no shell to run');
    const { Id: id } = await c.create(body as never, {});
    let removed = false;
    const remove = async () => {
      if (removed) return;
      removed = true;
      await c.remove(id, { force: true, volumes: false, link: false });
      this.#out(`Removing intermediate container ${shortId(id)}\n`);
    };
    this.#cleanups.push(async () => {
      if (!removed && (this.#o.rm || this.#o.forceRm)) await remove();
    });
    this.#out(` ---> Running in ${shortId(id)}\n`);
    const session = await c.attach(id, {
      stream: true,
      logs: false,
      stdin: false,
      stdout: true,
      stderr: true,
    });
    const decoder = new StdcopyDecoder();
    session.output.pipe(decoder);
    const drained = (async () => {
      for await (const frame of decoder as AsyncIterable<{ payload: Buffer }>)
        this.#out(frame.payload.toString('utf8'));
    })();
    const { result } = await c.wait(id, { condition: 'next-exit', signal: this.#signal });
    try {
      await c.start(id);
    } catch (err) {
      session.close();
      throw invalidParameter(
        `The command '${cmd.join(' ')}' returned a non-zero code: 127: ${(err as Error).message}`,
      );
    }
    const { StatusCode } = await result;
    await drained.catch(() => {});
    if (StatusCode !== 0) {
      throw invalidParameter(`The command '${cmd.join(' ')}' returned a non-zero code: ${StatusCode}`);
    }
    const createdBy = cacheCmd.join(' ');
    // A RUN container in a user namespace (berthd --userns-remap) wrote under remapped ids.
    const remap = c.lifecycle.remapOf({});
    // A container removed right after (--rm, the default) gives its upper dir to the layer; one
    // that is kept (--rm=false) keeps its changes, and a user-namespaced one wrote remapped ids:
    // those are packed and unpacked.
    const layer = (parent: Digest | undefined) =>
      this.#o.rm && !remap
        ? this.#d.snapshots.unmount(c.lifecycle.rootfsDir(id)).then(() => this.#snapshotLayer(id)(parent))
        : this.#d.images.addLayer(
            this.#d.snapshots.diff(id, { signal: this.#signal, ...(remap ? { idMap: remap.idMap } : {}) }),
            { ...(parent !== undefined && { parent }), signal: this.#signal },
          );
    await this.#commitLayer(state, { ...cfg }, probe, createdBy, id, layer);
    if (this.#o.rm) await remove();
    this.#printId(state);
  }

  async #copy(
    state: StageState,
    ins: Instruction & { kind: 'copy' | 'add' },
    cfg: ContainerConfig,
    ex: (w: string) => string,
    env: ReturnType<typeof envLookup>,
    escapeToken: string,
  ): Promise<void> {
    const verb = ins.kind === 'copy' ? 'COPY' : 'ADD';
    const sources: string[] = [];
    for (const s of ins.sources) sources.push(...this.#expandWords(s, env, escapeToken, ins));
    // History shows the destination as written (moby's copyInstruction.dest), not under WORKDIR.
    const destWritten = ex(ins.dest);
    let dest = destWritten;
    if (!dest.startsWith('/')) {
      const trailing = dest.endsWith('/') || dest === '.';
      dest = posix.join(cfg.WorkingDir || '/', dest) + (trailing && !dest.endsWith('/') ? '/' : '');
      if (trailing && !dest.endsWith('/')) dest += '/';
    }
    if (ins.checksum !== undefined) checkChecksumFlag(ex(ins.checksum), verb, sources);
    const remote = sources.filter(isRemoteUrl);
    if (remote.length > 0 && verb === 'COPY')
      throw invalidParameter("COPY failed: source can't be a URL for COPY");
    const downloads = await this.#download(remote, dest, ins.checksum && ex(ins.checksum));
    if (sources.length > 1 && !dest.endsWith('/'))
      throw invalidParameter(
        `When using ${verb} with more than one source file, the destination must be a directory and end with a /`,
      );
    let root: string | undefined = this.contextDir;
    let fromStage = false;
    // COPY --from: the image is mounted only when its files must be read (hashing them the
    // first time, or copying them); see BuildCache.sourceSummary.
    let fromImage: Digest | undefined;
    if (ins.from !== undefined) {
      const name = ex(ins.from).toLowerCase();
      const built = this.#stageImages.get(name);
      fromImage = built && built.index < state.stage ? built.id : await this.#resolveImage(name);
      fromStage = true;
      root = undefined;
    }
    // Heredoc sources become files in a temp dir beside the context.
    if (ins.heredocs.length > 0) {
      const dir = join(this.contextDir, '..', `heredoc-${newId().slice(0, 12)}`);
      await mkdir(dir, { recursive: true });
      for (const h of ins.heredocs) {
        const content = h.expand ? ex(h.content) : h.content;
        await import('node:fs/promises').then((fs) =>
          fs.writeFile(join(dir, h.name), content, { mode: 0o644 }),
        );
      }
      const hereNames = new Set(ins.heredocs.map((h) => h.name));
      const other = sources.filter((s) => !/^<<-?["']?[A-Za-z_]/.test(s));
      if (other.length > 0)
        throw invalidParameter(`${verb} with heredocs and other sources is not supported by berth yet`);
      sources.length = 0;
      sources.push(...hereNames);
      root = dir;
      fromStage = true;
      fromImage = undefined;
    }
    // The cache is looked up from the sources alone: a hit prepares no snapshot. Local sources
    // are matched in the context's index; each download separately, in its own directory.
    const local = sources.filter((s) => !isRemoteUrl(s));
    const ctx = root === this.contextDir ? this.context : undefined;
    const parts: Array<{
      root: string;
      matched: MatchedSource[];
      isAdd: boolean;
      fromStage: boolean;
      fs?: SourceFs;
    }> = [];
    const summaries: string[] = [];
    const hasLocal = local.length > 0 || downloads.length === 0;
    const memo = hasLocal && fromImage !== undefined ? BuildCache.summaryKey(fromImage, local) : undefined;
    const known = memo !== undefined ? this.#cache.sourceSummary(memo) : undefined;
    /** Matches the local sources (mounting the --from image first) into the first part. */
    const matchLocal = async () => {
      if (ctx && !ctx.exact) await ctx.materialize();
      const indexed = ctx?.exact ? ctx : undefined;
      root ??= await this.#mountImage(fromImage!);
      const matched = matchSources({ root, sources: local, verb, fromStage }, indexed);
      // Context files are read from the spooled tar: the context is never unpacked for them.
      parts.unshift({ root, matched, isAdd: verb === 'ADD', fromStage, ...(indexed && { fs: indexed }) });
      return { matched, indexed };
    };
    if (known !== undefined) summaries.push(known);
    else if (hasLocal) {
      const { matched, indexed } = await matchLocal();
      const s = await sourceSummary(matched, indexed?.digests, indexed);
      if (memo !== undefined) this.#cache.rememberSourceSummary(memo, s);
      summaries.push(s);
    }
    for (const dl of downloads) {
      // Downloads are never unpacked (moby: noDecompress); their content hash is in the key.
      const matched = matchSources({ root: dl.dir, sources: [dl.file], verb, fromStage: true });
      parts.push({ root: dl.dir, matched, isAdd: false, fromStage: true });
      summaries.push(await sourceSummary(matched));
    }
    const summary = mergeSummaries(summaries);
    const chownSpec = ins.chown !== undefined ? ex(ins.chown) : undefined;
    const chmodSpec = ins.chmod !== undefined ? ex(ins.chmod) : undefined;
    const chmod = chmodSpec !== undefined ? parseChmod(chmodSpec) : undefined;
    // moby performCopy: `COPY --chown=<spec><hash> in <dest> ` (no space after the chown spec);
    // the --from source is in the key through its content hash only.
    const chownWord = chownSpec !== undefined ? `--chown=${chownSpec}` : '';
    const comment = `${verb} ${chownWord}${summary} in ${destWritten} `;
    const shell = cfg.Shell ?? DEFAULT_SHELL;
    const probe = { ...cfg, Cmd: fsCmd(shell, comment) };
    const extra = copyKeyExtra({
      ...(chownSpec !== undefined && { chown: chownSpec }),
      ...(chmodSpec !== undefined && { chmod: chmodSpec }),
    });
    if (await this.#probe(state, probe, extra)) return;
    if (known !== undefined) await matchLocal();
    await this.#withSnapshot(
      state,
      async (rootfs) => {
        const plans = [];
        for (const part of parts) {
          plans.push(
            await planCopy({
              root: part.root,
              sources: part.matched.map((m) => m.rel),
              dest,
              rootfs,
              isAdd: part.isAdd,
              verb,
              fromStage: part.fromStage,
              matched: part.matched,
              ...(part.fs && { fs: part.fs }),
            }),
          );
        }
        const plan = mergePlans(plans);
        let owner = { uid: 0, gid: 0 };
        if (chownSpec !== undefined) {
          const read = (p: string) => readFile(join(rootfs, p), 'utf8').catch(() => '');
          owner = resolveChown(chownSpec, await read('etc/passwd'), await read('etc/group'));
        }
        await applyCopy(plan, rootfs, {
          owner,
          ...(chmod !== undefined && { chmod }),
          signal: this.#signal,
        });
      },
      async (snapId) => {
        await this.#commitLayer(
          state,
          cfg,
          probe,
          probe.Cmd.join(' '),
          snapId,
          this.#snapshotLayer(snapId),
          extra,
        );
        this.#printId(state);
      },
    );
  }

  /** ADD's URL sources, each downloaded into its own directory beside the context. */
  async #download(urls: string[], dest: string, checksum: string | undefined): Promise<Download[]> {
    const out: Download[] = [];
    for (const url of urls) {
      const dir = join(this.contextDir, '..', `remote-${newId().slice(0, 12)}`);
      let dl: Download;
      try {
        dl = await downloadSource(url, dir, {
          ...(checksum ? { checksum } : {}),
          signal: this.#signal,
        });
      } catch (err) {
        if (isBerthError(err)) throw Object.assign(err, { message: `ADD failed: ${err.message}` });
        throw err;
      }
      if (!dl.named && dest.endsWith('/'))
        throw invalidParameter(`ADD failed: cannot determine filename for source ${url}`);
      this.#out('\n');
      out.push(dl);
    }
    return out;
  }

  async #resolveImage(ref: string): Promise<Digest> {
    try {
      return (await this.#baseImage(ref)).id;
    } catch (err) {
      if (isBerthError(err, 'NotFound') && !this.#d.pull)
        throw notFound(`invalid from flag value ${ref}: No such image: ${ref}`);
      if (err instanceof Error) err.message = `invalid from flag value ${ref}: ${err.message}`;
      throw err;
    }
  }

  /** An image FROM or COPY --from names: local, pulled when missing, or always with --pull. */
  #baseImage(ref: string): Promise<ImageRecord> {
    return getBaseImage(this.#d, ref, {
      pull: this.#o.pull ? 'always' : 'missing',
      ...(this.#o.authConfigs && { auth: this.#o.authConfigs }),
      signal: this.#signal,
      out: this.#out,
    });
  }

  /** Mounts an image's filesystem read-only-ish (a throwaway snapshot) for COPY --from. */
  async #mountImage(id: string): Promise<string> {
    const image = this.#d.images.resolve(id);
    const snapId = `build-${newId()}`;
    await this.#d.snapshots.prepare(snapId, image.chainIds);
    this.#cleanups.push(() => this.#d.images.removeContainerSnapshot(snapId));
    return realpath(await this.#d.snapshots.mount(snapId));
  }

  /** Looks up the cache for a step; on a hit moves the stage to the cached image. */
  async #probe(state: StageState, probe: ContainerConfig, extra?: string): Promise<boolean> {
    if (this.#o.noCache) return false;
    const key = BuildCache.key(state.imageId ?? 'scratch', probe, extra);
    const hit = await this.#cache.get(key);
    const found = await this.#cacheFromHit(state, probe, hit);
    if (!found) return false;
    const img = this.#d.images.get(found);
    if (!img) return false;
    state.imageId = found;
    state.image = structuredClone(img.config);
    this.#out(' ---> Using cache\n');
    this.#out(` ---> ${shortId(found.slice(7))}\n`);
    return true;
  }

  /**
   * With `--cache-from` (moby ImageCache.GetCache): a local hit counts only as an ancestor of a
   * cache-from image; otherwise a cache-from image whose history continues the current image's
   * with this step's command (moby isValidConfig: the joined Cmd) supplies the step.
   */
  async #cacheFromHit(state: StageState, probe: ContainerConfig, hit: Digest | undefined) {
    const cacheFrom = state.cacheFrom;
    if (!cacheFrom?.active) return hit;
    if (hit && cacheFrom.allowsLocal(hit)) return hit;
    const parent = state.imageId ? this.#d.images.get(state.imageId) : undefined;
    return cacheFrom.match(
      parent,
      (probe.Cmd ?? []).join(' '),
      (config) => this.#d.images.createImage(config, parent ? { parent: parent.id } : {}),
      this.#imageRunConfig(state, state.stepConfig ?? probe),
    );
  }

  /** A step without a layer: a new image with the config and a `#(nop)` history entry. */
  async #commitMeta(state: StageState, cfg: ContainerConfig, comment: string): Promise<void> {
    const shell = cfg.Shell ?? DEFAULT_SHELL;
    const probe = { ...cfg, Cmd: metaCmd(shell, comment) };
    if (await this.#probe(state, probe)) return;
    const createdBy = probe.Cmd.join(' ');
    await this.#createImage(state, cfg, probe, createdBy, undefined, '');
    this.#printId(state);
  }

  async #commitFs(
    state: StageState,
    cfg: ContainerConfig,
    comment: string,
    fn: (rootfs: string) => Promise<void>,
  ): Promise<void> {
    const shell = cfg.Shell ?? DEFAULT_SHELL;
    const probe = { ...cfg, Cmd: fsCmd(shell, comment) };
    if (await this.#probe(state, probe)) return;
    await this.#withSnapshot(state, fn, async (snapId) => {
      await this.#commitLayer(state, cfg, probe, probe.Cmd.join(' '), snapId, this.#snapshotLayer(snapId));
      this.#printId(state);
    });
  }

  /**
   * Prepares and mounts a snapshot of the current image, runs `write` on its root filesystem,
   * unmounts it and runs `commit` (which makes the step's layer of the snapshot's changes).
   */
  async #withSnapshot(
    state: StageState,
    write: (rootfs: string) => Promise<void>,
    commit: (snapId: string) => Promise<void>,
  ): Promise<void> {
    const chain = state.imageId ? this.#d.images.resolve(state.imageId).chainIds : [];
    const snapId = newId();
    await this.#d.snapshots.prepare(snapId, chain);
    try {
      const rootfs = await realpath(await this.#d.snapshots.mount(snapId));
      try {
        await write(rootfs);
      } finally {
        await this.#d.snapshots.unmount(rootfs);
      }
      await commit(snapId);
    } finally {
      await this.#d.images.removeContainerSnapshot(snapId);
    }
  }

  /**
   * The layer of an unmounted build snapshot: its upper dir becomes the layer directory (no
   * second copy of the files; ImageStore.addContainerLayer).
   */
  #snapshotLayer(snapId: string): (parent: Digest | undefined) => Promise<LayerRecord> {
    return (parent) =>
      this.#d.images.addContainerLayer(snapId, {
        ...(parent !== undefined && { parent }),
        signal: this.#signal,
      });
  }

  async #commitLayer(
    state: StageState,
    cfg: ContainerConfig,
    probe: ContainerConfig,
    createdBy: string,
    containerId: string,
    addLayer: (parent: Digest | undefined) => Promise<LayerRecord>,
    extra?: string,
  ): Promise<void> {
    const chain = state.imageId ? this.#d.images.resolve(state.imageId).chainIds : [];
    const layer = await addLayer(chain[chain.length - 1]);
    try {
      await this.#createImage(state, cfg, probe, createdBy, layer.diffId, containerId, extra);
    } finally {
      this.#d.images.releaseLayers([layer.chainId]);
    }
  }

  async #createImage(
    state: StageState,
    cfg: ContainerConfig,
    probe: ContainerConfig,
    createdBy: string,
    diffId: Digest | undefined,
    containerId: string,
    extra?: string,
  ): Promise<void> {
    const created = new Date().toISOString();
    const prev = state.image;
    const runConfig: ContainerConfig = { ...cfg, Image: state.imageId ?? '' };
    const config: ImageConfig = {
      architecture: prev.architecture,
      ...(prev.variant ? { variant: prev.variant } : {}),
      ...(prev.author ? { author: prev.author } : {}),
      config: runConfig,
      container: containerId,
      container_config: { ...probe, Image: state.imageId ?? '' },
      created,
      docker_version: DOCKER_VERSION,
      history: [
        ...(prev.history ?? []),
        { created, created_by: createdBy, ...(diffId === undefined ? { empty_layer: true } : {}) },
      ],
      os: prev.os,
      rootfs: { type: 'layers', diff_ids: [...prev.rootfs.diff_ids, ...(diffId ? [diffId] : [])] },
    };
    if (state.imageId) config.parent = state.imageId;
    if (diffId === undefined && config.rootfs.diff_ids.length === 0) {
      // moby cannot commit a layerless image on scratch either: it makes an empty layer.
    }
    const rec = await this.#d.images.createImage(config, state.imageId ? { parent: state.imageId } : {});
    const key = BuildCache.key(state.imageId ?? 'scratch', probe, extra);
    await this.#cache.put(key, rec.id);
    state.imageId = rec.id;
    state.image = config;
  }

  /** The `config` of the image a step makes: its run config on the parent (`--label`s are LABEL steps). */
  #imageRunConfig(state: StageState, cfg: ContainerConfig): ContainerConfig {
    return { ...cfg, Image: state.imageId ?? '' };
  }

  #printId(state: StageState): void {
    this.#out(` ---> ${shortId(state.imageId!.slice(7))}\n`);
  }
}

/** The stage a piece of build code runs for: where its output goes and its step counter. */
const stageContext = new AsyncLocalStorage<{ out: (s: string) => void; step: number }>();

function emptyImage(): ImageConfig {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
  return {
    architecture: arch[process.arch] ?? process.arch,
    os: 'linux',
    config: { Env: [DEFAULT_PATH] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

function mapEnv(m: Map<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of m) if (v !== undefined) out.push(`${k}=${v}`);
  return out;
}

/** Go's %q of a []string, as moby's history comments print them: `["a" "b"]`. */
function goQuoteList(list: string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** `80`, `80/udp`, `8000-8002/tcp` → `80/tcp`, … (nat.ParsePortSpecs). */
export function expandPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw invalidParameter(`Invalid containerPort: ${spec}`);
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : start;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (end < start || end > 65535) throw invalidParameter(`Invalid range specified for the Port: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Go's time.ParseDuration, in nanoseconds; undefined when invalid. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let pos = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * unit[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) return undefined;
  return Math.round(total);
}
