/**
 * docker exec: extra processes in a running container. Exec configs live in memory, as in
 * dockerd (they are not kept across daemon restarts). Start runs the process through the
 * runtime, which joins the container's namespaces and cgroup; output is framed with stdcopy when
 * there is no TTY.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ExecCreateRequest, ExecInspectResponse, ExecStartRequest } from '../../api/types/index.ts';
import {
  type Logger,
  StdcopyEncoder,
  conflict,
  invalidParameter,
  newId,
  notFound,
} from '../../common/index.ts';
import type { OciProcess, RuntimeSpec } from '../../oci/index.ts';
import { ExecError, type ExecProcess, type Runtime } from '../../runtime/index.ts';
import type { Containers } from '../containers/container-service.ts';
import { eventAttributes } from '../containers/container-lifecycle.ts';
import { readHostSecurity } from '../containers/host-security.ts';
import { isRunning } from '../containers/state.ts';
import type { ExecService, IoSession } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { resolveUser } from '../spec/index.ts';

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecCreateRequest;
  running: boolean;
  exitCode: number | null;
  pid: number;
  process?: ExecProcess;
}

export class Execs implements ExecService {
  readonly #execs = new Map<string, ExecRecord>();
  readonly #containers: Containers;
  readonly #runtime: Runtime;
  readonly #events: EventBus;
  readonly #log: Logger;

  constructor(deps: { containers: Containers; runtime: Runtime; events: EventBus; log: Logger }) {
    this.#containers = deps.containers;
    this.#runtime = deps.runtime;
    this.#events = deps.events;
    this.#log = deps.log;
  }

  async create(containerRef: string, body: ExecCreateRequest): Promise<{ Id: string }> {
    const c = this.#containers.store.get(containerRef);
    if (!isRunning(c.state)) throw conflict(`Container ${c.record.id} is not running`);
    if (c.state.status === 'paused')
      throw conflict(`Container ${c.record.id} is paused, unpause the container before exec`);
    if (!body.Cmd || body.Cmd.length === 0) throw invalidParameter('No exec command specified');
    const id = newId();
    this.#execs.set(id, {
      id,
      containerId: c.record.id,
      config: body,
      running: false,
      exitCode: null,
      pid: 0,
    });
    const ids = this.#containers.execIds.get(c.record.id) ?? [];
    ids.push(id);
    this.#containers.execIds.set(c.record.id, ids);
    this.#events.publish('container', `exec_create: ${body.Cmd.join(' ')}`, c.record.id, eventAttributes(c));
    return { Id: id };
  }

  #get(id: string): ExecRecord {
    const e = this.#execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  async start(execId: string, body: ExecStartRequest): Promise<IoSession | undefined> {
    const e = this.#get(execId);
    if (e.running || e.exitCode !== null) throw conflict(`Error: Exec command ${execId} has already run`);
    const c = this.#containers.store.get(e.containerId);
    if (!isRunning(c.state)) throw conflict(`Container ${c.record.id} is not running`);
    const stateDir = this.#containers.lifecycle.stateDir(c.record.id);
    const spec = JSON.parse(
      await readFile(join(this.#containers.lifecycle.bundleDir(c.record.id), 'config.json'), 'utf8'),
    ) as RuntimeSpec;
    const tty = body.Tty ?? e.config.Tty ?? false;
    const process = await this.#process(spec, e.config, c.state.pid, tty);
    const withStdin = !body.Detach && (e.config.AttachStdin ?? false);
    let proc: ExecProcess;
    try {
      proc = await this.#runtime.exec(stateDir, spec, process, { tty, stdin: withStdin });
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
      // moby: the exec's exit code is 126/127, and an attached client gets the error as the
      // stream's output (the hijack has started) rather than as an HTTP error.
      e.exitCode = err.exitCode;
      if (body.Detach) throw err;
      return failedSession(tty, `OCI runtime exec failed: ${err.message}: unknown`);
    }
    e.running = true;
    e.pid = proc.pid;
    e.process = proc;
    this.#events.publish(
      'container',
      `exec_start: ${(e.config.Cmd ?? []).join(' ')}`,
      c.record.id,
      eventAttributes(c),
    );
    const [h, w] = body.ConsoleSize ?? e.config.ConsoleSize ?? [0, 0];
    if (tty && h && w) proc.resize(h, w);

    const recorded = proc.exited.then(
      (code) => {
        e.running = false;
        e.exitCode = code;
        this.#events.publish('container', 'exec_die', c.record.id, {
          ...eventAttributes(c),
          execID: e.id,
          exitCode: String(code),
        });
      },
      (err) => {
        e.running = false;
        e.exitCode = 126;
        this.#log.warn('exec failed', { execId, err });
      },
    );
    // Clients read the exit code (exec inspect) as soon as the stream ends: end it only once the
    // code is recorded, as dockerd does.
    const endOutput = (output: PassThrough) => void recorded.then(() => output.end());

    if (body.Detach) {
      proc.stdout.resume();
      proc.stderr?.resume();
      return undefined;
    }
    const output = new PassThrough();
    const wantOut = e.config.AttachStdout ?? true;
    const wantErr = e.config.AttachStderr ?? true;
    if (tty) {
      proc.stdout.pipe(output, { end: false });
      proc.stdout.on('end', () => endOutput(output));
    } else {
      let open = 2;
      const done = () => {
        if (--open === 0) endOutput(output);
      };
      const relay = (src: NodeJS.ReadableStream | undefined, stream: 1 | 2, want: boolean) => {
        if (!src) return done();
        if (!want) {
          src.resume();
          src.on('end', done);
          return;
        }
        const enc = new StdcopyEncoder(stream);
        src.pipe(enc);
        enc.on('data', (chunk: Buffer) => output.write(chunk));
        enc.on('end', done);
      };
      relay(proc.stdout, 1, wantOut);
      relay(proc.stderr, 2, wantErr);
    }
    return {
      tty,
      output,
      input: proc.stdin,
      close: () => output.destroy(),
    };
  }

  async #process(
    spec: RuntimeSpec,
    config: ExecCreateRequest,
    pid: number,
    tty: boolean,
  ): Promise<OciProcess> {
    const base = spec.process;
    if (!base) throw invalidParameter('container has no process spec');
    let user = base.user;
    if (config.User) {
      const read = async (p: string) => readFile(`/proc/${pid}/root/etc/${p}`, 'utf8').catch(() => undefined);
      const [passwd, group] = await Promise.all([read('passwd'), read('group')]);
      const u = resolveUser(config.User, { passwd, group }, []);
      user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
    }
    const env = mergeEnv(base.env ?? [], config.Env ?? []);
    const capabilities = config.Privileged
      ? privilegedCaps((await readHostSecurity()).engineCapabilities)
      : base.capabilities;
    return {
      ...base,
      terminal: tty,
      args: config.Cmd ?? [],
      env,
      cwd: config.WorkingDir || base.cwd,
      user,
      capabilities,
    };
  }

  async inspect(execId: string): Promise<ExecInspectResponse> {
    const e = this.#get(execId);
    const [entrypoint = '', ...args] = e.config.Cmd ?? [];
    return {
      CanRemove: false,
      DetachKeys: e.config.DetachKeys ?? '',
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {
        privileged: e.config.Privileged ?? false,
        user: e.config.User ?? '',
        tty: e.config.Tty ?? false,
        entrypoint,
        arguments: args,
      },
      OpenStdin: e.config.AttachStdin ?? false,
      OpenStderr: e.config.AttachStderr ?? false,
      OpenStdout: e.config.AttachStdout ?? false,
      ContainerID: e.containerId,
      Pid: e.pid,
    };
  }

  async resize(execId: string, height: number, width: number): Promise<void> {
    const e = this.#get(execId);
    if (!e.process) throw conflict(`Exec ${execId} is not running`);
    e.process.resize(height, width);
  }

  /** Forgets one finished exec (health-check probes, so they do not pile up). */
  forget(execId: string): void {
    const e = this.#execs.get(execId);
    if (!e) return;
    this.#execs.delete(execId);
    const ids = this.#containers.execIds.get(e.containerId);
    if (ids)
      this.#containers.execIds.set(
        e.containerId,
        ids.filter((i) => i !== execId),
      );
  }

  /** Forget exec records of a removed container. */
  forgetContainer(containerId: string): void {
    for (const [id, e] of this.#execs) if (e.containerId === containerId) this.#execs.delete(id);
  }
}

/** Exec env: the container's, with the exec's entries replacing same-named ones. */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const key = (kv: string) => kv.split('=', 1)[0];
  const extraKeys = new Set(extra.map(key));
  return [...base.filter((kv) => !extraKeys.has(key(kv))), ...extra];
}

/**
 * dockerd gives a privileged exec every capability (caps.GetAllCapabilities), whatever the
 * container has; as for `run --privileged`, that is every capability berthd itself holds.
 */
function privilegedCaps(all: string[]): OciProcess['capabilities'] {
  return { bounding: all, effective: all, permitted: all, inheritable: [], ambient: [] };
}

/** A session whose only output is `message` on stdout (framed without a tty), then its end. */
function failedSession(tty: boolean, message: string): IoSession {
  const output = new PassThrough();
  const text = Buffer.from(`${message}\r\n`);
  if (tty) output.end(text);
  else {
    const enc = new StdcopyEncoder(1);
    enc.pipe(output);
    enc.end(text);
  }
  return { tty, output, close: () => output.destroy() };
}
