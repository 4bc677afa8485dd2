/**
 * Resource limits hold under real load, through the real docker CLI: a memory hog under -m is
 * OOM-killed and reported, a fork bomb under --pids-limit is contained, --cpus caps a busy loop;
 * and --privileged gives mount/unshare/mknod as Docker's privileged containers do.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type TestDaemon,
  canRunRoot,
  cgroupFile,
  docker,
  inspectContainer,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resource limits under load', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  const cg = (controller: string, id: string, file: string) => cgroupFile(d, controller, id, file);
  const inspect = (name: string) => inspectContainer(d, name);

  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('info reports swap and kernel-memory limit support from the memory controller files', async () => {
    const r = await docker(d, 'info', '--format', '{{json .}}');
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    const v2 = info.CgroupVersion === '2';
    const has = (f: string) => !v2 && existsSync(join('/sys/fs/cgroup/memory', f));
    assert.equal(info.SwapLimit, v2 || has('memory.memsw.limit_in_bytes'));
    assert.equal(info.KernelMemory, has('memory.kmem.limit_in_bytes'));
    assert.equal(info.OomKillDisable, has('memory.oom_control'));
  });

  test('a memory hog under -m 32m is OOM-killed: exit 137, State.OOMKilled, an oom event', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    // tail keeps the whole (newline-free) "last line" of /dev/zero in memory: it grows until killed.
    const r = await docker(d, 'run', '--name', 'hog', '-m', '32m', 'busybox', 'tail', '/dev/zero');
    try {
      assert.equal(r.code, 137, r.stderr);
      const st = (await inspect('hog')).State;
      assert.equal(st.OOMKilled, true);
      assert.equal(st.ExitCode, 137);
      assert.equal(st.Status, 'exited');
      const until = Math.floor(Date.now() / 1000) + 1;
      const ev = await docker(
        d,
        'events',
        '--since',
        String(since),
        '--until',
        String(until),
        '--filter',
        'container=hog',
        '--format',
        '{{.Action}}',
      );
      assert.equal(ev.code, 0, ev.stderr);
      const actions = ev.stdout.trim().split('\n');
      assert.ok(actions.includes('oom'), actions.join(','));
      assert.ok(actions.indexOf('oom') < actions.indexOf('die'), actions.join(','));
      // A container that exits by itself is not reported as OOM-killed.
      const ok = await docker(d, 'run', '--name', 'fine', '-m', '32m', 'busybox', 'sh', '-c', 'exit 3');
      assert.equal(ok.code, 3);
      assert.equal((await inspect('fine')).State.OOMKilled, false);
    } finally {
      await docker(d, 'rm', '-f', 'hog', 'fine');
    }
  });

  test('a fork bomb under --pids-limit 50 stays at 50 pids, the host forks freely, rm -f removes it', async () => {
    // The classic bomb, bounded in CPU too (--cpus 0.5) and in time (removed after a few seconds).
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'bomb',
      '--pids-limit',
      '50',
      '--cpus',
      '0.5',
      'busybox',
      'sh',
      '-c',
      'b() { b | b & }; b 2>/dev/null; exec sleep 60',
    );
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    try {
      assert.equal(await cg('pids', id, 'pids.max'), '50');
      let peak = 0;
      let refused = 0;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        peak = Math.max(peak, Number(await cg('pids', id, 'pids.current')));
        refused = Number(/max (\d+)/.exec(await cg('pids', id, 'pids.events'))?.[1] ?? 0);
        if (peak >= 50 && refused > 0) break;
        await sleep(100);
      }
      // The limit was reached and forks were refused: the bomb went off and was held at 50.
      assert.ok(refused > 0, `pids.events max=${refused}`);
      assert.ok(peak <= 50, `peak ${peak}`);
      assert.ok(peak >= 40, `peak ${peak}`);
      // The host is unaffected: it still starts processes at once.
      const t0 = Date.now();
      for (let i = 0; i < 5; i++) assert.equal((await run('true', [])).code, 0);
      assert.ok(Date.now() - t0 < 5_000, `host forks took ${Date.now() - t0} ms`);
      const rm = await docker(d, 'rm', '-f', 'bomb');
      assert.equal(rm.code, 0, rm.stderr);
      const ps = await docker(d, 'ps', '-aq');
      assert.equal(ps.stdout, '');
    } finally {
      await docker(d, 'rm', '-f', 'bomb');
    }
  });

  test('--cpus 0.5 holds a busy loop near half of one CPU', async (t) => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'spin',
      '--cpus',
      '0.5',
      'busybox',
      'sh',
      '-c',
      'while :; do :; done',
    );
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    try {
      await sleep(300);
      const u0 = Number(await cg('cpuacct', id, 'cpuacct.usage'));
      const t0 = process.hrtime.bigint();
      await sleep(2_000);
      const u1 = Number(await cg('cpuacct', id, 'cpuacct.usage'));
      const wall = Number(process.hrtime.bigint() - t0);
      const share = (u1 - u0) / wall;
      // CFS enforces the ceiling strictly. How much of its half the loop gets depends on what
      // else the machine runs, so the floor only shows the loop ran and was throttled at the quota.
      assert.ok(share <= 0.6, `used ${share.toFixed(3)} of a CPU`);
      assert.ok(share >= 0.1, `used ${share.toFixed(3)} of a CPU`);
      const throttled = /^nr_throttled (\d+)$/m.exec(await cg('cpu', id, 'cpu.stat'))?.[1];
      assert.ok(Number(throttled) > 0, `nr_throttled ${throttled}`);
      t.diagnostic(`--cpus 0.5: the busy loop used ${share.toFixed(3)} of a CPU`);
    } finally {
      await docker(d, 'rm', '-f', 'spin');
    }
  });

  test("create returns Docker's warnings; --kernel-memory is kept (API 1.41, kmem) and bounded; --cpus beyond the host's CPUs is refused", async () => {
    const w = await docker(d, 'create', '--name', 'warn', '--oom-kill-disable', 'busybox', 'true');
    try {
      assert.equal(w.code, 0, w.stderr);
      assert.match(
        w.stderr,
        /WARNING: OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources\./,
      );
      const body = await d.api('POST', '/containers/create', {
        Image: 'busybox',
        HostConfig: { CpuPercent: 10 },
      });
      assert.equal(body.status, 201);
      const created = body.body as { Id: string; Warnings: string[] };
      assert.deepEqual(created.Warnings, ['linux does not support CPU percent. Percent discarded.']);
      await docker(d, 'rm', created.Id);
      const kmem = await readFile('/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes').then(
        () => true,
        () => false,
      );
      const k = await docker(d, 'create', '--name', 'kmem', '--kernel-memory', '16m', 'busybox', 'true');
      assert.equal(k.code, 0, k.stderr);
      const km = (await inspect('kmem')).HostConfig.KernelMemory;
      if (kmem) assert.equal(km, 16 * 1024 * 1024);
      else {
        assert.equal(km, 0);
        assert.match(k.stderr, /Your kernel does not support kernel memory limit capabilities/);
      }
      if (kmem) {
        const low = await docker(d, 'create', '--kernel-memory', '1m', 'busybox', 'true');
        assert.equal(low.code, 1);
        assert.match(low.stderr, /Minimum kernel memory limit allowed is 6MB/);
      }
      const cpus = availableParallelism();
      const many = await docker(d, 'create', '--cpus', String(cpus + 1), 'busybox', 'true');
      assert.equal(many.code, 1);
      assert.match(
        many.stderr,
        new RegExp(`Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`),
      );
    } finally {
      await docker(d, 'rm', '-f', 'warn', 'kmem');
    }
  });

  test('--privileged: mount, unshare and mknod work as in Docker privileged containers', async () => {
    const r = await docker(
      d,
      'run',
      '--rm',
      '--privileged',
      'busybox',
      'sh',
      '-c',
      [
        'mkdir -p /mnt && mount -t tmpfs t /mnt && echo mount-ok',
        'unshare -m -u sh -c "hostname inner && mount -t tmpfs u /mnt && echo unshare-ok" && hostname',
        'mknod /tmp/null2 c 1 3 && echo x > /tmp/null2 && echo mknod-char-ok',
        'mknod /tmp/zero2 c 1 5 && test "$(head -c4 /tmp/zero2 | wc -c)" = 4 && echo mknod-read-ok',
      ].join('; '),
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['mount-ok', 'unshare-ok'], r.stderr);
    // The hostname changed inside the new UTS namespace only.
    assert.notEqual(lines[2], 'inner');
    assert.deepEqual(lines.slice(3), ['mknod-char-ok', 'mknod-read-ok']);
  });
});
