/**
 * docker update / pause / unpause through the real docker CLI: limits change in the running
 * container's cgroup and in inspect; the freezer stops and resumes the processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type TestDaemon,
  canRunRoot,
  cgroupFile,
  docker,
  inspectContainer,
  makeBusybox,
  startDaemon,
} from '../helpers/daemon.ts';

describe('update, pause and unpause', { skip: !canRunRoot() && 'needs root' }, () => {
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

  test('update changes memory, swap, pids and cpu limits of a running container', async () => {
    const r = await docker(d, 'run', '-d', '--name', 'upd', '-m', '32m', 'busybox', 'sleep', '60');
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    try {
      assert.equal(await cg('memory', id, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
      const u = await docker(
        d,
        'update',
        '-m',
        '64m',
        '--memory-swap',
        '128m',
        '--pids-limit',
        '40',
        '--cpus',
        '0.5',
        'upd',
      );
      assert.equal(u.code, 0, u.stderr);
      assert.equal(u.stdout, 'upd\n');
      assert.equal(await cg('memory', id, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      assert.equal(await cg('pids', id, 'pids.max'), '40');
      assert.equal(await cg('cpu', id, 'cpu.cfs_quota_us'), '50000');
      assert.equal(await cg('cpu', id, 'cpu.cfs_period_us'), '100000');
      const hc = (await inspect('upd')).HostConfig;
      assert.equal(hc.Memory, 64 * 1024 * 1024);
      assert.equal(hc.MemorySwap, 128 * 1024 * 1024);
      assert.equal(hc.PidsLimit, 40);
      assert.equal(hc.NanoCpus, 500000000);
      // Docker's conflict rules.
      const bad = await docker(d, 'update', '--cpu-quota', '20000', 'upd');
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set/,
      );
      const low = await docker(d, 'update', '-m', '1m', 'upd');
      assert.match(low.stderr, /Minimum memory limit allowed is 6MB/);
      const none = await docker(d, 'update', 'upd');
      assert.match(none.stderr, /you must provide one or more flags when using this command/);
    } finally {
      await docker(d, 'rm', '-f', 'upd');
    }
  });

  test('update of a stopped container is stored and applied at the next start', async () => {
    const r = await docker(d, 'create', '--name', 'upd2', 'busybox', 'sleep', '60');
    const id = r.stdout.trim();
    try {
      assert.equal((await docker(d, 'update', '--pids-limit', '33', 'upd2')).code, 0);
      assert.equal((await docker(d, 'start', 'upd2')).code, 0);
      assert.equal(await cg('pids', id, 'pids.max'), '33');
    } finally {
      await docker(d, 'rm', '-f', 'upd2');
    }
  });

  test('pause freezes the processes, unpause resumes them; wrong states are 409s', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'pz',
      'busybox',
      'sh',
      '-c',
      'while true; do date +%s%N > /tmp/t; usleep 20000; done',
    );
    const id = r.stdout.trim();
    try {
      const p = await docker(d, 'pause', 'pz');
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.stdout, 'pz\n');
      assert.equal(await cg('freezer', id, 'freezer.state'), 'FROZEN');
      const st = (await inspect('pz')).State;
      assert.equal(st.Status, 'paused');
      assert.equal(st.Paused, true);
      assert.equal(st.Running, true);
      const ps = await docker(d, 'ps', '--format', '{{.Names}} {{.Status}}');
      assert.match(ps.stdout, /^pz Up .*\(Paused\)$/m);
      const again = await docker(d, 'pause', 'pz');
      assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));
      const u = await docker(d, 'unpause', 'pz');
      assert.equal(u.code, 0, u.stderr);
      assert.equal(await cg('freezer', id, 'freezer.state'), 'THAWED');
      assert.equal((await inspect('pz')).State.Status, 'running');
      const notPaused = await docker(d, 'unpause', 'pz');
      assert.match(notPaused.stderr, new RegExp(`Container ${id} is not paused`));
      // A paused container can be removed with -f (it is thawed so SIGKILL acts).
      assert.equal((await docker(d, 'pause', 'pz')).code, 0);
    } finally {
      const rm = await docker(d, 'rm', '-f', 'pz');
      assert.equal(rm.code, 0, rm.stderr);
    }
  });

  test('pausing a stopped container is a conflict', async () => {
    await docker(d, 'create', '--name', 'pz2', 'busybox', 'true');
    try {
      const r = await docker(d, 'pause', 'pz2');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not running/);
    } finally {
      await docker(d, 'rm', '-f', 'pz2');
    }
  });
});
