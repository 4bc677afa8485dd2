/**
 * Integration-test harness: a berthd of its own per test file, with a temp data root, exec
 * root, socket and cgroup parent, and the busybox image imported from Debian's busybox-static.
 * `stop()` removes every container it made, stops the daemon, and checks that nothing is left:
 * no shims, no mounts under the temp dirs, no cgroups.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BERTH, BERTHD, ensureBundles, REPO_ROOT } from './bins.ts';

const execFileAsync = promisify(execFile);

export { BERTH, BERTHD, REPO_ROOT };

// berthd and `berth()` run bin/, which loads dist/bundle: make sure it is the code tsc just built.
ensureBundles();

export function canRunRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly host: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  /** Prefix of every interface and of the nftables table this daemon creates. */
  readonly netPrefix: string;
  process: ChildProcess;
  /** Starts berthd again on the same roots (after kill()). */
  restart(): Promise<void>;
  /** SIGKILL berthd only (containers keep running). */
  kill(): Promise<void>;
  /** GET/POST against the API, returning status and parsed JSON (or text). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Removes containers, stops berthd, removes the temp dirs; throws if something leaked. */
  stop(): Promise<void>;
}

/**
 * `args`: extra berthd arguments (e.g. a tcp host with TLS, --config-file). `dirMode`: mode of
 * the temp dir (0700 by default; --userns-remap needs it searchable by the remapped root).
 */
export async function startDaemon(options: { args?: string[]; dirMode?: number } = {}): Promise<TestDaemon> {
  // Short paths: unix socket paths must stay under 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'bt-'));
  if (options.dirMode !== undefined) await chmod(dir, options.dirMode);
  const socket = join(dir, 'b.sock');
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'run');
  const log = join(dir, 'berthd.log');
  const net = await networkNames(dir);
  const spawnDaemon = async () => {
    const { openSync } = await import('node:fs');
    const fd = openSync(log, 'a');
    const child = spawn(
      process.execPath,
      [
        BERTHD,
        ...['-H', `unix://${socket}`, '--data-root', dataRoot, '--exec-root', execRoot],
        ...['--cgroup-parent', cgroupParent(dir), '--log-level', 'debug'],
        ...['--iface-prefix', net.prefix, '--bridge', `${net.prefix}0`, '--nft-table', net.prefix],
        ...['--default-address-pool', `base=${net.pool},size=24`],
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', fd, fd] },
    );
    await waitForSocket(socket, child, log);
    return child;
  };
  let first: ChildProcess;
  try {
    first = await spawnDaemon();
  } catch (err) {
    // A daemon that did not come up leaves nothing behind either.
    await cleanupLeftovers(dir);
    throw err;
  }
  const d: TestDaemon = {
    dir,
    socket,
    host: `unix://${socket}`,
    dataRoot,
    execRoot,
    netPrefix: net.prefix,
    process: first,
    async restart() {
      d.process = await spawnDaemon();
    },
    async kill() {
      const exited = new Promise((r) => d.process.once('exit', r));
      d.process.kill('SIGKILL');
      await exited;
    },
    api: (method, path, body) => apiCall(socket, method, path, body),
    async stop() {
      try {
        if (d.process.exitCode === null && d.process.signalCode === null) {
          const list = (await d.api('GET', '/containers/json?all=1')).body as Array<{ Id: string }>;
          for (const c of list) await d.api('DELETE', `/containers/${c.Id}?force=1`);
          await d.api('POST', '/networks/prune');
          const exited = new Promise((r) => d.process.once('exit', r));
          d.process.kill('SIGTERM');
          await exited;
        }
      } finally {
        await cleanupLeftovers(dir);
      }
    },
  };
  return d;
}

/** The cgroup parent a test daemon uses (so leftovers are attributable and removable). */
export function cgroupParent(dir: string): string {
  return `berth-test-${dir.split('-').pop()}`;
}

/** A v1 cgroup file of one of a test daemon's containers, trimmed. */
export async function cgroupFile(
  d: TestDaemon,
  controller: string,
  id: string,
  file: string,
): Promise<string> {
  return (await readFile(join('/sys/fs/cgroup', controller, cgroupParent(d.dir), id, file), 'utf8')).trim();
}

/** `docker inspect -f <format>` of one object, trimmed. */
export async function inspectFormat(d: TestDaemon, name: string, format: string): Promise<string> {
  return (await docker(d, 'inspect', '-f', format, name)).stdout.trim();
}

/** Polls `fn` every 50 ms until it is true; throws after `ms`. */
export async function waitFor(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `docker inspect` of one container, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: tests read inspect output loosely.
export async function inspectContainer(d: TestDaemon, name: string): Promise<any> {
  return JSON.parse((await docker(d, 'inspect', name)).stdout)[0];
}

/** Interface/table prefix of a test daemon (`btn` + its temp dir's suffix) and its address pool. */
export async function networkNames(dir: string): Promise<{ prefix: string; pool: string }> {
  const suffix = (dir.split('-').pop() ?? '').replace(/[^a-zA-Z0-9]/g, '').slice(0, 5);
  // A 10.x.0.0/16 no route of the host uses (several test daemons run at once).
  const { stdout } = await execFileAsync('ip', ['-4', 'route', 'show']);
  const used = new Set([...stdout.matchAll(/^10\.(\d+)\./gm)].map((m) => Number(m[1])));
  let x = 0;
  for (let i = 0; i < 100; i++) {
    x = 100 + Math.floor(Math.random() * 150);
    if (!used.has(x)) break;
  }
  return { prefix: `btn${suffix}`, pool: `10.${x}.0.0/16` };
}

/**
 * The berthd arguments that keep a test daemon's host objects apart from every other daemon's:
 * its cgroup parent, interface names, bridge, nftables table and address pool, all derived from
 * its temp dir so cleanupLeftovers(dir) finds them. Tests that spawn berthd themselves use this.
 */
export async function isolationArgs(dir: string): Promise<string[]> {
  const net = await networkNames(dir);
  return [
    ...['--cgroup-parent', cgroupParent(dir)],
    ...['--iface-prefix', net.prefix, '--bridge', `${net.prefix}0`, '--nft-table', net.prefix],
    ...['--default-address-pool', `base=${net.pool},size=24`],
  ];
}

/** Deletes the interfaces and the nftables table a test daemon left (berthd keeps them on exit). */
export async function cleanupNetwork(prefix: string): Promise<void> {
  const { stdout } = await execFileAsync('ip', ['-o', 'link', 'show']);
  for (const m of stdout.matchAll(/^\d+: ([^:@]+)[@:]/gm)) {
    const name = m[1] as string;
    if (name.startsWith(prefix)) await execFileAsync('ip', ['link', 'del', name]).catch(() => {});
  }
  await execFileAsync('nft', ['delete', 'table', 'inet', prefix]).catch(() => {});
}

/** Kills shims, unmounts and removes everything under `dir`, and the daemon's cgroups. */
export async function cleanupLeftovers(dir: string): Promise<void> {
  await cleanupNetwork((await networkNames(dir)).prefix);
  const { stdout } = await execFileAsync('pgrep', ['-f', dir]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await execFileAsync('umount', ['-l', m]).catch(() => {});
  const parent = cgroupParent(dir);
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const p = join('/sys/fs/cgroup', controller, parent);
    if (!existsSync(p)) continue;
    for (const child of await readdir(p, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      // Container processes outlive a killed shim: kill what is still in the cgroup.
      const procs = await readFile(join(p, child.name, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
      if (procs.trim()) await new Promise((r) => setTimeout(r, 100));
      await rmdir(join(p, child.name)).catch(() => {});
    }
    await rmdir(p).catch(() => {});
  }
  await rm(dir, { recursive: true, force: true });
}

async function waitForSocket(socket: string, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) {
      throw new Error(`berthd exited with ${child.exitCode}: ${await readFile(log, 'utf8')}`);
    }
    try {
      const r = await apiCall(socket, 'GET', '/_ping');
      if (r.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`berthd did not answer on ${socket}: ${await readFile(log, 'utf8')}`);
}

export function apiCall(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs a command, resolving with its exit code and output (never rejects on exit status). */
export async function run(
  cmd: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {}); // the command may exit without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** `docker -H <daemon> …` with the real docker CLI. */
export function docker(d: TestDaemon, ...args: string[]) {
  return run('docker', ['-H', d.host, ...args], { env: { DOCKER_CONFIG: join(d.dir, 'docker-config') } });
}

/** `berth -H <daemon> …`. */
export function berth(d: TestDaemon, ...args: string[]) {
  return run(process.execPath, [BERTH, '-H', d.host, ...args]);
}

/** Imports busybox:latest into the daemon with contrib/mkimage/busybox. */
export async function makeBusybox(d: TestDaemon): Promise<void> {
  const r = await run(join(REPO_ROOT, 'contrib', 'mkimage', 'busybox'), ['-H', d.host], {
    env: { PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH}` },
  });
  if (r.code !== 0) throw new Error(`mkimage busybox failed: ${r.stderr}${r.stdout}`);
}
