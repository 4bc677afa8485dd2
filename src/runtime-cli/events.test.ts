import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeEvent, expandCpuList, oomKills, parseDuration, runcStats } from './events.ts';

test('parseDuration reads Go durations in milliseconds', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('5'), /time: invalid duration "5"/);
  assert.throws(() => parseDuration('5x'), /invalid duration/);
});

test('expandCpuList lists cpuset ranges as runc does', () => {
  assert.deepEqual(expandCpuList('0-2,4\n'), [0, 1, 2, 4]);
  assert.deepEqual(expandCpuList(''), []);
});

test('encodeEvent writes uint64 counters exactly, one JSON object a line', () => {
  assert.equal(
    encodeEvent({ type: 'stats', id: 'x', data: { limit: 9223372036854771712n, n: 1 } }),
    '{"type":"stats","id":"x","data":{"limit":9223372036854771712,"n":1}}\n',
  );
});

test('runcStats on a v1 tree: runc’s fields and omitempty rules; oomKills from memory.oom_control', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-events-'));
  try {
    const dir = (c: string) => {
      const d = join(root, c, 'c1');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'cgroup.procs'), '');
      return d;
    };
    const mem = dir('memory');
    const files: Record<string, string> = {
      'memory.limit_in_bytes': '9223372036854771712\n',
      'memory.usage_in_bytes': '4096\n',
      'memory.max_usage_in_bytes': '8192\n',
      'memory.failcnt': '0\n',
      'memory.stat': 'cache 0\nrss 4096\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    };
    for (const [f, v] of Object.entries(files)) writeFileSync(join(mem, f), v);
    const acct = dir('cpu,cpuacct');
    writeFileSync(join(acct, 'cpuacct.usage'), '100\n');
    writeFileSync(join(acct, 'cpuacct.usage_percpu'), '40 60 \n');
    writeFileSync(join(acct, 'cpuacct.stat'), 'user 1\nsystem 2\n');
    writeFileSync(join(acct, 'cpu.stat'), 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n');
    const pids = dir('pids');
    writeFileSync(join(pids, 'pids.current'), '1\n');
    writeFileSync(join(pids, 'pids.max'), 'max\n');
    const procs = ['memory', 'cpu,cpuacct', 'pids'].map((c) => join(root, c, 'c1', 'cgroup.procs'));
    const s = await runcStats(procs, 1);
    const text = encodeEvent({ type: 'stats', id: 'c1', data: s });
    assert.match(text, /"usage":\{"limit":9223372036854771712,"usage":4096,"max":8192,"failcnt":0\}/);
    assert.deepEqual(s.cpu, {
      usage: { total: 100n, percpu: [40n, 60n], kernel: 20_000_000n, user: 10_000_000n },
      throttling: {},
    });
    assert.deepEqual(s.pids, { current: 1n });
    assert.equal((s.memory as Record<string, unknown>).cache, undefined);
    assert.deepEqual((s.memory as Record<string, unknown>).kernelTCP, { limit: 0n, failcnt: 0n });
    assert.deepEqual(Object.keys(s), [
      'cpu',
      'cpuset',
      'memory',
      'pids',
      'blkio',
      'hugetlb',
      'intel_rdt',
      'network_interfaces',
    ]);
    assert.equal(await oomKills(procs, 1), 2n);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
