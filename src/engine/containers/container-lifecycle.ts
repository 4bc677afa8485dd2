/**
 * Starting, stopping and watching containers: the part of the container service that talks to
 * the runtime and the snapshotter.
 *
 * start: mount the rootfs (overlay over the image's layers), write the host files and the OCI
 *   bundle, have the runtime create the shim (the process waits before execve), connect any
 *   attach sessions that were opened before start, then release the process. Any failure
 *   undoes what was done (CleanupStack) and leaves the container 'exited' with Docker's exit
 *   code for the failure (127 not found, 126 not executable, 128 otherwise).
 * exit: a watcher per running container waits on its shim; on exit it records the status,
 *   unmounts the rootfs, deletes the runtime state (cgroup) and wakes waiters.
 * adopt (berthd start): running containers are re-watched through their shims; ones that
 *   exited while berthd was down are finished the same way.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BerthError,
  CleanupStack,
  type Logger,
  conflict,
  errnoCode,
  invalidParameter,
} from '../../common/index.ts';
import type { SnapshotStore } from '../../image/index.ts';
import type { ExitStatus, ExternalRuntime, Runtime } from '../../runtime/index.ts';
import { externalRuntime, type RuntimeTable } from './runtimes.ts';
import type { EventBus } from '../events.ts';
import type { IoSession } from '../engine.ts';
import {
  containerLogAttrs,
  type NamespaceSource,
  type OciContext,
  parseSignal,
  resolveLogSettings,
  resolveUser,
  toOciSpec,
} from '../spec/index.ts';
import type { HostConfig } from '../../api/types/index.ts';
import type { Container, ContainerStore } from './container-store.ts';
import { hostsFile, readHostResolvConf, resolvConf, writeHostFiles } from './host-files.ts';
import { RestartSupervisor } from './restart-supervisor.ts';
import {
  type HostSecurity,
  findInitBinary,
  hostDevices,
  readHostSecurity,
  resolveBlockDevices,
  resolveDevice,
} from './host-security.ts';
import { type ContainerDefaults, defaultsContext, dnsSettings } from './container-defaults.ts';
import { prepareShm, releaseShm } from './ipc-shm.ts';
import { checkSameRemap, chownToRemappedRoot, containerRemap, shareContainerDir } from './userns.ts';
import type { UsernsRemap } from '../../platform/index.ts';
import { isRunning, type LifecycleState } from './state.ts';
import type { Networks } from '../networks/index.ts';
import type { ContainerVolumes } from '../volumes/index.ts';

export interface LifecycleDeps {
  store: ContainerStore;
  snapshots: SnapshotStore;
  runtime: Runtime;
  events: EventBus;
  /** Short-pathed folder for shim state (sockets must stay under 108 bytes): <execRoot>/<id>. */
  execRoot: string;
  cgroupParent: string;
  /** Connects started containers to their networks and releases them at exit. */
  networking: Networks;
  log: Logger;
  volumes: ContainerVolumes;
  /** berthd --userns-remap (see ./userns.ts). */
  usernsRemap?: UsernsRemap;
  /** The daemon's defaults for what a container leaves unset (--init, --dns, …). */
  defaults?: ContainerDefaults;
  /** The OCI runtimes by name (HostConfig.Runtime); absent: berth's own for every container. */
  runtimes?: RuntimeTable;
  runtimesRoot?: string;
}

type PendingAttach = {
  streams: { stdin: boolean; stdout: boolean; stderr: boolean };
  output: PassThrough;
  input?: PassThrough;
};

/**
 * Notifications: 'running' (id, adopted) after a start or (adopted true) a re-adoption, 'exit' (id, code) after a container
 * stops, 'removed' (id) after removal.
 */
export class ContainerLifecycle extends EventEmitter {
  readonly #d: LifecycleDeps;
  readonly #pendingAttach = new Map<string, PendingAttach[]>();
  readonly #starting = new Set<string>();
  readonly #watching = new Set<string>();
  #hostSecurity?: Promise<HostSecurity>;
  /** Serialises start/stop/kill per container. */
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Restart policies: back-off, cancelled restarts, pending timers. */
  readonly restarts = new RestartSupervisor();
  /** berthd is stopping: stops are not manual stops. */
  shuttingDown = false;

  constructor(deps: LifecycleDeps) {
    super();
    this.setMaxListeners(0);
    this.#d = deps;
  }

  /** The runc-compatible runtime that runs this container, when it is not berth's own. */
  #externalRuntime(name: string | undefined): { external?: ExternalRuntime } {
    const table = this.#d.runtimes;
    if (!table || !name) return {};
    const external = externalRuntime(table, name, this.#d.runtimesRoot ?? this.#d.execRoot);
    return external ? { external } : {};
  }

  stateDir(id: string): string {
    return join(this.#d.execRoot, id);
  }

  rootfsDir(id: string): string {
    return this.#d.snapshots.rootfsPath(id);
  }

  bundleDir(id: string): string {
    return join(this.#d.store.dir(id), 'bundle');
  }

  logPath(id: string): string {
    return join(this.#d.store.dir(id), `${id}-json.log`);
  }

  /** Runs `fn` after any other operation on the same container has finished. */
  async serialize<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.#locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(id) === next) this.#locks.delete(id);
    }
  }

  async start(c: Container): Promise<void> {
    const { record } = c;
    const id = record.id;
    const spec = record.spec;
    const undo = new CleanupStack();
    this.#starting.add(id);
    try {
      const remap = containerRemap(this.#d.usernsRemap, record.hostConfig);
      checkSameRemap(record, remap);
      const logAttrs = containerLogAttrs(record, this.logPath(id));
      const rootfs = await this.#d.snapshots.mount(id, undefined, remap ? { idMap: remap.idMap } : {});
      undo.defer(() => this.#d.snapshots.unmount(rootfs));
      const mounts = await this.#d.volumes.setup(id, record.mountPoints ?? []);
      undo.defer(() => this.#d.volumes.release(id, record.mountPoints ?? []));

      const dir = this.#d.store.dir(id);
      if (remap) await shareContainerDir(dir, remap);
      const paths = {
        hostname: join(dir, 'hostname'),
        hosts: join(dir, 'hosts'),
        resolvConf: join(dir, 'resolv.conf'),
      };
      const hostConfig = record.hostConfig;
      await writeHostFiles(paths, {
        hostname: spec.hostname,
        hosts: hostsFile([]),
        resolvConf: resolvConf(
          await readHostResolvConf(),
          dnsSettings(this.#d.defaults ?? {}, {
            dns: hostConfig.Dns,
            search: hostConfig.DnsSearch,
            options: hostConfig.DnsOptions,
          }),
        ),
      });

      // The container's root owns its hostname, hosts and resolv.conf, as without remapping.
      if (remap) await chownToRemappedRoot(Object.values(paths), remap);
      const user = resolveUser(
        record.config.User ?? '',
        await readUserFiles(rootfs),
        hostConfig.GroupAdd ?? [],
      );
      // Docker's legacy --link environment (ALIAS_PORT_80_TCP=…), from the linked containers.
      const linkEnv = this.#d.networking.linkEnv(c);
      const oci = toOciSpec(linkEnv.length ? { ...spec, env: [...linkEnv, ...spec.env] } : spec, {
        ...(await this.#securityContext(c, undo)),
        ...defaultsContext(this.#d.defaults ?? {}, record.hostConfig),
        rootfsPath: rootfs,
        cgroupsPath: `/${this.#d.cgroupParent}/${id}`,
        hostnamePath: paths.hostname,
        hostsPath: paths.hosts,
        resolvConfPath: paths.resolvConf,
        user,
        mounts,
        ...this.#namespaceSources(record.hostConfig),
        ...this.#usernsContext(record.hostConfig, remap),
      });
      const bundle = this.bundleDir(id);
      await mkdir(bundle, { recursive: true });
      await writeFile(join(bundle, 'config.json'), JSON.stringify(oci));

      const stateDir = this.stateDir(id);
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      const logging = resolveLogSettings(hostConfig.LogConfig?.Type, hostConfig.LogConfig?.Config);
      const { pid } = await this.#d.runtime.create({
        id,
        bundleDir: bundle,
        stateDir,
        logPath: logging.driver === 'none' ? undefined : this.logPath(id),
        ...(logging.rotate ? { logRotate: logging.rotate } : {}),
        ...(logAttrs ? { logAttrs } : {}),
        openStdin: record.config.OpenStdin ?? false,
        stdinOnce: record.config.StdinOnce ?? false,
        ...this.#externalRuntime(hostConfig.Runtime),
      });
      undo.defer(() => this.#d.runtime.delete(stateDir, oci));
      undo.defer(() => this.#d.runtime.kill(stateDir, 9).catch(() => {}));

      // The network namespace exists and the process waits before execve: plug it in.
      await this.#d.networking.attach(c, pid, paths);
      undo.defer(() => this.#d.networking.release(id));
      await this.#d.networking.writeFilesWithoutSandbox(c, paths);

      await this.#connectPendingAttaches(id, stateDir);
      try {
        await this.#d.runtime.start(stateDir);
      } catch (err) {
        throw startError(err);
      }
      undo.commit();
      const startedAt = new Date().toISOString();
      await this.#d.store.setState(c, { status: 'running', pid, startedAt });
      this.#d.events.publish('container', 'start', id, eventAttributes(c));
      this.#watch(c);
      this.emit('running', id);
    } catch (err) {
      await undo.rollback().catch((e) => this.#d.log.warn('start rollback failed', { id, err: e }));
      this.#failPendingAttaches(id);
      await this.#d.store.setState(c, failedStart(c.state, err));
      throw err;
    } finally {
      this.#starting.delete(id);
    }
  }

  /**
   * An attach session. Before start (docker run's order: attach, then start) the session is
   * connected to the shim when the container starts, so no output is lost.
   */
  async attach(
    c: Container,
    streams: { stdin: boolean; stdout: boolean; stderr: boolean },
  ): Promise<IoSession> {
    const tty = c.record.config.Tty ?? false;
    const stdin = streams.stdin && (c.record.config.OpenStdin ?? false);
    if (isRunning(c.state) && !this.#starting.has(c.record.id)) {
      const sock = await this.#d.runtime.attach(this.stateDir(c.record.id), { ...streams, stdin });
      return socketSession(tty, sock, stdin);
    }
    if (c.state.status !== 'created' && c.state.status !== 'exited') {
      throw conflict(`You cannot attach to a stopped container, start it first`);
    }
    const pending: PendingAttach = {
      streams: { ...streams, stdin },
      output: new PassThrough(),
      input: stdin ? new PassThrough() : undefined,
    };
    const list = this.#pendingAttach.get(c.record.id) ?? [];
    list.push(pending);
    this.#pendingAttach.set(c.record.id, list);
    const close = () => {
      const l = this.#pendingAttach.get(c.record.id);
      if (l)
        this.#pendingAttach.set(
          c.record.id,
          l.filter((p) => p !== pending),
        );
      pending.output.end();
    };
    return { tty, output: pending.output, input: pending.input, close };
  }

  async #connectPendingAttaches(id: string, stateDir: string): Promise<void> {
    const pending = this.#pendingAttach.get(id) ?? [];
    this.#pendingAttach.delete(id);
    for (const p of pending) {
      const sock = await this.#d.runtime.attach(stateDir, p.streams);
      sock.pipe(p.output);
      sock.on('error', () => p.output.end());
      if (p.input) p.input.pipe(sock);
      p.output.on('close', () => sock.destroy());
    }
  }

  #failPendingAttaches(id: string): void {
    for (const p of this.#pendingAttach.get(id) ?? []) p.output.end();
    this.#pendingAttach.delete(id);
  }

  /** Sends a signal to the container's init. Docker: 409 when not running. */
  async kill(c: Container, signal: string | number): Promise<void> {
    if (c.state.status === 'restarting') {
      await this.#manualStop(c);
      await this.#stopRestarting(c);
      return;
    }
    if (!isRunning(c.state)) {
      throw conflict(`Cannot kill container: ${c.record.id}: Container ${c.record.id} is not running`);
    }
    await this.#manualStop(c);
    const sig = typeof signal === 'number' ? signal : parseSignal(signal);
    await this.#d.runtime.kill(this.stateDir(c.record.id), sig);
    // daemon/kill.go: SIGKILL or the stop signal (any signal when none is set) to a paused
    // container resumes it, so the signal is acted on.
    const stopSignal = c.record.config.StopSignal;
    if (c.state.status === 'paused' && (sig === 9 || !stopSignal || parseSignal(stopSignal) === sig)) {
      await this.#d.runtime.resume(this.stateDir(c.record.id));
      await this.#d.store.setState(c, { ...c.state, status: 'running' });
    }
    this.#d.events.publish('container', 'kill', c.record.id, { ...eventAttributes(c), signal: String(sig) });
  }

  /**
   * Docker's stop: the stop signal, then SIGKILL after `timeout` seconds (-1 waits forever),
   * then wait for the exit to be recorded.
   */
  async stop(c: Container, options: { timeout?: number; signal?: string }): Promise<void> {
    if (c.state.status === 'restarting') {
      await this.#manualStop(c);
      await this.#stopRestarting(c);
      this.#d.events.publish('container', 'stop', c.record.id, eventAttributes(c));
      return;
    }
    if (!isRunning(c.state)) return;
    const exited = this.#nextExit(c.record.id);
    const stopSignal = options.signal || c.record.config.StopSignal || 'SIGTERM';
    const timeout = options.timeout ?? c.record.config.StopTimeout ?? 10;
    try {
      await this.kill(c, stopSignal);
    } catch (err) {
      if (!isRunning(c.state)) return;
      // The process may have exited just now (a flapping container): its exit is being recorded.
      if (await withTimeout(exited, 2000)) return;
      throw err;
    }
    if (timeout < 0) {
      await exited;
    } else if (!(await withTimeout(exited, timeout * 1000))) {
      if (isRunning(c.state)) await this.kill(c, 'SIGKILL').catch(() => {});
      await exited;
    }
    this.#d.events.publish('container', 'stop', c.record.id, eventAttributes(c));
  }

  /** A stop or kill through the API: Docker's HasBeenManuallyStopped, kept in the record. */
  async #manualStop(c: Container): Promise<void> {
    this.restarts.cancel(c.record.id);
    // Stops done by berthd's shutdown are not the user's (Docker: !daemon.IsShuttingDown()).
    if (c.record.manuallyStopped || this.shuttingDown) return;
    c.record.manuallyStopped = true;
    await this.#d.store.saveRecord(c);
  }

  /** A container waiting to be restarted is stopped: it stays exited with its last exit. */
  async #stopRestarting(c: Container): Promise<void> {
    if (c.state.status !== 'restarting') return;
    await this.#d.store.setState(c, { ...c.state, status: 'exited' });
    this.emit('exit', c.record.id, c.state.exitCode);
  }

  /** A manual start: RestartCount back to 0, the manual stop forgotten (Docker's containerStart). */
  async resetRestart(c: Container): Promise<void> {
    this.restarts.reset(c.record.id);
    if (c.record.restartCount === 0 && !c.record.manuallyStopped) return;
    c.record.restartCount = 0;
    c.record.manuallyStopped = false;
    await this.#d.store.saveRecord(c);
  }

  /** Resolves with the exit code at the container's next exit. */
  #nextExit(id: string): Promise<number> {
    return new Promise((resolve) => {
      const onExit = (exitId: string, code: number) => {
        if (exitId !== id) return;
        this.off('exit', onExit);
        resolve(code);
      };
      this.on('exit', onExit);
    });
  }

  nextExit(id: string): Promise<number> {
    return this.#nextExit(id);
  }

  /** Watches a running container until its process exits. Fire-and-forget by design. */
  #watch(c: Container): void {
    const id = c.record.id;
    if (this.#watching.has(id)) return;
    this.#watching.add(id);
    const stateDir = this.stateDir(id);
    void this.#d.runtime
      .wait(stateDir)
      .then((exit) => this.#finish(c, exit))
      .catch((err) => this.#d.log.error('watching container failed', { id, err }))
      .finally(() => this.#watching.delete(id));
  }

  async #finish(c: Container, exit: ExitStatus): Promise<void> {
    const id = c.record.id;
    const startedAt = isRunning(c.state) ? c.state.startedAt : new Date().toISOString();
    await this.cleanup(c);
    const ranMs = Math.max(0, Date.parse(exit.finishedAt) - Date.parse(startedAt));
    const decision = this.restarts.decide(c, exit.exitCode, ranMs);
    if (decision.restart) {
      c.record.restartCount += 1;
      await this.#d.store.saveRecord(c);
    }
    await this.#d.store.setState(c, {
      status: decision.restart ? 'restarting' : 'exited',
      exitCode: exit.exitCode,
      startedAt,
      finishedAt: exit.finishedAt,
      oomKilled: exit.oomKilled,
      error: '',
    });
    const attrs = { ...eventAttributes(c), exitCode: String(exit.exitCode) };
    if (exit.oomKilled) this.#d.events.publish('container', 'oom', id, eventAttributes(c));
    this.#d.events.publish('container', 'die', id, attrs);
    this.emit('exit', id, exit.exitCode);
    if (decision.restart) {
      this.#d.log.debug('restarting container', { id, delayMs: decision.delayMs });
      this.restarts.schedule(id, decision.delayMs, () => void this.#autoRestart(c));
    }
  }

  /** The restart policy's restart, after the back-off. */
  async #autoRestart(c: Container): Promise<void> {
    const id = c.record.id;
    await this.serialize(id, async () => {
      if (c.state.status !== 'restarting' || this.#d.store.find(id) !== c) return;
      await this.start(c);
    }).catch((err) => this.#d.log.warn('restarting container failed', { id, err }));
  }

  /**
   * The host-dependent parts of the OCI context: the capabilities --privileged grants, the
   * seccomp platform, device nodes (--device, or all host devices when privileged), the init
   * binary for --init and the /dev/shm source of the IPC mode.
   */
  async #securityContext(c: Container, undo: CleanupStack): Promise<Partial<OciContext>> {
    const spec = c.record.spec;
    this.#hostSecurity ??= readHostSecurity();
    const host = await this.#hostSecurity;
    const devices = (await Promise.all(spec.resources.devices.map((d) => resolveDevice(d)))).flat();
    const r = spec.resources;
    const blockDevices = await resolveBlockDevices(
      [
        ...r.blkioWeightDevices,
        ...r.blkioDeviceReadBps,
        ...r.blkioDeviceWriteBps,
        ...r.blkioDeviceReadIOps,
        ...r.blkioDeviceWriteIOps,
      ].map((d) => d.path),
    );
    let initPath: string | undefined;
    if (spec.init ?? this.#d.defaults?.init) {
      initPath = await findInitBinary();
      // Docker's error when its docker-init is missing.
      if (!initPath) throw invalidParameter('exec: "docker-init": executable file not found in $PATH');
    }
    const shmPath = await prepareShm(spec.namespaces.ipc, {
      containerDir: this.#d.store.dir(c.record.id),
      shmSize: spec.storage.shmSize,
      undo,
      ...(this.#d.usernsRemap ? { owner: this.#d.usernsRemap.root } : {}),
      donor: (ref) => {
        const d = this.#d.store.get(ref);
        return {
          id: d.record.id,
          running: isRunning(d.state),
          ipcMode: d.record.spec.namespaces.ipc,
          dir: this.#d.store.dir(d.record.id),
        };
      },
    });
    return {
      ...host,
      devices,
      blockDevices,
      ...(spec.security.privileged ? { hostDevices: await hostDevices() } : {}),
      ...(initPath ? { initPath } : {}),
      ...(shmPath ? { shmPath } : {}),
    };
  }

  /** Releases what a started container holds: runtime state (cgroup) and the rootfs mount. */
  async cleanup(c: Container): Promise<void> {
    const id = c.record.id;
    try {
      releaseShm(this.#d.store.dir(id));
    } catch (err) {
      this.#d.log.warn('shm unmount failed', { id, err });
    }
    const stateDir = this.stateDir(id);
    try {
      const spec = JSON.parse(await readFile(join(this.bundleDir(id), 'config.json'), 'utf8'));
      await this.#d.runtime.delete(stateDir, spec);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.#d.log.warn('runtime delete failed', { id, err });
    }
    await this.#d.networking.release(id).catch((err) => {
      this.#d.log.warn('network release failed', { id, err });
    });
    await this.#d.snapshots.unmount(this.rootfsDir(id)).catch((err) => {
      this.#d.log.warn('rootfs unmount failed', { id, err });
    });
    await this.#d.volumes.release(id, c.record.mountPoints ?? []);
  }

  /**
   * Crash recovery: berthd died after the runtime started the process but before the state was
   * written. The process runs, so the container is running.
   */
  async recoverStarted(c: Container, pid: number): Promise<void> {
    await this.#d.store.setState(c, { status: 'running', pid, startedAt: new Date().toISOString() });
    this.#watch(c);
    this.emit('running', c.record.id);
  }

  /** berthd start: re-attach to running containers, finish the ones that exited meanwhile. */
  async adopt(c: Container): Promise<void> {
    if (!isRunning(c.state)) return;
    const st = await this.#d.runtime.state(this.stateDir(c.record.id));
    switch (st.status) {
      case 'running':
      case 'created':
        // The volume store counts users in memory: take this container's uses again.
        await this.#d.volumes
          .setup(c.record.id, c.record.mountPoints ?? [])
          .catch((err) => this.#d.log.warn('re-acquiring volumes failed', { id: c.record.id, err }));
        this.#watch(c);
        this.emit('running', c.record.id, true);
        return;
      case 'stopped':
        await this.#finish(c, st.exit);
        return;
      case 'gone':
        // The shim and its state are gone (host reboot): Docker reports such containers as
        // exited with code 255.
        await this.#finish(c, {
          exitCode: 255,
          signal: 0,
          oomKilled: false,
          finishedAt: new Date().toISOString(),
        });
        return;
    }
  }

  /** The remapping a container with this HostConfig runs with (undefined: none). */
  remapOf(hostConfig: Pick<HostConfig, 'UsernsMode'>): UsernsRemap | undefined {
    return containerRemap(this.#d.usernsRemap, hostConfig);
  }

  /**
   * The user namespace (oci_linux.go WithNamespaces): a new one with the daemon's maps, or, for a
   * container joining another's network, IPC or PID namespace, that container's.
   */
  #usernsContext(hostConfig: HostConfig, remap: UsernsRemap | undefined): Partial<OciContext> {
    if (!this.#d.usernsRemap) return {};
    if (!remap) return { daemonUsernsRemap: true };
    const maps = { uidMap: remap.idMap.uidMap, gidMap: remap.idMap.gidMap };
    for (const mode of [hostConfig.NetworkMode, hostConfig.IpcMode, hostConfig.PidMode]) {
      if (!mode?.startsWith('container:')) continue;
      const other = this.#d.store.get(mode.slice('container:'.length));
      if (isRunning(other.state) && containerRemap(remap, other.record.hostConfig)) {
        return { daemonUsernsRemap: true, userns: { ...maps, path: `/proc/${other.state.pid}/ns/user` } };
      }
    }
    return { daemonUsernsRemap: true, userns: maps };
  }

  /**
   * Where each namespace comes from: new, the host's, or another container's
   * (`container:<name|id>` joins /proc/<its pid>/ns/<type>).
   */
  #namespaceSources(hostConfig: HostConfig): Pick<OciContext, 'netns' | 'pidns' | 'ipcns' | 'utsns'> {
    const source = (value: string | undefined, ns: string, what: string): NamespaceSource => {
      if (value === 'host') return { mode: 'host' };
      if (value?.startsWith('container:')) {
        const other = this.#d.store.get(value.slice('container:'.length));
        if (!isRunning(other.state)) {
          throw conflict(`cannot join ${what} of a non running container: ${other.record.id}`);
        }
        return { mode: 'path', path: `/proc/${other.state.pid}/ns/${ns}` };
      }
      return { mode: 'new' };
    };
    return {
      netns: source(hostConfig.NetworkMode, 'net', 'network'),
      pidns: source(hostConfig.PidMode, 'pid', 'PID namespace'),
      ipcns: source(hostConfig.IpcMode, 'ipc', 'IPC namespace'),
      utsns: source(hostConfig.UTSMode, 'uts', 'UTS namespace'),
    };
  }
}

/** A session over a shim attach socket. */
function socketSession(tty: boolean, sock: Socket, stdin: boolean): IoSession {
  return { tty, output: sock, input: stdin ? sock : undefined, close: () => sock.destroy() };
}

/**
 * The state after a failed start (moby daemon/start.go): the status stays what it was (created,
 * or exited for a restart), with the failure's exit code and error.
 */
function failedStart(prev: LifecycleState, err: unknown): LifecycleState {
  const exitCode = err instanceof BerthError && 'exitCode' in err ? (err.exitCode as number) : 128;
  const error = (err as Error).message;
  if (prev.status === 'exited') return { ...prev, exitCode, error };
  if (prev.status === 'restarting') return { ...prev, status: 'exited', exitCode, error };
  return { status: 'created', exitCode, error };
}

/**
 * Docker maps runtime start failures to exit codes (daemon/start.go): 127 when the command is
 * not found, 126 when it cannot be executed, 128 for anything else; the error is a 400.
 */
function startError(err: unknown): BerthError {
  const message = (err as Error).message;
  const exitCode = /executable file not found|no such file or directory/i.test(message)
    ? 127
    : /permission denied/i.test(message)
      ? 126
      : 128;
  const e = invalidParameter(message, { cause: err });
  Object.assign(e, { exitCode });
  return e;
}

async function readUserFiles(rootfs: string): Promise<{ passwd?: string; group?: string }> {
  // Read through the mounted rootfs. A symlinked /etc/passwd is resolved by the kernel against
  // the host root here; the files are only parsed, never written, so that is harmless (runc
  // resolves them the same way before pivot_root).
  const read = async (p: string) => {
    try {
      return await readFile(join(rootfs, p), 'utf8');
    } catch {
      return undefined;
    }
  };
  const [passwd, group] = await Promise.all([read('etc/passwd'), read('etc/group')]);
  return { passwd, group };
}

export function eventAttributes(c: Container): Record<string, string> {
  return { ...(c.record.config.Labels ?? {}), image: c.record.image, name: c.record.name };
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  try {
    return await Promise.race([
      p.then(() => true),
      sleep(ms, false, { signal: ac.signal }).catch(() => false),
    ]);
  } finally {
    ac.abort();
  }
}
