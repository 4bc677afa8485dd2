import type { PassThrough } from 'node:stream';
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  BerthError,
  CleanupStack,
  conflict,
  errnoCode,
  internal,
  invalidParameter,
  loadChildProcess,
  loadCrypto,
  loadStream,
  type Logger,
} from '../common/index.ts';
import type { LinuxResources, OciProcess, RuntimeSpec } from '../oci/index.ts';
import { type LogRotation, encodeHelperPlan } from '../platform/index.ts';
import type { CgroupManager } from './cgroups/index.ts';
import { planForExec, planFromSpec } from './plan-from-spec.ts';
import {
  type ExternalRuntime,
  externalKill,
  externalStatus,
  externalUpdate,
  runExternal,
} from './external.ts';
import { connectShim, isShimGone, shimGone, shimRequest } from './shim-client.ts';

export type { ExternalRuntime } from './external.ts';

export interface RuntimeConfig {
  /** native/build/berth-shim */
  shimPath: string;
  cgroups: CgroupManager;
  log: Logger;
}

export interface CreateOptions {
  /** Container id (64 hex). */
  id: string;
  /** Holds config.json; root.path is the rootfs directory (already mounted by the engine). */
  bundleDir: string;
  /** A directory owned by the shim for this container (shim.sock, exit.json, pid files, plan). delete() removes it. */
  stateDir: string;
  /** json-file log path, or undefined for no log. */
  logPath?: string;
  /** Log rotation done by the shim (which writes the log even while berthd is down). */
  logRotate?: LogRotation;
  /** json-file's `attrs` (a JSON object) written into every log line by the shim. */
  logAttrs?: string;
  /** Keep the container's stdin open for attachers. */
  openStdin: boolean;
  /** Close the container's stdin when the first attacher's input ends. */
  stdinOnce: boolean;
  /** The container's stdio is this process's fds 0-2, as `runc create` does: no log, no attach. */
  inheritStdio?: boolean;
  /** With process.terminal: the pty master is sent to this Unix socket (runc's --console-socket). */
  consoleSocket?: string;
  /** Another runc-compatible runtime creates and starts the container, under our shim. */
  external?: ExternalRuntime;
  /** The cgroup when the spec names none (default /berth/<id>). */
  defaultCgroupsPath?: string;
}

export interface ExitStatus {
  /** 128+signal when killed by a signal, as Docker reports it. */
  exitCode: number;
  signal: number;
  oomKilled: boolean;
  /** RFC3339Nano, UTC. */
  finishedAt: string;
}

export type ShimState =
  | { status: 'created'; pid: number }
  | { status: 'running'; pid: number }
  | { status: 'stopped'; exit: ExitStatus }
  | { status: 'gone' };

export interface AttachStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A process started by exec(). Its stdio is piped; with a tty, stdout carries the pty and stderr is undefined. */
export interface ExecProcess {
  /** Host pid. */
  pid: number;
  stdin?: Writable;
  stdout: Readable;
  stderr?: Readable;
  /** Sets the pty size (no-op without a tty). */
  resize(rows: number, cols: number): void;
  /** The exit code: 128+signal when killed. */
  exited: Promise<number>;
}

/**
 * The process could not be executed (`exec: "x": executable file not found in $PATH`). exitCode is
 * what Docker reports for it: 127 (not found) or 126 (not executable).
 */
export class ExecError extends BerthError {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super('InvalidParameter', message);
    this.exitCode = exitCode;
  }
}

/** What create() records in the state dir so every later call (also after a berthd restart) finds its cgroup. */
interface RuntimeRecord {
  id: string;
  cgroupsPath: string;
  external?: ExternalRuntime;
}

/**
 * Runs OCI bundles with berth-shim, one detached shim per container.
 *
 * Lifecycle: create() spawns the shim, which prepares the container up to execve and waits
 * ("created", like `runc create`); attach() connects streams; start() lets it exec; wait()/state()
 * watch it; kill() signals it; when the init exits the shim writes exit.json and exits;
 * delete() removes the cgroup and the state dir. Everything is keyed by the state dir, so a new
 * berthd can pick up containers that an old one created.
 */
export class Runtime {
  readonly #shimPath: string;
  readonly #cgroups: CgroupManager;
  readonly #log: Logger;

  constructor(config: RuntimeConfig) {
    this.#shimPath = config.shimPath;
    this.#cgroups = config.cgroups;
    this.#log = config.log.child({ component: 'runtime' });
  }

  /** Creates the container: cgroup, shim, init waiting before execve. Resolves with the init's host pid. */
  async create(opts: CreateOptions, options?: { signal?: AbortSignal }): Promise<{ pid: number }> {
    options?.signal?.throwIfAborted();
    const spec = await readSpec(opts.bundleDir);
    const cgroupsPath = spec.linux?.cgroupsPath || opts.defaultCgroupsPath || `/berth/${opts.id}`;
    await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
    await rm(join(opts.stateDir, 'exit.json'), { force: true });
    const undo = new CleanupStack();
    try {
      const cgroup = await this.#cgroups.create(cgroupsPath, withRuncDevices(spec.linux?.resources));
      undo.add(cgroup, (c) => c.remove());
      const plan = planFromSpec(spec, {
        bundleDir: opts.bundleDir,
        cgroupProcs: cgroup.procsFiles(),
        cgroupVersion: this.#cgroups.version,
        ...(this.#cgroups.version === 1 ? { cgroupMountOrder: await cgroupV1MountOrder() } : {}),
        logPath: opts.logPath,
        ...(opts.logRotate ? { logRotate: opts.logRotate } : {}),
        ...(opts.logAttrs ? { logAttrs: opts.logAttrs } : {}),
        openStdin: opts.openStdin,
        stdinOnce: opts.stdinOnce,
      });
      const record: RuntimeRecord = {
        id: opts.id,
        cgroupsPath,
        ...(opts.external ? { external: opts.external } : {}),
      };
      await writeFile(join(opts.stateDir, 'runtime.json'), JSON.stringify(record));
      const planPath = join(opts.stateDir, 'plan');
      await writeFile(planPath, encodeHelperPlan(plan), { mode: 0o600 });
      const args = ['run', '--plan', planPath, '--state', opts.stateDir];
      if (opts.inheritStdio) args.push('--stdio', 'inherit');
      if (opts.consoleSocket) args.push('--console-socket', opts.consoleSocket);
      if (opts.external) {
        args.push('--runtime', opts.external.path, '--bundle', opts.bundleDir, '--id', opts.id);
        for (const a of opts.external.args) args.push('--runtime-arg', a);
      }
      const { code, stdout, stderr } = await runShim(this.#shimPath, args, opts.inheritStdio ?? false);
      const m = /^ok (\d+) (\d+)/.exec(stdout);
      if (code !== 0 || !m) {
        const msg = stdout.startsWith('error ') ? stdout.slice(6).trim() : (stdout + stderr).trim();
        if (opts.external && /exec: |executable file not found|no such file or directory/.test(msg))
          throw new ExecError(msg, execExitCode(msg));
        throw internal(`create container: ${msg || `berth-shim exited with code ${code}`}`);
      }
      const pid = Number(m[1]);
      if (options?.signal?.aborted) {
        await this.#destroy(opts.stateDir, pid);
        options.signal.throwIfAborted();
      }
      undo.commit();
      this.#log.debug('container created', { id: opts.id, pid, shimPid: Number(m[2]) });
      return { pid };
    } finally {
      await undo.rollback();
    }
  }

  /** Lets the created init execve. Rejects with ExecError when the process cannot be executed. */
  async start(stateDir: string): Promise<void> {
    const reply = await this.#request(stateDir, 'start');
    if (reply.startsWith('ok')) return;
    const msg = reply.replace(/^error /, '');
    if (msg.startsWith('exec')) throw new ExecError(msg, execExitCode(msg));
    if (msg === 'container already started') throw conflict(msg);
    throw internal(`start container: ${msg}`);
  }

  /** The container's state from its state dir and a live check of its shim. */
  async state(stateDir: string): Promise<ShimState> {
    const exit = await this.#readExit(stateDir);
    if (exit) return { status: 'stopped', exit };
    let reply: string | undefined;
    try {
      reply = await shimRequest(stateDir, 'state');
    } catch (err) {
      if (!isShimGone(err)) throw err;
    }
    const m = reply && /^(created|running) (\d+)/.exec(reply);
    if (m) return { status: m[1] as 'created' | 'running', pid: Number(m[2]) };
    const after = await this.#readExit(stateDir);
    return after ? { status: 'stopped', exit: after } : { status: 'gone' };
  }

  /** Resolves when the container's init has exited (at once if it has). */
  async wait(stateDir: string, options?: { signal?: AbortSignal }): Promise<ExitStatus> {
    const exit = await this.#readExit(stateDir);
    if (exit) return exit;
    try {
      await shimRequest(stateDir, 'wait', options);
    } catch (err) {
      if (!isShimGone(err)) throw err;
    }
    options?.signal?.throwIfAborted();
    const after = await this.#readExit(stateDir);
    if (!after) throw shimGone(stateDir);
    return after;
  }

  /** kill(2) of the container's init, through its shim. Conflict when it is not running. */
  async kill(stateDir: string, signal: number): Promise<void> {
    const record = await readRecord(stateDir).catch(() => undefined);
    if (record?.external) {
      const state = await this.state(stateDir);
      if (state.status !== 'created' && state.status !== 'running')
        throw conflict('container is not running');
      await externalKill(record.external, record.id, signal);
      return;
    }
    let reply: string | undefined;
    try {
      reply = await shimRequest(stateDir, `kill ${signal}`);
    } catch (err) {
      if (!isShimGone(err)) throw err;
    }
    if (reply === undefined) throw conflict('container is not running');
    if (!reply.startsWith('ok')) throw internal(reply.replace(/^error /, ''));
  }

  /**
   * A connection streaming the container's output (stdcopy frames without a tty, raw bytes with
   * one); bytes written to it are the container's stdin. Ends when the container exits.
   */
  async attach(stateDir: string, streams: AttachStreams): Promise<Socket> {
    let sock: Socket;
    try {
      sock = await connectShim(stateDir);
    } catch (err) {
      if (isShimGone(err)) throw conflict('container is not running', { cause: err });
      throw err;
    }
    const bit = (b: boolean) => (b ? 1 : 0);
    sock.write(`attach ${bit(streams.stdin)} ${bit(streams.stdout)} ${bit(streams.stderr)}\n`);
    return sock;
  }

  async resize(stateDir: string, rows: number, cols: number): Promise<void> {
    if (
      !Number.isInteger(rows) ||
      !Number.isInteger(cols) ||
      rows < 0 ||
      cols < 0 ||
      rows > 65535 ||
      cols > 65535
    ) {
      throw invalidParameter(`invalid tty size ${rows}x${cols}`);
    }
    const reply = await this.#request(stateDir, `resize ${rows} ${cols}`);
    if (!reply.startsWith('ok')) throw conflict(reply.replace(/^error /, ''));
  }

  /**
   * Runs `process` inside the running container (docker exec). Resolves once it runs; rejects with
   * ExecError when it cannot be executed.
   */
  async exec(
    stateDir: string,
    spec: RuntimeSpec,
    process: OciProcess,
    options: { tty: boolean; stdin: boolean },
  ): Promise<ExecProcess> {
    const state = await this.state(stateDir);
    if (state.status !== 'running') throw conflict('container is not running');
    const record = await readRecord(stateDir);
    const tag = loadCrypto().randomBytes(6).toString('hex');
    let args: string[];
    // What only the exec needs: the plan, or the runtime's exec directory (process.json, its
    // pid file and log); removed once the process runs (or fails to).
    let scratch: string;
    if (record.external) {
      scratch = join(stateDir, `exec-${tag}`);
      await mkdir(scratch, { mode: 0o700 });
      await writeFile(join(scratch, 'process.json'), JSON.stringify({ ...process, terminal: options.tty }), {
        mode: 0o600,
      });
      args = ['rtexec', '--runtime', record.external.path];
      for (const a of record.external.args) args.push('--runtime-arg', a);
      args.push('--id', record.id, '--state', scratch, '--process', 'process.json');
      if (options.tty) args.push('--tty', '1');
    } else {
      const plan = planForExec(
        spec,
        { ...process, terminal: options.tty },
        { initPid: state.pid, cgroupProcs: this.#cgroups.open(record.cgroupsPath).procsFiles() },
      );
      scratch = join(stateDir, `exec-${tag}.plan`);
      await writeFile(scratch, encodeHelperPlan(plan), { mode: 0o600 });
      args = ['exec', '--plan', scratch];
    }
    const child = loadChildProcess().spawn(this.#shimPath, args, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    const control = child.stdio[3] as import('node:net').Socket;
    // Node resumes (and so discards) a child's stdio streams that nobody listens to when the
    // child exits (child_process flushStdio): a fast process would lose its output before the
    // caller attaches. Buffer stdout from the start.
    const stdout = child.stdout!.pipe(new (loadStream().PassThrough)());
    // Until the process runs, stderr may carry the shim's error message: keep what arrives.
    const early: Buffer[] = [];
    const keepEarly = (chunk: Buffer) => early.push(chunk);
    child.stderr!.on('data', keepEarly);
    const exited = new Promise<number>((resolve) => {
      child.on('close', (code, signal) =>
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
      );
      child.on('error', () => resolve(126));
    });
    const pid = await new Promise<number | undefined>((resolve) => {
      let buf = '';
      control.setEncoding('utf8');
      const onData = (chunk: string) => {
        buf += chunk;
        const m = /^pid (\d+)\n/.exec(buf);
        if (m) {
          control.removeListener('data', onData);
          resolve(Number(m[1]));
        }
      };
      control.on('data', onData);
      control.on('error', () => resolve(undefined));
      void exited.then(() => resolve(undefined));
    });
    await rm(scratch, { recursive: true, force: true }).catch(() => {});
    if (pid === undefined) {
      const code = await exited;
      const msg = Buffer.concat(early).toString().trim() || `exec failed with code ${code}`;
      if (code === 126 || code === 127) throw new ExecError(msg, code);
      throw internal(`exec: ${msg}`);
    }
    child.stderr!.removeListener('data', keepEarly);
    let stderr: PassThrough | undefined;
    if (options.tty) {
      // With a tty, stderr only carries the shim's own errors; it is drained, not exposed.
      child.stderr!.resume();
    } else {
      stderr = new (loadStream().PassThrough)();
      for (const chunk of early) stderr.write(chunk);
      child.stderr!.pipe(stderr);
    }
    return {
      pid,
      stdin: child.stdin ?? undefined,
      stdout,
      stderr,
      resize: (rows, cols) => {
        if (options.tty && control.writable) control.write(`resize ${rows} ${cols}\n`);
      },
      exited,
    };
  }

  /**
   * Starts `process` in the running container with this process's stdio, or with a terminal whose
   * pty master goes to `consoleSocket` (runc's protocol), and resolves with its host pid once it
   * runs (`runc exec -d`). `exited` is its exit code, if this process is still there then.
   */
  async execDetached(
    stateDir: string,
    spec: RuntimeSpec,
    process: OciProcess,
    opts: { consoleSocket?: string } = {},
  ): Promise<{ pid: number; exited: Promise<number> }> {
    const state = await this.state(stateDir);
    if (state.status !== 'running') throw conflict('container is not running');
    const record = await readRecord(stateDir);
    const plan = planForExec(
      spec,
      { ...process, terminal: opts.consoleSocket !== undefined },
      { initPid: state.pid, cgroupProcs: this.#cgroups.open(record.cgroupsPath).procsFiles() },
    );
    const planPath = join(stateDir, `exec-${loadCrypto().randomBytes(6).toString('hex')}.plan`);
    await writeFile(planPath, encodeHelperPlan(plan), { mode: 0o600 });
    const args = ['exec', '--plan', planPath];
    if (opts.consoleSocket) args.push('--console-socket', opts.consoleSocket);
    const child = loadChildProcess().spawn(this.#shimPath, args, {
      // The shim's own errors, if any, reach our caller's stderr directly.
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
      detached: true,
    });
    const control = child.stdio[3] as Readable;
    let code = 1;
    const exited = new Promise<number>((resolve) => {
      child.on('exit', (c, signal) => {
        code = c ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
        resolve(code);
      });
      child.on('error', () => resolve(126));
    });
    const pid = await new Promise<number | undefined>((resolve) => {
      let buf = '';
      control.setEncoding('utf8').on('data', (chunk: string) => {
        buf += chunk;
        const m = /^pid (\d+)\n/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      child.on('close', () => resolve(undefined));
      child.on('error', () => resolve(undefined));
    });
    await unlink(planPath).catch(() => {});
    if (pid === undefined) throw new ExecError('exec failed', code === 127 || code === 126 ? code : 126);
    control.destroy();
    child.unref();
    return { pid, exited };
  }

  /** Sends `signal` to every process of the container (`runc kill --all`). */
  async killAll(stateDir: string, signal: number): Promise<void> {
    const record = await readRecord(stateDir);
    if (record.external) return await externalKill(record.external, record.id, signal, true);
    await this.#cgroups.open(record.cgroupsPath).killAll(signal);
  }

  /** Freezes every process of the container through its cgroup (docker pause); `<runtime> pause`. */
  async pause(stateDir: string): Promise<void> {
    const record = await readRecord(stateDir);
    if (record.external) return void (await runExternal(record.external, ['pause', record.id]));
    await this.#cgroups.open(record.cgroupsPath).freeze();
  }

  /** Whether the container's cgroup is frozen (paused); what `<runtime> state` says. */
  async paused(stateDir: string): Promise<boolean> {
    const record = await readRecord(stateDir);
    if (record.external) return (await externalStatus(record.external, record.id)) === 'paused';
    return await this.#cgroups.open(record.cgroupsPath).frozen();
  }

  /** Thaws a paused container (docker unpause); `<runtime> resume`. */
  async resume(stateDir: string): Promise<void> {
    const record = await readRecord(stateDir);
    if (record.external) {
      // Thawing is idempotent, as with the freezer: runc itself thaws a paused container it sends
      // SIGKILL to (docker kill then resumes it too), and one that has exited (or was already
      // deleted after its exit) has nothing to thaw.
      await runExternal(record.external, ['resume', record.id]).catch((err: unknown) => {
        if (
          err instanceof BerthError &&
          /container not paused|is not running|does not exist/.test(err.message)
        )
          return;
        throw err;
      });
      return;
    }
    await this.#cgroups.open(record.cgroupsPath).thaw();
  }

  /**
   * Writes new limits into a running container's cgroup (docker update); absent fields stay.
   * `<runtime> update --resources -` for another runtime's container.
   */
  async update(stateDir: string, resources: LinuxResources): Promise<void> {
    const record = await readRecord(stateDir);
    if (record.external) return await externalUpdate(record.external, record.id, resources);
    await this.#cgroups.open(record.cgroupsPath).update(resources);
  }

  /** Host pids of every process in the container's cgroup (for `top`). */
  async pids(stateDirOrSpec: string | RuntimeSpec): Promise<number[]> {
    const record = typeof stateDirOrSpec === 'string' ? await readRecord(stateDirOrSpec) : undefined;
    // `<runtime> ps --format json` for another runtime's container, as containerd's shim asks runc.
    if (record?.external)
      return JSON.parse(
        await runExternal(record.external, ['ps', '--format', 'json', record.id]),
      ) as number[];
    const path = record ? record.cgroupsPath : (stateDirOrSpec as RuntimeSpec).linux?.cgroupsPath;
    if (!path) throw invalidParameter('spec has no linux.cgroupsPath');
    return await this.#cgroups.open(path).pids();
  }

  /**
   * Removes what create() made: kills a container that was created but never started (or is still
   * running: callers stop it first), removes the cgroup and the state dir. Idempotent.
   */
  async delete(stateDir: string, spec: RuntimeSpec): Promise<void> {
    const record = await readRecord(stateDir).catch(() => undefined);
    const path = record?.cgroupsPath ?? spec.linux?.cgroupsPath;
    // A paused (frozen) container cannot act on SIGKILL: thaw it first.
    if (path)
      await this.#cgroups
        .open(path)
        .thaw()
        .catch(() => {});
    const state = await this.state(stateDir).catch(() => ({ status: 'gone' }) as const);
    if (state.status === 'created' || state.status === 'running') await this.#destroy(stateDir, state.pid);
    if (record?.external)
      await runExternal(record.external, ['delete', '--force', record.id]).catch(() => undefined);
    if (path) {
      const cg = this.#cgroups.open(path);
      await cg.killAll(9).catch(() => {});
      await cg.remove();
    }
    await rm(stateDir, { recursive: true, force: true });
  }

  async #destroy(stateDir: string, pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err;
    }
    await this.wait(stateDir, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
  }

  async #request(stateDir: string, line: string): Promise<string> {
    let reply: string | undefined;
    try {
      reply = await shimRequest(stateDir, line);
    } catch (err) {
      if (isShimGone(err)) throw conflict('container is not running', { cause: err });
      throw err;
    }
    if (reply === undefined) throw conflict('container is not running');
    return reply;
  }

  /** exit.json, with oomKilled from the cgroup (the shim cannot know it). */
  async #readExit(stateDir: string): Promise<ExitStatus | undefined> {
    let text: string;
    try {
      text = await readFile(join(stateDir, 'exit.json'), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const exit = JSON.parse(text) as ExitStatus;
    if (!exit.oomKilled) {
      const record = await readRecord(stateDir).catch(() => undefined);
      if (record)
        exit.oomKilled = await this.#cgroups
          .open(record.cgroupsPath)
          .oomKilled()
          .catch(() => false);
    }
    return exit;
  }
}

/** Mount points of the host's cgroup v1 hierarchies, in /proc/self/mountinfo order. */
export async function cgroupV1MountOrder(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    return sep > 0 && f[sep + 1] === 'cgroup' && f[4] ? [f[4]] : [];
  });
}

/**
 * The device rules runc appends to every spec's own (libcontainer/specconv AllowedDevices, as
 * runc 1.1 has them): mknod of anything, the standard nodes, ptys and /dev/net/tun.
 */
const RUNC_ALLOWED_DEVICES: NonNullable<LinuxResources['devices']> = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...(
    [
      [1, 3],
      [1, 8],
      [1, 7],
      [5, 0],
      [1, 5],
      [1, 9],
      [136, -1],
      [5, 2],
      [10, 200],
    ] as const
  ).map(([major, minor]) => ({
    allow: true,
    type: 'c',
    major,
    ...(minor >= 0 ? { minor } : {}),
    access: 'rwm',
  })),
];

function withRuncDevices(resources: LinuxResources | undefined): LinuxResources | undefined {
  if (!resources?.devices?.length) return resources;
  return { ...resources, devices: [...resources.devices, ...RUNC_ALLOWED_DEVICES] };
}

async function readSpec(bundleDir: string): Promise<RuntimeSpec> {
  try {
    return JSON.parse(await readFile(join(bundleDir, 'config.json'), 'utf8')) as RuntimeSpec;
  } catch (err) {
    throw invalidParameter(`read ${join(bundleDir, 'config.json')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function readRecord(stateDir: string): Promise<RuntimeRecord> {
  return JSON.parse(await readFile(join(stateDir, 'runtime.json'), 'utf8')) as RuntimeRecord;
}

/** Docker's exit codes for a process that could not be executed (moby: translateContainerdStartErr). */
export function execExitCode(message: string): number {
  if (message.includes('executable file not found') || message.includes('no such file or directory'))
    return 127;
  return 126;
}

/** Runs `berth-shim run`; its report is on stdout, or on fd 3 when the container inherits our stdio. */
function runShim(
  path: string,
  args: string[],
  inheritStdio: boolean,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = loadChildProcess().spawn(path, args, {
      stdio: inheritStdio ? ['inherit', 'inherit', 'inherit', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const report = (inheritStdio ? child.stdio[3] : child.stdout) as Readable;
    report.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (err) => reject(internal(`spawn ${path}: ${err.message}`, { cause: err })));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
