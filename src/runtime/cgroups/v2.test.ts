import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../common/index.ts';
import { createCgroupManager, detectCgroupVersion } from './cgroup-manager.ts';

/**
 * A fake unified cgroupfs: a root with cgroup.controllers and an empty subtree_control. Files the
 * kernel would create in a new cgroup are created by our writes (plain directory) or by the test.
 */
async function fakeV2Tree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-cg2-'));
  await writeFile(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids\n');
  await writeFile(join(root, 'cgroup.subtree_control'), '');
  await writeFile(join(root, 'memory.swap.max'), ''); // swap accounting is on
  return root;
}

const read = async (root: string, path: string) => (await readFile(join(root, path), 'utf8')).trim();

describe('cgroup v2 on a fake tree', () => {
  let root: string;
  before(async () => {
    root = await fakeV2Tree();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a root with cgroup.controllers is version 2', () => {
    assert.equal(detectCgroupVersion(root), 2);
    assert.equal(createCgroupManager({ root, log: silentLogger() }).version, 2);
  });

  test('create enables the controllers in every parent and writes converted limits', async () => {
    const manager = createCgroupManager({ root, log: silentLogger() });
    const M = 1024 * 1024;
    const cg = await manager.create('/berth/c1', {
      memory: { limit: 64 * M, swap: 128 * M, reservation: 32 * M, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
      pids: { limit: 10 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 * M }],
    });
    assert.equal(await read(root, 'cgroup.subtree_control'), '+cpuset +cpu +io +memory +hugetlb +pids');
    assert.equal(await read(root, 'berth/cgroup.subtree_control'), '+cpuset +cpu +io +memory +hugetlb +pids');
    assert.equal(await read(root, 'berth/c1/memory.max'), String(64 * M));
    assert.equal(await read(root, 'berth/c1/memory.swap.max'), String(64 * M), 'swap = memory+swap - memory');
    assert.equal(await read(root, 'berth/c1/memory.low'), String(32 * M));
    assert.equal(await read(root, 'berth/c1/cpu.weight'), '39');
    assert.equal(await read(root, 'berth/c1/cpu.max'), '50000 100000');
    assert.equal(await read(root, 'berth/c1/cpuset.cpus'), '0-1');
    assert.equal(await read(root, 'berth/c1/cpuset.mems'), '0');
    assert.equal(await read(root, 'berth/c1/pids.max'), '10');
    assert.equal(await read(root, 'berth/c1/io.weight'), '4950');
    assert.equal(await read(root, 'berth/c1/io.max'), '8:0 rbps=1048576');
    assert.equal(await read(root, 'berth/c1/hugetlb.2MB.max'), String(8 * M));
    assert.deepEqual(cg.procsFiles(), [join(root, 'berth/c1/cgroup.procs')]);
  });

  test('update with memory equal to swap writes memory.swap.max 0 and unlimited pids as max', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.update({ memory: { limit: 100 * 1024 * 1024, swap: 100 * 1024 * 1024 }, pids: { limit: -1 } });
    assert.equal(await read(root, 'berth/c1/memory.swap.max'), '0');
    assert.equal(await read(root, 'berth/c1/memory.max'), '104857600');
    assert.equal(await read(root, 'berth/c1/pids.max'), 'max');
  });

  test('update with unlimited memory and no swap makes both max', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.update({ memory: { limit: -1 } });
    assert.equal(await read(root, 'berth/c1/memory.max'), 'max');
    assert.equal(await read(root, 'berth/c1/memory.swap.max'), 'max');
  });

  test('io.bfq.weight takes the blkio weight unconverted when BFQ is present', async () => {
    await writeFile(join(root, 'berth/c1/io.bfq.weight'), 'default 100\n');
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.update({ blockIO: { weight: 300 } });
    assert.equal(await read(root, 'berth/c1/io.bfq.weight'), '300');
    await rm(join(root, 'berth/c1/io.bfq.weight'));
  });

  test("Docker's default device rules are accepted and extra ones are NotImplemented", async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.update({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    });
    await assert.rejects(
      cg.update({ devices: [{ allow: true, type: 'b', major: 8, minor: 0, access: 'rw' }] }),
      {
        kind: 'NotImplemented',
      },
    );
  });

  test('realtime CPU limits are NotImplemented on v2', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await assert.rejects(cg.update({ cpu: { realtimeRuntime: 950000 } }), { kind: 'NotImplemented' });
  });

  test('unified entries are written as given', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.update({ unified: { 'memory.high': '50000000' } });
    assert.equal(await read(root, 'berth/c1/memory.high'), '50000000');
    await assert.rejects(cg.update({ unified: { '../escape.max': '1' } }), { kind: 'InvalidParameter' });
  });

  test('pids() lists cgroup.procs of the cgroup and its sub-cgroups', async () => {
    await writeFile(join(root, 'berth/c1/cgroup.procs'), '101\n102\n');
    await mkdir(join(root, 'berth/c1/inner'), { recursive: true });
    await writeFile(join(root, 'berth/c1/inner/cgroup.procs'), '103\n');
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    assert.deepEqual((await cg.pids()).sort(), [101, 102, 103]);
    await rm(join(root, 'berth/c1/inner'), { recursive: true });
    await writeFile(join(root, 'berth/c1/cgroup.procs'), '');
  });

  test('freeze writes cgroup.freeze 1 and returns once cgroup.events says frozen', async () => {
    await writeFile(join(root, 'berth/c1/cgroup.events'), 'populated 1\nfrozen 1\n');
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.freeze();
    assert.equal(await read(root, 'berth/c1/cgroup.freeze'), '1');
    await writeFile(join(root, 'berth/c1/cgroup.events'), 'populated 1\nfrozen 0\n');
    await cg.thaw();
    assert.equal(await read(root, 'berth/c1/cgroup.freeze'), '0');
  });

  test('killAll(SIGKILL) writes cgroup.kill when the kernel has it', async () => {
    await writeFile(join(root, 'berth/c1/cgroup.kill'), '');
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await cg.killAll(9);
    assert.equal(await read(root, 'berth/c1/cgroup.kill'), '1');
  });

  test('oomKilled reads the oom_kill counter of memory.events', async () => {
    const cg = createCgroupManager({ root, log: silentLogger() }).open('/berth/c1');
    await writeFile(join(root, 'berth/c1/memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n');
    assert.equal(await cg.oomKilled(), false);
    await writeFile(join(root, 'berth/c1/memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    assert.equal(await cg.oomKilled(), true);
  });

  test('stats reads memory, cpu, pids and io in Docker units', async () => {
    const dir = join(root, 'berth/c1');
    await writeFile(join(dir, 'memory.current'), '1048576\n');
    await writeFile(join(dir, 'memory.max'), '67108864\n');
    await writeFile(join(dir, 'memory.swap.current'), '4096\n');
    await writeFile(join(dir, 'memory.swap.max'), '67108864\n');
    await writeFile(join(dir, 'memory.stat'), 'anon 524288\nfile 524288\n');
    await writeFile(
      join(dir, 'cpu.stat'),
      'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    );
    await writeFile(join(dir, 'pids.current'), '2\n');
    await writeFile(join(dir, 'pids.max'), 'max\n');
    await writeFile(join(dir, 'io.stat'), '8:0 rbytes=10 wbytes=20 rios=1 wios=2\n');
    const s = await createCgroupManager({ root, log: silentLogger() }).open('/berth/c1').stats();
    assert.equal(s.memory.usage, 1048576);
    assert.equal(s.memory.limit, 67108864);
    assert.equal(s.memory.failcnt, 3);
    assert.equal(s.memory.swapUsage, 1048576 + 4096);
    assert.equal(s.memory.swapLimit, 2 * 67108864);
    assert.deepEqual(s.memory.stats, { anon: 524288, file: 524288 });
    assert.equal(s.cpu.totalUsage, 1_500_000);
    assert.equal(s.cpu.usageInUsermode, 1_000_000);
    assert.equal(s.cpu.usageInKernelmode, 500_000);
    assert.deepEqual(s.cpu.throttling, { periods: 4, throttledPeriods: 1, throttledTime: 20_000 });
    assert.deepEqual(s.pids, { current: 2, limit: null });
    assert.equal(s.blkio.ioServiceBytesRecursive.length, 2);
  });

  test('a path with .. is an InvalidParameter', () => {
    const manager = createCgroupManager({ root, log: silentLogger() });
    assert.throws(() => manager.open('/berth/../etc'), { kind: 'InvalidParameter' });
    assert.throws(() => manager.open('/'), { kind: 'InvalidParameter' });
  });
});
