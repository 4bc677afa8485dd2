import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CgroupStats } from '../../runtime/index.ts';
import type { Container, ContainerStore } from './container-store.ts';
import { ContainerStats, goTimeNow, toDockerStats, toNetworkStats, zeroStats } from './container-stats.ts';

const GiB = 1024 ** 3;

function cgroupStats(over: Partial<CgroupStats['memory']> = {}, cpuTotal = 5_000_000): CgroupStats {
  return {
    memory: {
      usage: 10_000_000,
      maxUsage: 12_000_000,
      limit: 64 * 1024 * 1024,
      failcnt: 2,
      swapUsage: null,
      swapLimit: null,
      stats: { cache: 4096, total_inactive_file: 8192, inactive_file: 8192, anon: 1000, unknown_key: 7 },
      ...over,
    },
    cpu: {
      totalUsage: cpuTotal,
      perCpuUsage: [3_000_000, 2_000_000],
      usageInKernelmode: 1_000_000,
      usageInUsermode: 4_000_000,
      systemUsage: 900_000_000_000,
      onlineCpus: 2,
      throttling: { periods: 10, throttledPeriods: 3, throttledTime: 777 },
    },
    pids: { current: 3, limit: null },
    blkio: {
      ioServiceBytesRecursive: [
        { major: 8, minor: 0, op: 'read', value: 4096 },
        { major: 8, minor: 0, op: 'write', value: 512 },
      ],
      ioServicedRecursive: [{ major: 8, minor: 0, op: 'read', value: 1 }],
    },
  };
}

test('cgroup v1 maps to statsV1: percpu, max_usage, the 32 v1 memory keys, empty blkio lists, no pids limit', () => {
  const s = toDockerStats(cgroupStats(), 1, 16 * GiB);
  assert.deepEqual(Object.keys(s), [
    'pids_stats',
    'blkio_stats',
    'num_procs',
    'storage_stats',
    'cpu_stats',
    'precpu_stats',
    'memory_stats',
  ]);
  assert.deepEqual(s.pids_stats, { current: 3 });
  assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'read', value: 4096 },
    { major: 8, minor: 0, op: 'write', value: 512 },
  ]);
  assert.deepEqual(s.blkio_stats.io_serviced_recursive, [{ major: 8, minor: 0, op: 'read', value: 1 }]);
  assert.deepEqual(s.blkio_stats.io_queue_recursive, []);
  assert.deepEqual(s.blkio_stats.sectors_recursive, []);
  assert.deepEqual(Object.keys(s.cpu_stats), [
    'cpu_usage',
    'system_cpu_usage',
    'online_cpus',
    'throttling_data',
  ]);
  assert.deepEqual(s.cpu_stats.cpu_usage, {
    total_usage: 5_000_000,
    percpu_usage: [3_000_000, 2_000_000],
    usage_in_kernelmode: 1_000_000,
    usage_in_usermode: 4_000_000,
  });
  assert.deepEqual(s.cpu_stats.throttling_data, { periods: 10, throttled_periods: 3, throttled_time: 777 });
  assert.deepEqual(Object.keys(s.memory_stats), ['usage', 'max_usage', 'stats', 'failcnt', 'limit']);
  assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
  assert.equal(s.memory_stats.failcnt, 2);
  const keys = Object.keys(s.memory_stats.stats ?? {});
  assert.equal(keys.length, 32);
  assert.deepEqual(keys, [...keys].sort());
  assert.equal(s.memory_stats.stats?.total_inactive_file, 8192);
  assert.equal(s.memory_stats.stats?.hierarchical_memsw_limit, 0);
  assert.equal(s.memory_stats.stats?.unknown_key, undefined);
  assert.equal(s.memory_stats.stats?.anon, undefined);
});

test('cgroup v2 maps to statsV2: no percpu or max_usage, failcnt from oom events, nil blkio lists, pids max as MaxUint64', () => {
  const s = toDockerStats(cgroupStats({ oomEvents: 1 }), 2, 16 * GiB);
  assert.equal(s.cpu_stats.cpu_usage.percpu_usage, undefined);
  assert.equal(s.memory_stats.max_usage, undefined);
  assert.equal(s.memory_stats.failcnt, 1);
  assert.deepEqual(s.pids_stats, { current: 3, limit: 18446744073709551615n });
  assert.equal(s.blkio_stats.io_serviced_recursive, null);
  assert.equal(s.blkio_stats.io_queue_recursive, null);
  assert.equal(s.blkio_stats.io_service_bytes_recursive?.length, 2);
  const keys = Object.keys(s.memory_stats.stats ?? {});
  assert.equal(keys.length, 31);
  assert.equal(s.memory_stats.stats?.anon, 1000);
  assert.equal(s.memory_stats.stats?.cache, undefined);
  const none = toDockerStats(
    { ...cgroupStats(), blkio: { ioServiceBytesRecursive: [], ioServicedRecursive: [] } },
    2,
    GiB,
  );
  assert.equal(none.blkio_stats.io_service_bytes_recursive, null);
});

test('an unlimited or larger-than-RAM memory limit shows the machine memory; zero counters are omitted', () => {
  assert.equal(toDockerStats(cgroupStats({ limit: null }), 1, 16 * GiB).memory_stats.limit, 16 * GiB);
  assert.equal(toDockerStats(cgroupStats({ limit: 32 * GiB }), 2, 16 * GiB).memory_stats.limit, 16 * GiB);
  const s = toDockerStats(cgroupStats({ failcnt: 0, maxUsage: null }), 1, GiB);
  assert.equal('failcnt' in s.memory_stats, false);
  assert.equal('max_usage' in s.memory_stats, false);
});

test('a container that is not running gets zeroed stats with only name and id', () => {
  const z = zeroStats({ id: 'abc', name: 'web' });
  assert.equal(z.read, '0001-01-01T00:00:00Z');
  assert.equal(z.name, '/web');
  assert.equal(z.id, 'abc');
  assert.deepEqual(z.memory_stats, {});
  assert.deepEqual(z.pids_stats, {});
  assert.equal(z.blkio_stats.io_service_bytes_recursive, null);
  assert.equal(z.networks, undefined);
  assert.deepEqual(z.cpu_stats, {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
});

test('interface counters become the networks map, sorted; none means no networks key', () => {
  assert.equal(toNetworkStats({}), undefined);
  const n = toNetworkStats({ eth1: { rx_bytes: 1 }, eth0: { rx_bytes: 5, tx_bytes: 6 } });
  assert.deepEqual(Object.keys(n ?? {}), ['eth0', 'eth1']);
  assert.deepEqual(n?.eth0, {
    rx_bytes: 5,
    rx_packets: 0,
    rx_errors: 0,
    rx_dropped: 0,
    tx_bytes: 6,
    tx_packets: 0,
    tx_errors: 0,
    tx_dropped: 0,
  });
});

test('read times are RFC 3339 with nanoseconds in UTC, trailing zeros trimmed', () => {
  assert.equal(goTimeNow(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  assert.equal(goTimeNow(1_700_000_000_100_000_000n), '2023-11-14T22:13:20.1Z');
  assert.equal(goTimeNow(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
  assert.match(goTimeNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
});

function fixture(status: 'running' | 'exited') {
  const c = {
    record: {
      id: 'c1',
      name: 'web',
      config: {},
      hostConfig: { NetworkMode: 'bridge' },
    },
    state:
      status === 'running'
        ? { status, pid: 42, startedAt: '' }
        : { status, exitCode: 0, startedAt: '', finishedAt: '', oomKilled: false, error: '' },
  } as unknown as Container;
  const store = {
    get: (ref: string) => {
      if (ref !== 'web' && ref !== 'c1') throw new Error('No such container');
      return c;
    },
    find: (ref: string) => (ref === 'c1' ? c : undefined),
  } as unknown as ContainerStore;
  let n = 0;
  const svc = new ContainerStats({
    store,
    cgroupVersion: 1,
    cgroupStats: async () => cgroupStats({}, ++n * 1_000_000),
    networkCounters: async () => ({ eth0: { rx_bytes: 10, tx_bytes: 20 } }),
    machineMemory: GiB,
    intervalMs: 1,
  });
  return { svc, samples: () => n };
}

async function take<T>(it: AsyncIterable<T>, max: number): Promise<T[]> {
  const out: T[] = [];
  for await (const f of it) {
    out.push(f);
    if (out.length >= max) break;
  }
  return out;
}

test('streaming: each sample carries the previous one as precpu_stats/preread, the first a zero one', async () => {
  const { svc } = fixture('running');
  const frames = await take(
    svc.open('web', { stream: true, oneShot: false }, new AbortController().signal),
    3,
  );
  assert.equal(frames.length, 3);
  assert.equal(frames[0]!.precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(frames[0]!.preread, '0001-01-01T00:00:00Z');
  assert.equal(frames[1]!.precpu_stats.cpu_usage.total_usage, frames[0]!.cpu_stats.cpu_usage.total_usage);
  assert.equal(frames[2]!.precpu_stats.cpu_usage.total_usage, frames[1]!.cpu_stats.cpu_usage.total_usage);
  assert.equal(frames[2]!.preread, frames[1]!.read);
  assert.equal(frames[0]!.name, '/web');
  assert.equal(frames[0]!.networks?.eth0?.tx_bytes, 20);
});

test('no stream: one-shot sends one sample without precpu; otherwise a first sample primes precpu', async () => {
  const signal = new AbortController().signal;
  const a = fixture('running');
  const one = await take(a.svc.open('web', { stream: false, oneShot: true }, signal), 5);
  assert.equal(one.length, 1);
  assert.equal(one[0]!.precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(a.samples(), 1);
  const b = fixture('running');
  const two = await take(b.svc.open('web', { stream: false, oneShot: false }, signal), 5);
  assert.equal(two.length, 1);
  assert.equal(b.samples(), 2);
  assert.equal(two[0]!.precpu_stats.cpu_usage.total_usage, 1_000_000);
  assert.equal(two[0]!.cpu_stats.cpu_usage.total_usage, 2_000_000);
});

test('a stopped container: zero sample at once without stream, zero samples while streaming', async () => {
  const signal = new AbortController().signal;
  const { svc, samples } = fixture('exited');
  const one = await take(svc.open('web', { stream: false, oneShot: false }, signal), 5);
  assert.equal(one.length, 1);
  assert.equal(one[0]!.read, '0001-01-01T00:00:00Z');
  const streamed = await take(svc.open('web', { stream: true, oneShot: false }, signal), 2);
  assert.equal(streamed.length, 2);
  assert.deepEqual(streamed[1]!.memory_stats, {});
  assert.equal(samples(), 0);
});

test('an unknown container throws before any sample', () => {
  const { svc } = fixture('running');
  assert.throws(() => svc.open('nope', { stream: true, oneShot: false }, new AbortController().signal));
});
