/**
 * Crash safety: berthd is killed with SIGKILL at random points of a mixed workload (create,
 * start, stop, rm), restarted each time, and the store must be consistent: every record
 * readable, no container folder, snapshot, shim, mount or cgroup without its container, every
 * container that was running still running. BERTH_CRASH_ITERATIONS sets the number of kills.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type TestDaemon,
  canRunRoot,
  cgroupParent,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

const ITERATIONS = Number(process.env.BERTH_CRASH_ITERATIONS ?? 50);

/** An API call to a daemon that may die under it: any failure is status 0, never a throw. */
function fragileApi(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const failed = () => resolve({ status: 0, body: undefined });
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
        res.on('error', failed);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('socket', (s) => s.on('error', () => {}));
    req.on('error', failed);
    req.end(payload);
  });
}

interface Summary {
  Id: string;
  State: string;
}

describe('crash safety', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  /** One round of work; errors from the daemon dying under it are expected. */
  async function workload(stop: { done: boolean }, running: Set<string>): Promise<void> {
    const api = (m: string, p: string, b?: unknown) => fragileApi(d.socket, m, p, b);
    while (!stop.done) {
      const r = await api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '1000'] });
      const id = (r.body as { Id?: string } | undefined)?.Id;
      if (r.status !== 201 || !id) continue;
      if (Math.random() < 0.8) {
        const s = await api('POST', `/containers/${id}/start`);
        if (s.status === 204) running.add(id);
      }
      const roll = Math.random();
      const list = [...running];
      if (roll < 0.3 && list.length > 0) {
        const victim = list[Math.floor(Math.random() * list.length)] as string;
        running.delete(victim);
        await api('DELETE', `/containers/${victim}?force=1`);
      } else if (roll < 0.45 && list.length > 0) {
        const victim = list[Math.floor(Math.random() * list.length)] as string;
        running.delete(victim);
        await api('POST', `/containers/${victim}/kill`);
      } else if (roll < 0.6) {
        await api('DELETE', `/containers/${id}?force=1`);
        running.delete(id);
      }
    }
  }

  async function assertConsistent(runningBefore: Set<string>): Promise<number> {
    const list = (await d.api('GET', '/containers/json?all=1')).body as Summary[];
    const ids = new Set(list.map((c) => c.Id));
    const runningNow = new Set(list.filter((c) => c.State === 'running').map((c) => c.Id));
    for (const id of runningBefore) {
      // Started (204) and never stopped or removed: still running.
      assert.ok(
        runningNow.has(id),
        `container ${id.slice(0, 12)} was running and is ${list.find((c) => c.Id === id)?.State ?? 'gone'}`,
      );
    }
    for (const c of list) {
      const r = await d.api('GET', `/containers/${c.Id}/json`);
      assert.equal(r.status, 200);
      const st = (r.body as { State: { Running: boolean; Pid: number } }).State;
      if (st.Running) process.kill(st.Pid, 0);
    }
    const dirs = (await readdir(join(d.dataRoot, 'containers'))).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.deepEqual(dirs.sort(), [...ids].sort(), 'container folders = containers');
    const snaps = await readdir(join(d.dataRoot, 'snapshots', 'containers'));
    assert.deepEqual(snaps.sort(), [...ids].sort(), 'container snapshots = containers');
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && m.startsWith(d.dir));
    const mountedIds = mounts.map((m) => /containers\/([0-9a-f]{64})\/merged$/.exec(m)?.[1] ?? m).sort();
    assert.deepEqual(mountedIds, [...runningNow].sort(), 'rootfs mounts = running containers');
    const shims = (await run('pgrep', ['-f', `berth-shim.*${d.execRoot}`])).stdout
      .split('\n')
      .filter(Boolean);
    assert.equal(shims.length, runningNow.size, 'one shim per running container');
    const parent = cgroupParent(d.dir);
    const cgroupDir = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup']
      .map((p) => join(p, parent))
      .find((p) => existsSync(p));
    if (cgroupDir) {
      const cgs = (await readdir(cgroupDir, { withFileTypes: true })).filter(
        (e) => e.isDirectory() && /^[0-9a-f]{64}$/.test(e.name),
      );
      assert.deepEqual(cgs.map((e) => e.name).sort(), [...runningNow].sort(), 'cgroups = running containers');
    }
    return runningNow.size;
  }

  test(`${ITERATIONS} SIGKILLs of berthd at random points leave a consistent store`, async () => {
    const running = new Set<string>();
    let maxRunning = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const stop = { done: false };
      const work = workload(stop, running);
      await sleep(20 + Math.random() * 250);
      await d.kill();
      stop.done = true;
      await work;
      await d.restart();
      // Every container whose start was answered (204) and that was not killed or removed
      // since must still run; ones whose start or removal was cut short may be either way.
      const list = (await d.api('GET', '/containers/json?all=1')).body as Summary[];
      maxRunning = Math.max(maxRunning, await assertConsistent(running));
      // Keep the number of containers bounded.
      if (list.length > 12) {
        for (const c of list.slice(0, list.length - 6)) {
          await d.api('DELETE', `/containers/${c.Id}?force=1`);
          running.delete(c.Id);
        }
        await assertConsistent(running);
      }
    }
    assert.ok(maxRunning > 0);
  });
});
