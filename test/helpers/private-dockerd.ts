/**
 * A private Docker daemon (Debian's docker.io dockerd) for recording fixtures and benchmarks:
 * its own temp data root, exec root, socket, pidfile and cgroup parent, no bridge and no
 * iptables rules; `stop()` stops it and removes everything it made (processes it started,
 * mounts under its temp dir, its cgroups, the dir).
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiCall, cleanupLeftovers } from './daemon.ts';

export interface PrivateDockerd {
  dir: string;
  host: string;
  stop(): Promise<void>;
}

export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  // cleanupLeftovers derives the cgroup parent from the dir's suffix (berth-test-<suffix>).
  const dir = await mkdtemp(join(tmpdir(), 'dkd-'));
  const socket = join(dir, 'd.sock');
  const cgroupParent = `berth-test-${dir.split('-').pop()}`;
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      ...['-H', `unix://${socket}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'run')],
      ...['--pidfile', join(dir, 'd.pid'), '--config-file', join(dir, 'daemon.json')],
      ...['--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-masq=false'],
      ...['--cgroup-parent', cgroupParent, '--storage-driver', 'overlay2'],
    ],
    { stdio: ['ignore', log, log] },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    // containerd and shims it started carry the dir in their command lines.
    await cleanupLeftovers(dir);
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await apiCall(socket, 'GET', '/_ping')).status === 200)
        return { dir, host: `unix://${socket}`, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const text = await readFile(join(dir, 'dockerd.log'), 'utf8').catch(() => '');
  await stop();
  throw new Error(`private dockerd did not start:\n${text.slice(-3000)}`);
}
