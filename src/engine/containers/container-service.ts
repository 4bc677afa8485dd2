/**
 * The container verbs of the Engine API (ContainerService), over the container store and the
 * lifecycle. Each verb resolves the container (Docker's "No such container: x"), checks the
 * transition it makes, and publishes Docker's events.
 */
import {
  type UpdateDeps,
  type UpdateRequest,
  pauseContainer,
  unpauseContainer,
  updateContainer,
} from './container-update.ts';
import { resolveDevice } from './host-security.ts';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import type {
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerSummary,
  ContainerTopResponse,
  ContainerWaitResponse,
} from '../../api/types/index.ts';
import {
  CleanupStack,
  type Logger,
  conflict,
  invalidParameter,
  isBerthError,
  newId,
  notFound,
  notImplemented,
  notModified,
} from '../../common/index.ts';
import type { ImageStore, SnapshotStore } from '../../image/index.ts';
import type { Runtime } from '../../runtime/index.ts';
import type { ContainerService, Filters, IoSession, LogEntry, LogsOptions } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { generateName } from '../names.ts';
import {
  type HostFacts,
  discardUnsupported,
  mergeLogConfig,
  resolveLogSettings,
  toContainerSpec,
  validateContainerName,
  validateCreate,
} from '../spec/index.ts';
import { type Container, ContainerStore } from './container-store.ts';
import { inspectView, makeListFilter, summaryView } from './container-view.ts';
import { ContainerLifecycle, eventAttributes } from './container-lifecycle.ts';
import type { ContainerDefaults } from './container-defaults.ts';
import { readJsonLog } from './json-log.ts';
import { attachWithReplay } from './attach-logs.ts';
import { recoverContainers } from './recovery.ts';
import { restartsOnDaemonStart } from './restart-policy.ts';
import type { Networks } from '../networks/index.ts';
import { assertCanRemove, assertCanStart, isRunning } from './state.ts';
import type { RuntimeTable } from './runtimes.ts';
import { type ContainerVolumes, planMountPoints } from '../volumes/index.ts';
import { checkUsernsConflicts, containerRemap, shareContainerDir } from './userns.ts';
import type { UsernsRemap } from '../../platform/index.ts';

const execFileAsync = promisify(execFile);

/** attach?logs=1 replays the whole log (moby: ReadConfig{Tail: -1}). */
const ALL_LOGS: LogsOptions = {
  follow: false,
  stdout: true,
  stderr: true,
  since: 0,
  until: 0,
  timestamps: false,
  tail: 'all',
};

export interface ContainerServiceDeps {
  root: string;
  execRoot: string;
  cgroupParent: string;
  images: ImageStore;
  snapshots: SnapshotStore;
  runtime: Runtime;
  events: EventBus;
  log: Logger;
  apiVersion: string;
  /** The daemon's log-driver and log-opts (daemon.json), applied at create. */
  logDefaults?: { type: string; config: Record<string, string> };
  /** Networks (engine/networks): attaches containers at start, fills NetworkSettings. */
  networking: Networks;
  volumes: ContainerVolumes;
  /** CPUs and cgroup features (probeHostFacts): bounds --cpus, discards what the host lacks. */
  hostFacts?: HostFacts;
  /** berthd --userns-remap (see ./userns.ts). */
  usernsRemap?: UsernsRemap;
  /** The daemon's defaults for what a container leaves unset (--init, --dns, …). */
  defaults?: ContainerDefaults;
  /** The OCI runtimes by name and the default (HostConfig.Runtime); absent: berth's own only. */
  runtimes?: RuntimeTable;
  /** Where other runtimes keep their state (<exec-root>/runtime-<name>). */
  runtimesRoot?: string;
}

export class Containers implements ContainerService {
  readonly store: ContainerStore;
  readonly lifecycle: ContainerLifecycle;
  readonly #d: ContainerServiceDeps;
  /** Exec ids per container, filled by the exec service (inspect shows them). */
  readonly execIds = new Map<string, string[]>();

  constructor(deps: ContainerServiceDeps) {
    this.#d = deps;
    this.store = new ContainerStore({ root: deps.root, log: deps.log });
    this.lifecycle = new ContainerLifecycle({
      store: this.store,
      snapshots: deps.snapshots,
      runtime: deps.runtime,
      events: deps.events,
      execRoot: deps.execRoot,
      cgroupParent: deps.cgroupParent,
      networking: deps.networking,
      log: deps.log,
      volumes: deps.volumes,
      ...(deps.usernsRemap ? { usernsRemap: deps.usernsRemap } : {}),
      ...(deps.defaults ? { defaults: deps.defaults } : {}),
      ...(deps.runtimes ? { runtimes: deps.runtimes, runtimesRoot: deps.runtimesRoot ?? deps.execRoot } : {}),
    });
    this.lifecycle.on('exit', (id: string) => {
      void this.autoRemove(id).catch((err) => deps.log.warn('auto-remove failed', { id, err }));
    });
  }

  async init(): Promise<void> {
    await mkdir(this.#d.execRoot, { recursive: true, mode: 0o700 });
    await this.store.load();
    await recoverContainers({
      root: this.#d.root,
      execRoot: this.#d.execRoot,
      store: this.store,
      snapshots: this.#d.snapshots,
      runtime: this.#d.runtime,
      lifecycle: this.lifecycle,
      log: this.#d.log,
      remove: (c) => this.#removeNow(c),
    });
    const all = this.store.all();
    const notRunning = all.filter((c) => !isRunning(c.state));
    await Promise.all(
      all.map((c) =>
        this.lifecycle
          .adopt(c)
          .catch((err) => this.#d.log.error('adopting container failed', { id: c.record.id, err })),
      ),
    );
    // Containers with --rm that exited while berthd was down are removed now, as dockerd does.
    for (const c of all) {
      if (c.state.status === 'exited' && c.record.hostConfig.AutoRemove) {
        await this.#removeNow(c).catch((err) =>
          this.#d.log.warn('auto-remove failed', { id: c.record.id, err }),
        );
      }
    }
    await bringBack(this, notRunning, this.#d.log);
  }

  /** berthd shutdown without live-restore: every running container stopped, in parallel. */
  async stopAllAtShutdown(timeoutSeconds: number): Promise<void> {
    this.lifecycle.shuttingDown = true;
    this.lifecycle.restarts.stopAll();
    await Promise.all(
      this.store
        .all()
        .filter((c) => isRunning(c.state))
        .map((c) => {
          const own = c.record.config.StopTimeout ?? 10;
          const timeout = timeoutSeconds < 0 ? own : own < 0 ? timeoutSeconds : Math.min(own, timeoutSeconds);
          return this.lifecycle
            .serialize(c.record.id, () => this.lifecycle.stop(c, { timeout }))
            .catch((err) =>
              this.#d.log.warn('stopping container at shutdown failed', { id: c.record.id, err }),
            );
        }),
    );
  }

  /** The containers (in any state) created from an image: Docker refuses to delete it. */
  imageUsers(imageId: string): Array<{ id: string; running: boolean }> {
    return this.store
      .all()
      .filter((c) => c.record.imageId === imageId)
      .map((c) => ({ id: c.record.id, running: isRunning(c.state) }));
  }

  async create(
    body: ContainerCreateRequest,
    options: { name?: string; platform?: string; apiVersion?: string },
  ): Promise<ContainerCreateResponse> {
    const table = this.#d.runtimes;
    const host = { ...this.#d.hostFacts, ...(table ? { runtimes: Object.keys(table.runtimes) } : {}) };
    const apiVersion = options.apiVersion ?? this.#d.apiVersion;
    const supported = discardUnsupported(body, host, apiVersion);
    body = supported.body;
    const warnings = [...supported.warnings, ...validateCreate(body, apiVersion, host)];
    checkUsernsConflicts(body.HostConfig ?? {}, this.#d.usernsRemap !== undefined);
    const logConfig = mergeLogConfig(
      body.HostConfig?.LogConfig,
      this.#d.logDefaults ?? { type: 'json-file', config: {} },
    );
    resolveLogSettings(logConfig.Type, logConfig.Config);
    body = {
      ...body,
      HostConfig: {
        ...body.HostConfig,
        LogConfig: logConfig,
        ...(table && !body.HostConfig?.Runtime ? { Runtime: table.defaultRuntime } : {}),
      },
    };
    if (!body.Image) throw invalidParameter('No image was specified');
    if (options.name) validateContainerName(options.name);
    const image = this.#d.images.resolve(body.Image);
    const id = newId();
    const name = options.name
      ? options.name.replace(/^\//, '')
      : generateName((n) => this.store.isNameTaken(n));
    const defaults = this.#d.defaults ?? {};
    const created = toContainerSpec(body, image.config, {
      id,
      name,
      apiVersion,
      host: { cgroupV2: host.cgroupV2 === true },
      daemon: {
        ...(defaults.cgroupnsMode ? { cgroupnsMode: defaults.cgroupnsMode } : {}),
        ...(defaults.ipcMode ? { ipcMode: defaults.ipcMode } : {}),
        ...(defaults.shmSize ? { shmSize: defaults.shmSize } : {}),
      },
    });
    this.#d.networking.validateContainer(created.spec);
    // A --device that does not exist is refused before anything is created.
    for (const d of created.spec.resources.devices) await resolveDevice(d);

    const undo = new CleanupStack();
    try {
      const dir = this.store.dir(id);
      await mkdir(dir, { recursive: true, mode: 0o710 });
      const remap = containerRemap(this.#d.usernsRemap, created.hostConfig);
      if (remap) await shareContainerDir(dir, remap);
      undo.defer(() => import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true })));
      await this.#d.snapshots.prepare(id, image.chainIds);
      undo.defer(() => this.#d.snapshots.removeContainer(id));
      const planned = planMountPoints(created.spec, (ref) => this.store.get(ref).record.mountPoints ?? []);
      const volumes = await this.#d.volumes.prepare(id, planned, remap ? { idMap: remap.idMap } : {});
      undo.defer(() => this.#d.volumes.discard(volumes.created));
      const c = await this.store.add(
        {
          id,
          name,
          created: new Date().toISOString(),
          image: body.Image,
          imageId: image.id,
          spec: created.spec,
          config: created.config,
          hostConfig: created.hostConfig,
          restartCount: 0,
          mountPoints: volumes.points,
          ...(remap ? { remappedRoot: { ...remap.root } } : {}),
        },
        { status: 'created' },
      );
      undo.commit();
      this.#d.events.publish('container', 'create', id, eventAttributes(c));
      return { Id: id, Warnings: warnings };
    } finally {
      await undo.rollback();
    }
  }

  async inspect(ref: string): Promise<ContainerInspectResponse> {
    const c = this.store.get(ref);
    return {
      ...inspectView(c, this.#paths(c), this.execIds.get(c.record.id) ?? []),
      NetworkSettings: this.#d.networking.settings(c),
      Mounts: this.#d.volumes.view(c.record.mountPoints ?? []),
    };
  }

  async list(options: {
    all: boolean;
    limit?: number;
    size: boolean;
    filters: Filters;
  }): Promise<ContainerSummary[]> {
    const filter = makeListFilter(options.filters, {
      ancestorIds: (ref) => this.#ancestorIds(ref),
      containerCreated: (ref) => {
        const c = this.store.find(ref);
        if (!c) throw notFound(`No such container: ${ref}`);
        return Date.parse(c.record.created);
      },
    });
    let list = this.store
      .all()
      .filter(
        (c) =>
          options.all ||
          (options.limit ?? 0) > 0 ||
          isRunning(c.state) ||
          c.state.status === 'restarting' ||
          options.filters.status?.length,
      )
      .filter(filter)
      .sort((a, b) => Date.parse(b.record.created) - Date.parse(a.record.created));
    if (options.limit && options.limit > 0) list = list.slice(0, options.limit);
    return list.map((c) => {
      const view = summaryView(c);
      const settings = this.#d.networking.settings(c);
      return {
        ...view,
        Ports: this.#d.networking.ports(c.record.id).map((p) => ({
          IP: p.hostIp,
          PrivatePort: p.containerPort,
          PublicPort: p.hostPort,
          Type: p.proto,
        })),
        NetworkSettings: { Networks: settings.Networks },
        Mounts: this.#d.volumes.view(c.record.mountPoints ?? []),
      };
    });
  }

  /** docker update (container-update.ts): new limits stored, and applied when running. */
  async update(ref: string, body: UpdateRequest, apiVersion?: string): Promise<{ Warnings: string[] }> {
    const c = this.store.get(ref);
    return await this.lifecycle.serialize(c.record.id, () =>
      updateContainer(this.#updateDeps(), c, body, apiVersion ?? this.#d.apiVersion),
    );
  }

  async pause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.lifecycle.serialize(c.record.id, () => pauseContainer(this.#updateDeps(), c));
  }

  async unpause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.lifecycle.serialize(c.record.id, () => unpauseContainer(this.#updateDeps(), c));
  }

  #updateDeps(): UpdateDeps {
    return {
      store: this.store,
      runtime: this.#d.runtime,
      events: this.#d.events,
      stateDir: (id) => this.lifecycle.stateDir(id),
    };
  }

  async start(ref: string): Promise<void> {
    const c = this.store.get(ref);
    await this.lifecycle.serialize(c.record.id, async () => {
      assertCanStart(c.state, ref);
      try {
        await this.lifecycle.resetRestart(c);
        await this.lifecycle.start(c);
      } catch (err) {
        // dockerd removes an AutoRemove container whose start failed (the CLI's `run --rm`
        // waits for that removal before it exits).
        if (c.record.hostConfig.AutoRemove) {
          await this.#removeNow(c).catch((e) =>
            this.#d.log.warn('auto-remove failed', { id: c.record.id, err: e }),
          );
        }
        throw err;
      }
    });
  }

  async stop(ref: string, options: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.store.get(ref);
    if (!isRunning(c.state) && c.state.status !== 'restarting') {
      // Docker answers 304 Not Modified; the CLI treats it as success.
      throw notModified('container already stopped');
    }
    await this.lifecycle.serialize(c.record.id, () => this.lifecycle.stop(c, options));
  }

  async restart(ref: string, options: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.store.get(ref);
    await this.lifecycle.serialize(c.record.id, async () => {
      await this.lifecycle.stop(c, options);
      await this.lifecycle.resetRestart(c);
      await this.lifecycle.start(c);
      this.#d.events.publish('container', 'restart', c.record.id, eventAttributes(c));
    });
  }

  async kill(ref: string, options: { signal?: string }): Promise<void> {
    const c = this.store.get(ref);
    await this.lifecycle.kill(c, options.signal || 'SIGKILL');
  }

  async wait(
    ref: string,
    options: { condition: 'not-running' | 'next-exit' | 'removed'; signal: AbortSignal },
  ): Promise<{ result: Promise<ContainerWaitResponse> }> {
    const c = this.store.get(ref);
    const id = c.record.id;
    const exitCode = () =>
      c.state.status === 'exited' || c.state.status === 'restarting' ? c.state.exitCode : 0;
    const aborted = new Promise<never>((_, reject) => {
      options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    let result: Promise<ContainerWaitResponse>;
    if (options.condition === 'removed') {
      result = new Promise<ContainerWaitResponse>((resolve) => {
        let code = exitCode();
        const onExit = (exitId: string, c2: number) => {
          if (exitId === id) code = c2;
        };
        const onRemoved = (removedId: string) => {
          if (removedId !== id) return;
          this.lifecycle.off('exit', onExit);
          this.lifecycle.off('removed', onRemoved);
          resolve({ StatusCode: code, Error: null });
        };
        this.lifecycle.on('exit', onExit);
        this.lifecycle.on('removed', onRemoved);
      });
    } else if (options.condition === 'not-running' && !isRunning(c.state)) {
      result = Promise.resolve({ StatusCode: exitCode(), Error: null });
    } else {
      result = this.lifecycle.nextExit(id).then((code) => ({ StatusCode: code, Error: null }));
    }
    return { result: Promise.race([result, aborted]) };
  }

  async remove(ref: string, options: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    if (options.link) throw invalidParameter('links are not supported yet: see the networking issue');
    const c = this.store.get(ref);
    await this.lifecycle.serialize(c.record.id, async () => {
      assertCanRemove(c.state, c.record.id, options.force);
      if (isRunning(c.state)) {
        const exited = this.lifecycle.nextExit(c.record.id);
        await this.lifecycle.kill(c, 'SIGKILL').catch((err) => {
          if (isRunning(c.state)) throw err;
        });
        if (isRunning(c.state)) await exited;
      }
      await this.#removeNow(c);
      if (options.volumes) {
        await this.#d.volumes.removeAnonymous(
          c.record.mountPoints ?? [],
          (name) => this.volumeUsers(name).length > 0,
        );
      }
    });
  }

  /** Ids of the containers (any state) whose mount points name volume `name`. */
  volumeUsers(name: string): string[] {
    return this.store
      .all()
      .filter((c) => (c.record.mountPoints ?? []).some((m) => m.type === 'volume' && m.name === name))
      .map((c) => c.record.id);
  }

  async #removeNow(c: Container): Promise<void> {
    const id = c.record.id;
    this.lifecycle.restarts.forget(id);
    await this.store.setState(c, { status: 'removing' });
    await this.lifecycle.cleanup(c);
    await this.#d.snapshots.removeContainer(id);
    await this.store.remove(c);
    this.execIds.delete(id);
    this.#d.events.publish('container', 'destroy', id, eventAttributes(c));
    this.lifecycle.emit('removed', id);
  }

  /** Called by the lifecycle's exit path for --rm containers. */
  async autoRemove(id: string): Promise<void> {
    const c = this.store.find(id);
    if (!c?.record.hostConfig.AutoRemove || isRunning(c.state)) return;
    await this.lifecycle.serialize(id, () => this.#removeNow(c));
    // `run --rm` also removes the container's anonymous volumes, as Docker does.
    await this.#d.volumes.removeAnonymous(
      c.record.mountPoints ?? [],
      (name) => this.volumeUsers(name).length > 0,
    );
  }

  async rename(ref: string, newName: string): Promise<void> {
    if (!newName) throw invalidParameter('Neither old nor new names may be empty');
    validateContainerName(newName);
    const c = this.store.get(ref);
    const name = newName.replace(/^\//, '');
    if (name === c.record.name)
      throw invalidParameter('Renaming a container with the same name as its current name');
    const oldName = c.record.name;
    await this.store.rename(c, name);
    this.#d.events.publish('container', 'rename', c.record.id, {
      ...eventAttributes(c),
      oldName: `/${oldName}`,
    });
  }

  /**
   * Docker runs `ps` on the host and keeps the rows whose PID is in the container's cgroup
   * (daemon/top_unix.go); so do we.
   */
  async top(ref: string, psArgs = '-ef'): Promise<ContainerTopResponse> {
    const c = this.store.get(ref);
    if (!isRunning(c.state)) throw conflict(`Container ${c.record.id} is not running`);
    const pids = new Set(await this.#d.runtime.pids(this.lifecycle.stateDir(c.record.id)));
    const args = psArgs.split(/\s+/).filter(Boolean);
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync('ps', args, { maxBuffer: 64 << 20 }));
    } catch (err) {
      throw invalidParameter(`ps: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
    const lines = stdout.split('\n').filter((l) => l.trim());
    const header = (lines.shift() ?? '').trim().split(/\s+/);
    const pidCol = header.indexOf('PID');
    if (pidCol < 0) throw invalidParameter(`Couldn't find PID field in ps output`);
    const processes = lines
      .map((l) => {
        const fields = l.trim().split(/\s+/);
        // The last column (the command) may contain spaces.
        return [...fields.slice(0, header.length - 1), fields.slice(header.length - 1).join(' ')];
      })
      .filter((row) => pids.has(Number(row[pidCol])));
    return { Titles: header, Processes: processes };
  }

  async logs(
    ref: string,
    options: LogsOptions,
    signal: AbortSignal,
  ): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }> {
    const c = this.store.get(ref);
    const driver = c.record.hostConfig.LogConfig?.Type ?? 'json-file';
    if (driver === 'none') {
      throw notImplemented('configured logging driver does not support reading');
    }
    const entries = readJsonLog(this.lifecycle.logPath(c.record.id), options, {
      isDone: () => !isRunning(c.state),
      signal,
    });
    return { tty: c.record.config.Tty ?? false, entries };
  }

  async attach(
    ref: string,
    options: { stream: boolean; logs: boolean; stdin: boolean; stdout: boolean; stderr: boolean },
  ): Promise<IoSession> {
    const c = this.store.get(ref);
    const streams = { stdin: options.stdin, stdout: options.stdout, stderr: options.stderr };
    if (!options.logs && options.stream) return this.lifecycle.attach(c, streams);
    // logs=1 and/or stream=0 (attach-logs.ts).
    const abort = new AbortController();
    const live = options.stream ? await this.lifecycle.attach(c, streams) : undefined;
    const unreadable = (c.record.hostConfig.LogConfig?.Type ?? 'json-file') === 'none';
    const entries =
      options.logs && !unreadable
        ? readJsonLog(
            this.lifecycle.logPath(c.record.id),
            { ...ALL_LOGS, stdout: options.stdout, stderr: options.stderr },
            { isDone: () => true, signal: abort.signal },
          )
        : undefined;
    return attachWithReplay({
      tty: c.record.config.Tty ?? false,
      ...(entries ? { entries } : {}),
      ...(options.logs && unreadable ? { error: 'configured logging driver does not support reading' } : {}),
      ...(live ? { live } : {}),
      abort,
    });
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.store.get(ref);
    if (!isRunning(c.state)) throw conflict(`Container ${c.record.id} is not running`);
    if (!c.record.config.Tty) return;
    await this.#d.runtime.resize(this.lifecycle.stateDir(c.record.id), height, width);
  }

  #paths(c: Container) {
    return {
      dir: this.store.dir(c.record.id),
      logPath: this.lifecycle.logPath(c.record.id),
      rootfs: this.lifecycle.rootfsDir(c.record.id),
    };
  }

  #ancestorIds(ref: string): string[] {
    try {
      return [this.#d.images.resolve(ref).id];
    } catch (err) {
      if (isBerthError(err, 'NotFound')) return [];
      throw err;
    }
  }
}

/**
 * berthd start (moby daemon restore): containers that were not running when berthd stopped and
 * whose policy says so are started again (`always` always; `unless-stopped` unless stopped by
 * hand; `on-failure` after a failure, within its count), as a manual start would.
 */
async function bringBack(containers: Containers, candidates: Container[], log: Logger): Promise<void> {
  for (const c of candidates) {
    const s = c.state;
    if (s.status !== 'exited' && s.status !== 'restarting') continue;
    const p = c.record.spec.restartPolicy;
    const restart = restartsOnDaemonStart({
      policy: { name: p?.name ?? 'no', maximumRetryCount: p?.maximumRetryCount ?? 0 },
      exitCode: s.exitCode,
      manuallyStopped: c.record.manuallyStopped ?? false,
      restartCount: c.record.restartCount,
    });
    if (!restart) {
      if (s.status === 'restarting') await containers.store.setState(c, { ...s, status: 'exited' });
      continue;
    }
    await containers.lifecycle
      .serialize(c.record.id, async () => {
        await containers.lifecycle.resetRestart(c);
        await containers.lifecycle.start(c);
      })
      .catch((err) => log.warn('restarting container at daemon start failed', { id: c.record.id, err }));
  }
}
