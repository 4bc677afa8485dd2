import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../common/index.ts';
import { createCgroupManager, detectCgroupVersion } from './cgroup-manager.ts';
import { discoverHierarchies } from './v1.ts';

/**
 * A fake hybrid v1 layout like a Debian host's: one directory per hierarchy, cpu and cpuacct
 * sharing "cpu,cpuacct" through symlinks, and a controller-less cgroup2 at unified/.
 */
async function fakeV1Tree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-cg1-'));
  for (const h of [
    'memory',
    'cpu,cpuacct',
    'cpuset',
    'pids',
    'blkio',
    'devices',
    'freezer',
    'systemd',
    'unified',
  ]) {
    await mkdir(join(root, h));
  }
  await symlink('cpu,cpuacct', join(root, 'cpu'));
  await symlink('cpu,cpuacct', join(root, 'cpuacct'));
  await writeFile(join(root, 'unified', 'cgroup.controllers'), '');
  await writeFile(join(root, 'memory', 'memory.limit_in_bytes'), '9223372036854771712\n');
  await writeFile(join(root, 'memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712\n');
  await writeFile(join(root, 'cpuset', 'cpuset.cpus'), '0-1\n');
  await writeFile(join(root, 'cpuset', 'cpuset.mems'), '0\n');
  await writeFile(join(root, 'blkio', 'blkio.weight'), '500\n');
  await writeFile(join(root, 'blkio', 'blkio.weight_device'), '');
  return root;
}

const read = async (root: string, path: string) => (await readFile(join(root, path), 'utf8')).trim();

describe('cgroup v1 on a fake tree', () => {
  let root: string;
  before(async () => {
    root = await fakeV1Tree();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a hybrid layout (cgroup2 only at unified/) is version 1', () => {
    assert.equal(detectCgroupVersion(root), 1);
    assert.equal(createCgroupManager({ root, log: silentLogger() }).version, 1);
  });

  test('hierarchies are found by name, symlinked co-mounts once, and the hybrid unified/ as runc joins it', () => {
    const hs = discoverHierarchies(root);
    const names = hs.map((h) => [...h.controllers].sort().join(',')).sort();
    assert.deepEqual(names, [
      'blkio',
      'cpu,cpuacct',
      'cpuset',
      'devices',
      'freezer',
      'memory',
      'pids',
      'systemd',
      'unified',
    ]);
  });

  test('create makes the directory in every hierarchy and writes the v1 files', async () => {
    const M = 1024 * 1024;
    const cg = await createCgroupManager({ root, log: silentLogger() }).create('/berth/c1', {
      memory: { limit: 64 * M, swap: 128 * M, reservation: 32 * M, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '1' },
      pids: { limit: 10 },
      blockIO: {
        weight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 200 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    });
    assert.equal(cg.procsFiles().length, 9);
    assert.ok(cg.procsFiles().includes(join(root, 'unified/berth/c1/cgroup.procs')));
    assert.ok(cg.procsFiles().includes(join(root, 'cpu,cpuacct/berth/c1/cgroup.procs')));
    assert.equal(await read(root, 'memory/berth/c1/memory.limit_in_bytes'), String(64 * M));
    assert.equal(await read(root, 'memory/berth/c1/memory.memsw.limit_in_bytes'), String(128 * M));
    assert.equal(await read(root, 'memory/berth/c1/memory.soft_limit_in_bytes'), String(32 * M));
    assert.equal(await read(root, 'memory/berth/c1/memory.swappiness'), '10');
    assert.equal(await read(root, 'memory/berth/c1/memory.oom_control'), '1');
    assert.equal(await read(root, 'cpu/berth/c1/cpu.shares'), '512');
    assert.equal(await read(root, 'cpu/berth/c1/cpu.cfs_quota_us'), '50000');
    assert.equal(await read(root, 'cpu/berth/c1/cpu.cfs_period_us'), '100000');
    assert.equal(await read(root, 'pids/berth/c1/pids.max'), '10');
    assert.equal(await read(root, 'blkio/berth/c1/blkio.weight'), '300');
    assert.equal(await read(root, 'blkio/berth/c1/blkio.weight_device'), '8:0 200');
    assert.equal(await read(root, 'blkio/berth/c1/blkio.throttle.write_iops_device'), '8:0 100');
    // deny "a" first, then the rules in order; the fake file keeps the last write of each.
    assert.equal(await read(root, 'devices/berth/c1/devices.deny'), 'a *:* rwm');
    assert.equal(await read(root, 'devices/berth/c1/devices.allow'), 'c 1:3 rwm');
  });

  test('new cpuset parents inherit cpus and mems; the leaf takes the requested cpus', async () => {
    assert.equal(await read(root, 'cpuset/berth/cpuset.cpus'), '0-1');
    assert.equal(await read(root, 'cpuset/berth/cpuset.mems'), '0');
    assert.equal(await read(root, 'cpuset/berth/c1/cpuset.cpus'), '1');
    assert.equal(await read(root, 'cpuset/berth/c1/cpuset.mems'), '0');
  });

  test('unlimited memory with no swap given sets memsw to -1 too', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.update({ memory: { limit: -1 }, pids: { limit: 0 } });
    assert.equal(await read(root, 'memory/berth/c1/memory.limit_in_bytes'), '-1');
    assert.equal(await read(root, 'memory/berth/c1/memory.memsw.limit_in_bytes'), '-1');
    assert.equal(await read(root, 'pids/berth/c1/pids.max'), 'max');
  });

  test('hugepage limits without a hugetlb hierarchy are an InvalidParameter', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await assert.rejects(cg.update({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), {
      kind: 'InvalidParameter',
      message: /hugetlb cgroup controller is not mounted/,
    });
  });

  test('unified resources are an InvalidParameter on v1', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await assert.rejects(cg.update({ unified: { 'memory.high': '1' } }), { kind: 'InvalidParameter' });
  });

  test('oomKilled reads the oom_kill counter of memory.oom_control', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await writeFile(
      join(root, 'memory/berth/c1/memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    );
    assert.equal(await cg.oomKilled(), false);
    await writeFile(
      join(root, 'memory/berth/c1/memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    );
    assert.equal(await cg.oomKilled(), true);
  });

  test('stats reads memory, cpuacct, cpu.stat, pids and blkio', async () => {
    const d = (h: string) => join(root, h, 'berth/c1');
    await writeFile(join(d('memory'), 'memory.usage_in_bytes'), '2097152\n');
    await writeFile(join(d('memory'), 'memory.max_usage_in_bytes'), '4194304\n');
    await writeFile(join(d('memory'), 'memory.failcnt'), '5\n');
    await writeFile(join(d('memory'), 'memory.limit_in_bytes'), '67108864\n');
    await writeFile(join(d('memory'), 'memory.stat'), 'cache 4096\nrss 8192\ntotal_rss 8192\n');
    await writeFile(join(d('cpuacct'), 'cpuacct.usage'), '3000000\n');
    await writeFile(join(d('cpuacct'), 'cpuacct.usage_percpu'), '1000000 2000000 \n');
    await writeFile(join(d('cpuacct'), 'cpuacct.stat'), 'user 2\nsystem 1\n');
    await writeFile(join(d('cpu'), 'cpu.stat'), 'nr_periods 10\nnr_throttled 2\nthrottled_time 777\n');
    await writeFile(join(d('pids'), 'pids.current'), '3\n');
    await writeFile(join(d('pids'), 'pids.max'), '10\n');
    await writeFile(
      join(d('blkio'), 'blkio.throttle.io_service_bytes_recursive'),
      '8:0 Read 10\n8:0 Write 20\nTotal 30\n',
    );
    const s = await createCgroupManager({ root, log: silentLogger() }).open('/berth/c1').stats();
    assert.deepEqual(
      [s.memory.usage, s.memory.maxUsage, s.memory.failcnt, s.memory.limit],
      [2097152, 4194304, 5, 67108864],
    );
    assert.deepEqual(s.memory.stats, { cache: 4096, rss: 8192, total_rss: 8192 });
    assert.equal(s.cpu.totalUsage, 3000000);
    assert.deepEqual(s.cpu.perCpuUsage, [1000000, 2000000]);
    assert.equal(s.cpu.usageInUsermode, 2e7);
    assert.equal(s.cpu.usageInKernelmode, 1e7);
    assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 2, throttledTime: 777 });
    assert.deepEqual(s.pids, { current: 3, limit: 10 });
    assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
      { major: 8, minor: 0, op: 'Read', value: 10 },
      { major: 8, minor: 0, op: 'Write', value: 20 },
    ]);
  });
});
