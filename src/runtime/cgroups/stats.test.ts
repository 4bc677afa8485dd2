import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseBlkioV1, parseIoStatV2, readSystemCpuUsage } from './stats.ts';

test('v1 blkio lines become entries and the Total line is skipped', () => {
  const text = '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal 12288\n';
  assert.deepEqual(parseBlkioV1(text), [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 0, op: 'Sync', value: 0 },
    { major: 8, minor: 0, op: 'Async', value: 12288 },
    { major: 8, minor: 0, op: 'Total', value: 12288 },
  ]);
});

test('v2 io.stat maps rbytes/wbytes and rios/wios to read/write entries', () => {
  const s = parseIoStatV2('8:16 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n');
  assert.deepEqual(s.ioServiceBytesRecursive, [
    { major: 8, minor: 16, op: 'read', value: 100 },
    { major: 8, minor: 16, op: 'write', value: 200 },
  ]);
  assert.deepEqual(s.ioServicedRecursive, [
    { major: 8, minor: 16, op: 'read', value: 3 },
    { major: 8, minor: 16, op: 'write', value: 4 },
  ]);
});

test('system CPU usage is the first seven /proc/stat cpu fields in nanoseconds', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stat-'));
  try {
    await writeFile(join(dir, 'stat'), 'cpu  10 1 5 100 2 0 2 7 0 0\ncpu0 10 1 5 100 2 0 2 7 0 0\n');
    assert.equal(await readSystemCpuUsage(join(dir, 'stat')), 120 * 1e7);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
