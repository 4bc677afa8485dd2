/**
 * A private Docker daemon (Debian's dockerd 20.10) for interop tests: its own data root, exec
 * root, pidfile, socket, daemon.json (so /etc/docker is neither read nor written: the trust key
 * goes to the temp dir too) and its own containerd, which dockerd starts and manages. It never
 * touches the host's network: no docker0 (`--bridge none`), no iptables rules or masquerading,
 * no ip_forward sysctl. Its containers go under a cgroup parent of its own. `stop()` removes
 * everything — processes, mounts, cgroups, the temp dir — even when dockerd hangs or died.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run } from './daemon.ts';

const execFileAsync = promisify(execFile);

export const hasDockerd = () => existsSync('/usr/sbin/dockerd') && existsSync('/usr/bin/containerd');

export interface TestDockerd {
  readonly dir: string;
  readonly host: string;
  readonly cgroupParent: string;
  /** `docker -H <this dockerd> …` with a bounded run time. */
  docker(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<TestDockerd> {
  // `bt-` so zz-no-leaks checks the temp dir and its mounts; short for the unix socket paths.
  const dir = await mkdtemp(join(tmpdir(), 'bt-'));
  const suffix = (dir.split('-').pop() ?? '').replace(/[^a-zA-Z0-9]/g, '');
  const cgroupParent = `berth-test-dockerd-${suffix}`;
  const socket = join(dir, 'd.sock');
  const host = `unix://${socket}`;
  const log = join(dir, 'dockerd.log');
  let child: ChildProcess | undefined;
  const docker = (...args: string[]) =>
    run('docker', ['-H', host, ...args], { env: { DOCKER_CONFIG: join(dir, 'cli') }, timeoutMs: 60_000 });
  const stop = async () => {
    try {
      if (child && child.exitCode === null && child.signalCode === null) {
        // Light and bounded: one forced removal per container (dockerd 20.10 can deadlock on
        // many parallel removals), then SIGTERM, which stops its containerd too.
        const ps = await run('docker', ['-H', host, 'ps', '-aq'], { timeoutMs: 10_000 });
        for (const id of ps.stdout.split('\n').filter(Boolean)) {
          await run('docker', ['-H', host, 'rm', '-f', id], { timeoutMs: 15_000 });
        }
        const exited = new Promise((r) => child?.once('exit', r));
        child.kill('SIGTERM');
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise((r) => setTimeout(() => r(true), 20_000)),
        ]);
        if (timedOut) child.kill('SIGKILL');
      }
    } finally {
      await cleanupDockerd(dir, cgroupParent);
    }
  };
  try {
    await writeFile(
      join(dir, 'daemon.json'),
      JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') }),
    );
    const fd = openSync(log, 'a');
    child = spawn(
      '/usr/sbin/dockerd',
      [
        ...['-H', host, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'run')],
        ...['--pidfile', join(dir, 'd.pid'), '--config-file', join(dir, 'daemon.json')],
        ...['--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-masq=false'],
        ...['--ip-forward=false', '--cgroup-parent', cgroupParent, '--storage-driver', 'overlay2'],
      ],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`dockerd exited: ${await readFile(log, 'utf8')}`);
      if ((await run('docker', ['-H', host, 'version'], { timeoutMs: 5_000 })).code === 0) break;
      if (i > 150) throw new Error(`dockerd did not answer: ${await readFile(log, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, host, cgroupParent, docker, stop };
}

/** Kills what is left of a private dockerd (containerd, shims, containers) and removes its traces. */
async function cleanupDockerd(dir: string, cgroupParent: string): Promise<void> {
  // Processes: dockerd, containerd and containerd-shims all name the temp dir on their command line.
  for (let round = 0; round < 3; round++) {
    const { stdout } = await execFileAsync('pgrep', ['-f', dir]).catch(() => ({ stdout: '' }));
    const pids = stdout.split('\n').filter(Boolean);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // Cgroups: the parent (top level, or under this process's own cgroup in nested hierarchies).
  for (const dirPath of await cgroupDirs(cgroupParent)) await removeCgroupTree(dirPath);
  // Mounts: overlay rootfs, shm, netns, and the data root dockerd bind-mounts on itself.
  for (let round = 0; round < 3; round++) {
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
      .sort((a, b) => b.length - a.length);
    if (mounts.length === 0) break;
    for (const m of mounts) await execFileAsync('umount', ['-l', m]).catch(() => {});
  }
  await rm(dir, { recursive: true, force: true });
}

async function cgroupDirs(name: string): Promise<string[]> {
  const own = (await readFile('/proc/self/cgroup', 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':'))
    .map(([, ctrls, path]) => ({ ctrls: (ctrls ?? '').replace(/^name=/, ''), path: path ?? '/' }));
  const found: string[] = [];
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const candidates = [join('/sys/fs/cgroup', controller, name)];
    for (const o of own) {
      if (o.path !== '/' && o.ctrls.split(',').includes(controller)) {
        candidates.push(join('/sys/fs/cgroup', controller, o.path, name));
      }
    }
    for (const c of candidates) if (existsSync(c)) found.push(c);
  }
  return found;
}

async function removeCgroupTree(path: string): Promise<void> {
  const children = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const c of children) if (c.isDirectory()) await removeCgroupTree(join(path, c.name));
  for (let i = 0; i < 20; i++) {
    const procs = await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    try {
      await rmdir(path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
