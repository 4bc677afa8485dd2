/**
 * berth-runtime: our runtime (berth-shim) behind runc's command line, on standard OCI bundles.
 *
 *   berth-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] <command> …
 *
 * Each container lives in <root>/<id>/: state.json (bundle, rootfs, created, owner,
 * annotations) next to what the shim keeps there (shim.sock, init.pid, exit.json, runtime.json).
 * The container outlives this process like a runc container: `create` leaves it waiting before
 * execve with our stdio (or its pty sent to --console-socket), `start` lets it run; when it exits
 * the shim records the status ("stopped") until `delete`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadChildProcess } from '../common/index.ts';
import type { OciProcess, RuntimeSpec } from '../oci/index.ts';
import { ExecError } from '../runtime/index.ts';
import { type OptionDef, type Parsed, parseArgs } from './args.ts';
import {
  CliError,
  type Command,
  type ContainerRecord,
  checkId,
  type Globals,
  ID_RE,
  loadRecord,
  loadSpec,
  log,
  OCI_VERSION,
  oneId,
  runtime,
  statusOf,
} from './common.ts';
import { defaultSpec, specJson } from './default-spec.ts';
import { RESOURCE_COMMANDS } from './resource-commands.ts';

const GLOBAL_OPTIONS: OptionDef[] = [
  { name: 'root', kind: 'string' },
  { name: 'log', kind: 'string' },
  { name: 'log-format', kind: 'string' },
  { name: 'debug', kind: 'bool' },
  { name: 'systemd-cgroup', kind: 'bool' },
  { name: 'criu', kind: 'string' },
  { name: 'rootless', kind: 'string' },
  { name: 'help', alias: 'h', kind: 'bool' },
  { name: 'version', alias: 'v', kind: 'bool' },
];

const USAGE = `usage: berth-runtime [global options] command [command options] [arguments...]

global options: --root DIR (default /run/berth-runtime), --log FILE, --log-format text|json, --debug

commands:
   create   create a container          start    executes the user defined process in a created container
   run      create and run a container  state    output the state of a container
   kill     send a signal to the init   delete   delete any resources held by the container
   exec     execute a new process       ps       the processes running inside a container
   list     lists containers            pause    suspend all processes of a container
   resume   resume a paused container   spec     create a new specification file
   update   update container resource constraints
   events   display container events such as OOM notifications, cpu, memory, and IO usage statistics
   features show the enabled features     checkpoint, restore   (refused: see their messages)
`;

/** Runs the command line; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let g: Globals = { root: '/run/berth-runtime', criu: 'criu', logFormat: 'text', debug: false };
  try {
    const parsed = parseArgs(argv, GLOBAL_OPTIONS);
    const format = parsed.strings.get('log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new CliError(`invalid log-format: ${format}`);
    g = {
      root: resolve(parsed.strings.get('root') ?? '/run/berth-runtime'),
      criu: parsed.strings.get('criu') ?? 'criu',
      log: parsed.strings.get('log'),
      logFormat: format,
      debug: parsed.bools.has('debug'),
    };
    if (parsed.bools.has('version')) {
      process.stdout.write(`berth-runtime version 0.1.0\nspec: ${OCI_VERSION}\n`);
      return 0;
    }
    const [command, ...rest] = parsed.args;
    if (!command || parsed.bools.has('help')) {
      process.stdout.write(USAGE);
      return command || parsed.bools.has('help') ? 0 : 1;
    }
    if (parsed.bools.has('systemd-cgroup'))
      throw new CliError('--systemd-cgroup is not supported: berth-runtime manages cgroups through cgroupfs');
    if (parsed.strings.has('rootless') && parsed.strings.get('rootless') !== 'false')
      throw new CliError('--rootless is not supported: berth-runtime runs as root');
    log(g, 'debug', `berth-runtime ${argv.join(' ')}`);
    const cmd = COMMANDS[command];
    if (!cmd) throw new CliError(`No help topic for '${command}'`);
    return await cmd.run(g, parseArgs(rest, cmd.options));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log(g, 'error', msg);
    if (g.log) process.stderr.write(`${msg}\n`);
    return err instanceof ExecError ? 255 : 1;
  }
}

function ownerOf(path: string): string {
  const uid = statSync(path).uid;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid) && f[0]) return f[0];
    }
  } catch {
    // no passwd: the number
  }
  return String(uid);
}

/** runc's state JSON; `owner` is only filled in for `list`, as runc does. */
async function stateJson(g: Globals, id: string, withOwner = false) {
  const rec = await loadRecord(g, id);
  const { status, pid } = await statusOf(g, id);
  return {
    ociVersion: OCI_VERSION,
    id,
    pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    ...(rec.annotations && Object.keys(rec.annotations).length ? { annotations: rec.annotations } : {}),
    owner: withOwner ? ownerOf(join(g.root, id)) : '',
  };
}

function parseSignal(text: string | undefined): number {
  if (text === undefined) return constants.signals.SIGTERM;
  if (/^\d+$/.test(text)) return Number(text);
  const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new CliError(`unknown signal "${text}"`);
  return n;
}

async function writePidFile(path: string | undefined, pid: number): Promise<void> {
  if (!path) return;
  const tmp = join(dirname(resolve(path)), `.${Date.now()}.pid`);
  await writeFile(tmp, String(pid));
  const { rename } = await import('node:fs/promises');
  await rename(tmp, resolve(path));
}

interface CreateFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  detach: boolean;
}

const CREATE_OPTIONS: OptionDef[] = [
  { name: 'bundle', alias: 'b', kind: 'string' },
  { name: 'pid-file', kind: 'string' },
  { name: 'console-socket', kind: 'string' },
  { name: 'no-pivot', kind: 'bool' },
  { name: 'no-new-keyring', kind: 'bool' },
  { name: 'preserve-fds', kind: 'string' },
];

function createFlags(p: Parsed, detach: boolean): CreateFlags {
  if (p.bools.has('no-pivot'))
    throw new CliError('--no-pivot is not supported: berth-runtime always uses pivot_root');
  const fds = p.strings.get('preserve-fds');
  if (fds && fds !== '0') throw new CliError('--preserve-fds is not supported by berth-runtime');
  return {
    bundle: resolve(p.strings.get('bundle') ?? '.'),
    pidFile: p.strings.get('pid-file'),
    consoleSocket: p.strings.get('console-socket'),
    detach,
  };
}

/** create, and the first half of run: the container waits before execve. */
async function createContainer(
  g: Globals,
  id: string,
  f: CreateFlags,
  attachTty = false,
): Promise<{ spec: RuntimeSpec; pid: number }> {
  checkId(id);
  const spec = await loadSpec(f.bundle);
  const hooks = Object.entries(spec.hooks ?? {}).filter(([, list]) => Array.isArray(list) && list.length > 0);
  if (hooks.length > 0)
    throw new CliError(
      `hooks are not supported by berth-runtime (the spec has ${hooks.map(([k]) => k).join(', ')} hooks)`,
    );
  const terminal = spec.process?.terminal ?? false;
  if (terminal && f.detach && !f.consoleSocket)
    throw new CliError('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && f.consoleSocket)
    throw new CliError('cannot use console socket if runc will not allocate tty');
  const dir = join(g.root, id);
  await mkdir(g.root, { recursive: true, mode: 0o700 });
  try {
    await mkdir(dir, { mode: 0o711 });
  } catch {
    throw new CliError(`container with id exists: ${id}`);
  }
  const rootPath = spec.root?.path ?? '';
  const record: ContainerRecord = {
    id,
    bundle: f.bundle,
    rootfs: rootPath.startsWith('/') ? rootPath : join(f.bundle, rootPath),
    created: new Date().toISOString(),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  try {
    await writeFile(join(dir, 'state.json'), JSON.stringify(record));
    const { pid } = await runtime.create({
      id,
      bundleDir: f.bundle,
      stateDir: dir,
      openStdin: attachTty,
      stdinOnce: false,
      inheritStdio: !attachTty,
      // runc's cgroup for a spec without linux.cgroupsPath: <its own cgroup>/<id>, i.e. /<id> for
      // a runtime started from the root cgroup.
      defaultCgroupsPath: `/${id}`,
      ...(f.consoleSocket ? { consoleSocket: resolve(f.consoleSocket) } : {}),
    });
    await writePidFile(f.pidFile, pid);
    log(g, 'debug', `container ${id} created, init pid ${pid}`);
    return { spec, pid };
  } catch (err) {
    await runtime.delete(dir, spec).catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startContainer(g: Globals, id: string): Promise<void> {
  await loadRecord(g, id);
  const { status } = await statusOf(g, id);
  if (status === 'stopped') throw new CliError('cannot start a container that has stopped');
  if (status !== 'created') throw new CliError('cannot start an already running container');
  await runtime.start(join(g.root, id));
}

async function deleteContainer(g: Globals, id: string, force: boolean): Promise<void> {
  const rec = await loadRecord(g, id).catch((err) => {
    if (force) return undefined;
    throw err;
  });
  const dir = join(g.root, id);
  if (!rec) {
    if (ID_RE.test(id)) await rm(dir, { recursive: true, force: true });
    return;
  }
  const { status } = await statusOf(g, id);
  if ((status === 'running' || status === 'paused') && !force)
    throw new CliError(`cannot delete container ${id} that is not stopped: ${status}`);
  const spec = await loadSpec(rec.bundle).catch(() => ({ ociVersion: OCI_VERSION }) as RuntimeSpec);
  await runtime.delete(dir, spec);
}

/** Forwards the signals a supervisor sends us to the container's init, as runc run does. */
function forwardSignals(dir: string): () => void {
  const names = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
  const handlers = names.map((name) => {
    const h = () => void runtime.kill(dir, constants.signals[name]).catch(() => {});
    process.on(name, h);
    return [name, h] as const;
  });
  return () => {
    for (const [name, h] of handlers) process.removeListener(name, h);
  };
}

/**
 * Our terminal in raw mode while a container's pty is relayed (run and exec with a tty), as runc
 * does: no echo, no line editing, and no output processing (libuv's raw mode keeps ONLCR, which
 * would turn the pty's "\r\n" into "\r\r\n"), so `stty raw -echo`; the saved mode is restored.
 */
let savedTty: string | undefined;
function setRaw(on: boolean): void {
  if (!process.stdin.isTTY) return;
  const stty = (args: string[]) =>
    loadChildProcess().spawnSync('stty', args, { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' });
  if (on) {
    savedTty = stty(['-g']).stdout?.trim() || undefined;
    stty(['raw', '-echo']);
  } else if (savedTty) {
    stty([savedTty]);
    savedTty = undefined;
  }
}

async function runForeground(g: Globals, id: string, f: CreateFlags, keep: boolean): Promise<number> {
  const spec = await loadSpec(f.bundle);
  const terminal = spec.process?.terminal ?? false;
  const dir = join(g.root, id);
  await createContainer(g, id, f, terminal);
  const unforward = forwardSignals(dir);
  try {
    let done: Promise<void> = Promise.resolve();
    if (terminal) {
      const sock = await runtime.attach(dir, { stdin: true, stdout: true, stderr: true });
      sock.on('error', () => {});
      setRaw(true);
      process.stdin.pipe(sock);
      sock.pipe(process.stdout, { end: false });
      done = new Promise((r) => sock.on('close', () => r()));
      const resize = () => {
        if (process.stdout.isTTY)
          void runtime.resize(dir, process.stdout.rows, process.stdout.columns).catch(() => {});
      };
      process.stdout.on('resize', resize);
      resize();
    }
    await runtime.start(dir);
    const exit = await runtime.wait(dir);
    // The rest of the pty's output, for at most 2 s.
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000).unref())]);
    return exit.exitCode;
  } finally {
    unforward();
    if (terminal) {
      setRaw(false);
      process.stdin.unpipe();
      process.stdin.pause();
    }
    if (!keep) await deleteContainer(g, id, true).catch(() => {});
  }
}

function userOf(text: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new CliError(`invalid --user "${text}": berth-runtime takes uid[:gid]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
}

const COMMANDS: Record<string, Command> = {
  ...RESOURCE_COMMANDS,
  create: {
    options: CREATE_OPTIONS,
    async run(g, p) {
      await createContainer(g, oneId(p, 'create'), createFlags(p, true));
      return 0;
    },
  },
  start: {
    options: [],
    async run(g, p) {
      await startContainer(g, oneId(p, 'start'));
      return 0;
    },
  },
  run: {
    options: [
      ...CREATE_OPTIONS,
      { name: 'detach', alias: 'd', kind: 'bool' },
      { name: 'keep', kind: 'bool' },
    ],
    async run(g, p) {
      const id = oneId(p, 'run');
      const detach = p.bools.has('detach');
      const f = createFlags(p, detach);
      if (!detach) return await runForeground(g, id, f, p.bools.has('keep'));
      await createContainer(g, id, f);
      try {
        await startContainer(g, id);
      } catch (err) {
        await deleteContainer(g, id, true).catch(() => {});
        throw err;
      }
      return 0;
    },
  },
  state: {
    options: [],
    async run(g, p) {
      const state = await stateJson(g, oneId(p, 'state'));
      process.stdout.write(JSON.stringify(state, null, '  '));
      return 0;
    },
  },
  kill: {
    options: [{ name: 'all', alias: 'a', kind: 'bool' }],
    async run(g, p) {
      const id = p.args[0];
      if (!id || p.args.length > 2)
        throw new CliError('"kill" requires a minimum of 1 and a maximum of 2 arguments');
      await loadRecord(g, id);
      const signal = parseSignal(p.args[1]);
      const dir = join(g.root, id);
      const { status } = await statusOf(g, id);
      if (p.bools.has('all')) {
        if (status === 'stopped') throw new CliError('container not running');
        await runtime.killAll(dir, signal);
        return 0;
      }
      if (status === 'stopped') throw new CliError('container not running');
      await runtime.kill(dir, signal);
      return 0;
    },
  },
  delete: {
    options: [{ name: 'force', alias: 'f', kind: 'bool' }],
    async run(g, p) {
      if (p.args.length === 0) throw new CliError('"delete" requires a minimum of 1 argument(s)');
      for (const id of p.args) await deleteContainer(g, id, p.bools.has('force'));
      return 0;
    },
  },
  exec: {
    options: [
      { name: 'process', alias: 'p', kind: 'string' },
      { name: 'tty', alias: 't', kind: 'bool' },
      { name: 'detach', alias: 'd', kind: 'bool' },
      { name: 'env', alias: 'e', kind: 'list' },
      { name: 'cwd', kind: 'string' },
      { name: 'user', alias: 'u', kind: 'string' },
      { name: 'additional-gids', alias: 'g', kind: 'list' },
      { name: 'cap', alias: 'c', kind: 'list' },
      { name: 'no-new-privs', kind: 'bool' },
      { name: 'pid-file', kind: 'string' },
      { name: 'console-socket', kind: 'string' },
      { name: 'preserve-fds', kind: 'string' },
    ],
    async run(g, p) {
      const [id, ...cmd] = p.args;
      if (!id) throw new CliError('"exec" requires a minimum of 1 argument(s)');
      const rec = await loadRecord(g, id);
      const spec = await loadSpec(rec.bundle);
      const dir = join(g.root, id);
      const { status } = await statusOf(g, id);
      if (status !== 'running') throw new CliError(`cannot exec in a ${status} container`);
      let proc: OciProcess;
      const file = p.strings.get('process');
      if (file) {
        proc = JSON.parse(await readFile(file, 'utf8')) as OciProcess;
      } else {
        if (cmd.length === 0) throw new CliError('exec args cannot be empty');
        const base =
          spec.process ?? ({ user: { uid: 0, gid: 0 }, cwd: '/', args: [] } as unknown as OciProcess);
        proc = { ...base, args: cmd, terminal: p.bools.has('tty') };
        proc.env = [...(base.env ?? []), ...(p.lists.get('env') ?? [])];
        const cwd = p.strings.get('cwd');
        if (cwd) proc.cwd = cwd;
        const user = p.strings.get('user');
        if (user) proc.user = { ...proc.user, ...userOf(user) };
        const gids = p.lists.get('additional-gids');
        if (gids) proc.user = { ...proc.user, additionalGids: gids.map(Number) };
        const caps = p.lists.get('cap');
        if (caps && proc.capabilities) {
          const c = proc.capabilities;
          const add = (l?: string[]) => [...new Set([...(l ?? []), ...caps])];
          proc.capabilities = {
            ...c,
            bounding: add(c.bounding),
            effective: add(c.effective),
            permitted: add(c.permitted),
            inheritable: add(c.inheritable),
          };
        }
        if (p.bools.has('no-new-privs')) proc.noNewPrivileges = true;
      }
      const tty = proc.terminal ?? false;
      // runc's checks, worded and coded (255) as its exec failures are.
      const consoleSocket = p.strings.get('console-socket');
      const detach = p.bools.has('detach');
      if (detach && tty && !consoleSocket)
        throw new ExecError(
          'exec failed: cannot allocate tty if runc will detach without setting console socket',
          255,
        );
      if (consoleSocket && (!detach || !tty))
        throw new ExecError(
          'exec failed: cannot use console socket if runc will not detach or allocate tty',
          255,
        );
      if (detach) {
        // With a tty, its pty master goes to the console socket.
        const { pid } = await runtime.execDetached(
          dir,
          spec,
          proc,
          consoleSocket ? { consoleSocket: resolve(consoleSocket) } : {},
        );
        await writePidFile(p.strings.get('pid-file'), pid);
        return 0;
      }
      // Raw before the process runs, so its first output is not cooked by our terminal.
      if (tty) setRaw(true);
      const child = await runtime.exec(dir, spec, proc, { tty, stdin: true }).catch((err) => {
        setRaw(false);
        throw err;
      });
      await writePidFile(p.strings.get('pid-file'), child.pid);
      // Input that arrives after the process has gone is dropped, not an error.
      child.stdin?.on('error', () => {});
      if (child.stdin) process.stdin.pipe(child.stdin);
      child.stdout.pipe(process.stdout, { end: false });
      child.stderr?.pipe(process.stderr, { end: false });
      const resize = () => {
        if (process.stdout.isTTY) child.resize(process.stdout.rows, process.stdout.columns);
      };
      if (tty) {
        process.stdout.on('resize', resize);
        resize();
      }
      const code = await child.exited;
      await new Promise((r) => setImmediate(r));
      if (tty) setRaw(false);
      process.stdin.unpipe();
      process.stdin.pause();
      return code;
    },
  },
  ps: {
    options: [{ name: 'format', alias: 'f', kind: 'string' }],
    async run(g, p) {
      const [id, ...psArgs] = p.args;
      if (!id) throw new CliError('"ps" requires a minimum of 1 argument(s)');
      await loadRecord(g, id);
      const pids = await runtime.pids(join(g.root, id));
      const format = p.strings.get('format') ?? 'table';
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(pids)}\n`);
        return 0;
      }
      if (format !== 'table') throw new CliError(`invalid format option`);
      const ps = loadChildProcess().spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
      if (ps.status !== 0) throw new CliError(`ps: ${ps.stderr || ps.error?.message}`);
      const lines = ps.stdout.split('\n');
      const header = lines[0] ?? '';
      const col = header.trim().split(/\s+/).indexOf('PID');
      if (col < 0) throw new CliError("couldn't find PID field in ps output");
      const keep = new Set(pids.map(String));
      const out = [header, ...lines.slice(1).filter((l) => keep.has(l.trim().split(/\s+/)[col] ?? ''))];
      process.stdout.write(`${out.join('\n')}\n`);
      return 0;
    },
  },
  list: {
    options: [
      { name: 'format', alias: 'f', kind: 'string' },
      { name: 'quiet', alias: 'q', kind: 'bool' },
    ],
    async run(g, p) {
      const ids = existsSync(g.root)
        ? (await readdir(g.root)).filter((d) => existsSync(join(g.root, d, 'state.json'))).sort()
        : [];
      const states = [];
      for (const id of ids) states.push(await stateJson(g, id, true).catch(() => undefined));
      const list = states.filter((s) => s !== undefined);
      if (p.bools.has('quiet')) {
        for (const s of list) process.stdout.write(`${s.id}\n`);
        return 0;
      }
      const format = p.strings.get('format') ?? 'table';
      if (format === 'json') {
        process.stdout.write(`${list.length ? JSON.stringify(list) : 'null'}\n`);
        return 0;
      }
      if (format !== 'table') throw new CliError('invalid format option');
      const rows = [
        ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
        ...list.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]),
      ];
      process.stdout.write(tabwrite(rows));
      return 0;
    },
  },
  pause: {
    options: [],
    async run(g, p) {
      const id = oneId(p, 'pause');
      await loadRecord(g, id);
      const { status } = await statusOf(g, id);
      if (status !== 'running' && status !== 'created') throw new CliError('container not running');
      await runtime.pause(join(g.root, id));
      return 0;
    },
  },
  resume: {
    options: [],
    async run(g, p) {
      const id = oneId(p, 'resume');
      await loadRecord(g, id);
      const { status } = await statusOf(g, id);
      if (status !== 'paused') throw new CliError('container not paused');
      await runtime.resume(join(g.root, id));
      return 0;
    },
  },
  spec: {
    options: [
      { name: 'bundle', alias: 'b', kind: 'string' },
      { name: 'rootless', kind: 'bool' },
    ],
    async run(_g, p) {
      const dir = resolve(p.strings.get('bundle') ?? '.');
      const path = join(dir, 'config.json');
      if (await stat(path).catch(() => undefined))
        throw new CliError('File config.json exists. Remove it first');
      await writeFile(path, specJson(defaultSpec(p.bools.has('rootless'))), { mode: 0o666 });
      return 0;
    },
  },
};

/** Go's tabwriter as runc's list uses it: minwidth 12, padding 3. */
function tabwrite(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(12, (widths[i] ?? 0) + 3)))).join(''),
    )
    .join('\n')
    .concat('\n');
}
