import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/common/index.ts';
import {
  type CgroupHandle,
  createCgroupManager,
  detectCgroupVersion,
} from '../../src/runtime/cgroups/index.ts';

const root = '/sys/fs/cgroup';
const isRoot = process.getuid?.() === 0;
const isV1 = existsSync(join(root, 'memory')) && detectCgroupVersion(root) === 1;
const skip = !isRoot ? 'needs root' : !isV1 ? 'needs a cgroup v1 host' : false;

const parent = `/berth-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const path = `${parent}/c1`;

/** Every v1 hierarchy directory (real path) under the root. */
function hierarchyMounts(): string[] {
  return readdirSync(root)
    .filter((n) => n !== 'unified' && existsSync(join(root, n, 'cgroup.procs')))
    .map((n) => join(root, n));
}

describe('cgroup v1 on the real kernel', { skip }, () => {
  const manager = createCgroupManager({ log: silentLogger() });
  const children: ChildProcess[] = [];
  let cg: CgroupHandle;

  const spawnSleep = async (): Promise<ChildProcess> => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    return child;
  };

  before(async () => {
    cg = await manager.create(path, { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 10 } });
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sleep(50);
    await manager.open(path).remove();
    for (const mount of hierarchyMounts()) {
      const dir = join(mount, parent);
      if (existsSync(dir)) {
        // Move any straggler back to the root before removing.
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          writeFileSync(join(mount, 'cgroup.procs'), pid);
        }
        rmdirSync(dir);
      }
    }
  });

  test('the manager reports version 1 on this hybrid host', () => {
    assert.equal(manager.version, 1);
  });

  test('create makes the directory in every hierarchy and lists one procs file per hierarchy', () => {
    const files = cg.procsFiles();
    assert.equal(files.length, new Set(files).size);
    for (const mount of hierarchyMounts()) {
      assert.ok(existsSync(join(mount, path)), `${mount}${path} exists`);
    }
    assert.ok(files.includes(join(root, 'memory', path, 'cgroup.procs')));
  });

  test('memory.limit_in_bytes reads 67108864 and pids.max 10', () => {
    assert.equal(
      readFileSync(join(root, 'memory', path, 'memory.limit_in_bytes'), 'utf8').trim(),
      '67108864',
    );
    assert.equal(readFileSync(join(root, 'pids', path, 'pids.max'), 'utf8').trim(), '10');
  });

  test('the new cpuset cgroup inherited cpus and mems from its parents', () => {
    const read = (f: string) => readFileSync(join(root, 'cpuset', path, f), 'utf8').trim();
    assert.equal(read('cpuset.cpus'), readFileSync(join(root, 'cpuset', 'cpuset.cpus'), 'utf8').trim());
    assert.notEqual(read('cpuset.mems'), '');
  });

  test('a process written into procsFiles() shows up in pids()', async () => {
    const child = await spawnSleep();
    for (const file of cg.procsFiles()) writeFileSync(file, String(child.pid));
    assert.deepEqual(await cg.pids(), [child.pid]);
    const stats = await cg.stats();
    assert.equal(stats.pids.current, 1);
    assert.equal(stats.pids.limit, 10);
    assert.equal(stats.memory.limit, 67108864);
    assert.ok(stats.memory.usage >= 0);
    assert.ok(stats.cpu.systemUsage > 0);
  });

  test('update changes memory.limit_in_bytes', async () => {
    await cg.update({
      memory: { limit: 128 * 1024 * 1024 },
      cpu: { shares: 512, quota: 50000, period: 100000 },
    });
    assert.equal(
      readFileSync(join(root, 'memory', path, 'memory.limit_in_bytes'), 'utf8').trim(),
      '134217728',
    );
    assert.equal(readFileSync(join(root, 'cpu', path, 'cpu.shares'), 'utf8').trim(), '512');
    assert.equal(readFileSync(join(root, 'cpu', path, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
  });

  test('a value the kernel refuses is an InvalidParameter naming the file', async () => {
    await assert.rejects(cg.update({ cpu: { cpus: '9999' } }), {
      kind: 'InvalidParameter',
      message: /^write cpuset\.cpus: Numerical result out of range$/,
    });
  });

  test("cpu shares the kernel clamps are refused with Docker's message", async () => {
    await assert.rejects(cg.update({ cpu: { shares: 1 } }), {
      kind: 'InvalidParameter',
      message: 'The minimum allowed cpu-shares is 2',
    });
  });

  test('freeze stops the processes and thaw resumes them', async () => {
    const [pid] = await cg.pids();
    await cg.freeze();
    assert.equal(readFileSync(join(root, 'freezer', path, 'freezer.state'), 'utf8').trim(), 'FROZEN');
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[DS]/);
    await cg.thaw();
    assert.equal(readFileSync(join(root, 'freezer', path, 'freezer.state'), 'utf8').trim(), 'THAWED');
  });

  test('device rules deny everything but what is allowed', async () => {
    await cg.update({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, access: 'rwm' },
      ],
    });
    const list = readFileSync(join(root, 'devices', path, 'devices.list'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(list.sort(), ['c 136:* rwm', 'c 1:3 rwm']);
  });

  test('killAll(SIGTERM) leaves a paused cgroup frozen; the signal lands on thaw', async () => {
    const [first] = children;
    await cg.freeze();
    const exited = once(first!, 'exit');
    await cg.killAll(15);
    assert.equal(readFileSync(join(root, 'freezer', path, 'freezer.state'), 'utf8').trim(), 'FROZEN');
    await cg.thaw();
    assert.deepEqual(await exited, [null, 'SIGTERM']);
  });

  test('killAll(SIGKILL) of a paused cgroup, then remove, leave no process and no directory', async () => {
    for (const child of [await spawnSleep(), await spawnSleep()]) {
      for (const file of cg.procsFiles()) writeFileSync(file, String(child.pid));
    }
    assert.equal((await cg.pids()).length, 2);
    const exits = children.map((c) =>
      c.exitCode === null && c.signalCode === null ? once(c, 'exit') : null,
    );
    await cg.freeze();
    await cg.killAll(9);
    await Promise.all(exits);
    await cg.remove();
    await cg.remove(); // idempotent
    for (const mount of hierarchyMounts()) {
      assert.equal(existsSync(join(mount, path)), false, `${mount}${path} is gone`);
      assert.equal(existsSync(join(mount, parent)), true, 'the parent stays');
    }
    assert.equal(await cg.oomKilled(), false);
  });

  test('create rolls back every directory when a limit is refused', async () => {
    const bad = `${parent}/rollback`;
    await assert.rejects(manager.create(bad, { cpu: { cpus: '9999' } }), { kind: 'InvalidParameter' });
    for (const mount of hierarchyMounts()) assert.equal(existsSync(join(mount, bad)), false);
  });
});

// The hybrid host's controller-less cgroup2 mount still has the v2 core files (cgroup.procs,
// cgroup.freeze, cgroup.events, cgroup.kill, cpu.stat), so the v2 driver's process handling
// runs against the real kernel there; limits need controllers and are covered by unit tests.
const unified = join(root, 'unified');
const hasUnified = existsSync(join(unified, 'cgroup.controllers'));
const skipV2 = !isRoot
  ? 'needs root'
  : !hasUnified
    ? 'needs a cgroup2 mount at /sys/fs/cgroup/unified'
    : false;

describe('cgroup v2 core files on the real kernel (hybrid unified mount)', { skip: skipV2 }, () => {
  const manager = createCgroupManager({ root: unified, log: silentLogger() });
  const children: ChildProcess[] = [];

  const spawnInto = async (cg: CgroupHandle): Promise<ChildProcess> => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    for (const file of cg.procsFiles()) writeFileSync(file, String(child.pid));
    return child;
  };

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sleep(50);
    for (const p of [`${parent}/v2a`, `${parent}/v2b`]) await manager.open(p).remove();
    if (existsSync(join(unified, parent))) rmdirSync(join(unified, parent));
  });

  test('a cgroup2 mount is version 2', () => {
    assert.equal(manager.version, 2);
  });

  test('freeze, thaw, killAll(SIGKILL) through cgroup.kill, and remove', async () => {
    const cg = await manager.create(`${parent}/v2a`);
    const child = await spawnInto(cg);
    assert.deepEqual(await cg.pids(), [child.pid]);
    await cg.freeze();
    assert.match(readFileSync(join(unified, parent, 'v2a', 'cgroup.events'), 'utf8'), /frozen 1/);
    await cg.thaw();
    assert.match(readFileSync(join(unified, parent, 'v2a', 'cgroup.events'), 'utf8'), /frozen 0/);
    const exited = once(child, 'exit');
    await cg.killAll(9);
    assert.deepEqual(await exited, [null, 'SIGKILL']);
    await cg.remove();
    assert.equal(existsSync(join(unified, parent, 'v2a')), false);
    assert.ok((await cg.stats()).cpu.systemUsage > 0);
  });

  test('killAll with SIGTERM signals every process and thaws again', async () => {
    const cg = await manager.create(`${parent}/v2b`);
    const a = await spawnInto(cg);
    const b = await spawnInto(cg);
    const exits = [once(a, 'exit'), once(b, 'exit')];
    await cg.killAll(15);
    assert.deepEqual(await Promise.all(exits), [
      [null, 'SIGTERM'],
      [null, 'SIGTERM'],
    ]);
    assert.match(readFileSync(join(unified, parent, 'v2b', 'cgroup.events'), 'utf8'), /frozen 0/);
    await cg.remove();
    assert.equal(existsSync(join(unified, parent, 'v2b')), false);
  });
});
