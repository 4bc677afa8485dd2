import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatsResponse } from '../api/types/index.ts';
import {
  blockIo,
  cpuPercentUnix,
  emptyEntry,
  entryFromSample,
  goFixed,
  liveFrame,
  memUsageNoCache,
  STATS_DEFAULT_TABLE,
  STATS_HEADERS,
  statsRow,
} from './stats-format.ts';
import { formatTable } from './template/index.ts';

const cpu = (total: number, system: number, online?: number, percpu?: number[]) => ({
  cpu_usage: {
    total_usage: total,
    usage_in_kernelmode: 0,
    usage_in_usermode: 0,
    ...(percpu ? { percpu_usage: percpu } : {}),
  },
  ...(system ? { system_cpu_usage: system } : {}),
  ...(online ? { online_cpus: online } : {}),
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

test('CPU % is container delta / system delta × online CPUs × 100', () => {
  // 0.5 s of CPU while the 2-CPU host spent 2 s: one CPU at 50 % → 50 %.
  assert.equal(cpuPercentUnix(cpu(1e9, 100e9), cpu(1.5e9, 102e9, 2)), 50);
  // online_cpus missing: the length of percpu_usage counts.
  assert.equal(cpuPercentUnix(cpu(0, 100e9), cpu(1e9, 104e9, 0, [1, 2, 3, 4])), 100);
  // no progress or a zero precpu system time that makes no positive delta: 0.
  assert.equal(cpuPercentUnix(cpu(5, 100), cpu(5, 200, 2)), 0);
  assert.equal(cpuPercentUnix(cpu(5, 100), cpu(9, 100, 2)), 0);
});

test('memory usage leaves out inactive file pages: total_inactive_file (v1), inactive_file (v2)', () => {
  assert.equal(
    memUsageNoCache({ usage: 1000, stats: { total_inactive_file: 300, inactive_file: 100 } }),
    700,
  );
  assert.equal(memUsageNoCache({ usage: 1000, stats: { inactive_file: 100 } }), 900);
  // inactive above usage (v1): falls through to the v2 key, then to the raw usage.
  assert.equal(memUsageNoCache({ usage: 1000, stats: { total_inactive_file: 2000 } }), 1000);
  assert.equal(memUsageNoCache({}), 0);
});

test('block I/O sums io_service_bytes_recursive by the first letter of op', () => {
  assert.deepEqual(
    blockIo({
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 100 },
        { major: 8, minor: 0, op: 'write', value: 7 },
        { major: 8, minor: 16, op: 'read', value: 1 },
        { major: 8, minor: 0, op: 'Total', value: 107 },
        { major: 8, minor: 0, op: '', value: 5 },
      ],
    } as ContainerStatsResponse['blkio_stats']),
    [101, 7],
  );
});

function sample(): ContainerStatsResponse {
  return {
    read: '2024-01-01T00:00:01Z',
    preread: '2024-01-01T00:00:00Z',
    pids_stats: { current: 4 },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 4_261_000 },
        { major: 8, minor: 0, op: 'Write', value: 999_600 },
      ],
      io_serviced_recursive: [],
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(3e9, 202e9, 2),
    precpu_stats: cpu(2e9, 200e9),
    memory_stats: { usage: 10 * 1048576 + 8192, stats: { total_inactive_file: 8192 }, limit: 64 * 1048576 },
    name: '/web',
    id: '0123456789abcdef0123456789abcdef',
    networks: {
      eth0: {
        rx_bytes: 1500,
        rx_packets: 0,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 648,
        tx_packets: 0,
        tx_errors: 0,
        tx_dropped: 0,
      },
      eth1: {
        rx_bytes: 500,
        rx_packets: 0,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 0,
        tx_packets: 0,
        tx_errors: 0,
        tx_dropped: 0,
      },
    },
  };
}

test('a row shows docker units: MiB for memory, kB/MB (3 digits) for I/O, 2-decimal percentages', () => {
  const row = statsRow(entryFromSample('web', sample()), true);
  assert.deepEqual(row, {
    BlockIO: '4.26MB / 1e+03kB',
    CPUPerc: '100.00%',
    Container: 'web',
    ID: '0123456789ab',
    MemPerc: '15.62%',
    MemUsage: '10MiB / 64MiB',
    Name: 'web',
    NetIO: '2kB / 648B',
    PIDs: '4',
  });
  assert.equal(statsRow(entryFromSample('web', sample()), false).ID, '0123456789abcdef0123456789abcdef');
});

test('an invalid row shows "--", an unnamed one "--" as name', () => {
  const row = statsRow({ ...emptyEntry('x'), isInvalid: true }, true);
  assert.deepEqual(row, {
    BlockIO: '--',
    CPUPerc: '--',
    Container: 'x',
    ID: '',
    MemPerc: '--',
    MemUsage: '-- / --',
    Name: '--',
    NetIO: '--',
    PIDs: '--',
  });
});

test('the default table has docker header and columns; {{json .}} has sorted keys', () => {
  const rows = [statsRow(entryFromSample('web', sample()), true)];
  assert.equal(
    formatTable(STATS_DEFAULT_TABLE, rows, STATS_HEADERS),
    'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O          PIDS\n' +
      '0123456789ab   web       100.00%   10MiB / 64MiB       15.62%    2kB / 648B   4.26MB / 1e+03kB   4\n',
  );
  assert.equal(
    formatTable('{{json .}}', rows, STATS_HEADERS),
    '{"BlockIO":"4.26MB / 1e+03kB","CPUPerc":"100.00%","Container":"web","ID":"0123456789ab","MemPerc":"15.62%","MemUsage":"10MiB / 64MiB","Name":"web","NetIO":"2kB / 648B","PIDs":"4"}\n',
  );
});

test('percentages round as Go: an exact half goes to the even digit', () => {
  assert.equal(goFixed(15.625, 2), '15.62');
  assert.equal(goFixed(15.635, 2), '15.63'); // 15.635 is not exact in binary: above the half
  assert.equal(goFixed(0.125, 2), '0.12');
  assert.equal(goFixed(0.375, 2), '0.38');
  assert.equal(goFixed(2.5, 0), '2');
  assert.equal(goFixed(0, 2), '0.00');
  assert.equal(goFixed(99.999, 2), '100.00');
});

test('the live frame homes the cursor, erases each line end and what is below', () => {
  assert.equal(liveFrame('A\nB\n'), '\x1b[HA\x1b[K\nB\x1b[K\n\x1b[K\n\x1b[J');
});
