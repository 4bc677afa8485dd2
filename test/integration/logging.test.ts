/**
 * Log drivers and rotation: the shim rotates json-file logs at max-size keeping max-file files
 * (gzipped with compress) also while berthd is down; `logs` reads across the rotated files in
 * order; `none` keeps nothing; bad options are refused at create.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

async function inspect(d: TestDaemon, name: string, format: string): Promise<string> {
  return (await docker(d, 'inspect', '-f', format, name)).stdout.trim();
}

async function logFiles(logPath: string): Promise<Array<{ name: string; size: number }>> {
  const dir = dirname(logPath);
  const base = logPath.slice(dir.length + 1);
  const names = (await readdir(dir)).filter((n) => n.startsWith(base)).sort();
  return Promise.all(
    names.map(async (name) => ({ name: name.slice(base.length), size: (await stat(`${dir}/${name}`)).size })),
  );
}

/** A shell loop printing `line <i> <padding>` n times: each json-file entry is about 150 bytes. */
const writer = (n: number) =>
  `i=0; while [ $i -lt ${n} ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done`;

describe('logging', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('max-size=1m,max-file=3 keeps the logs under 3 MiB and logs returns the newest lines in order', async () => {
    // ~30,000 lines of ~150 bytes: about 4.5 MB of json-file entries.
    const r = await docker(
      d,
      'run',
      '--name',
      'rot',
      '--log-opt',
      'max-size=1m',
      '--log-opt',
      'max-file=3',
      'busybox',
      'sh',
      '-c',
      writer(30000),
    );
    assert.equal(r.code, 0, r.stderr);
    const logPath = await inspect(d, 'rot', '{{.LogPath}}');
    const files = await logFiles(logPath);
    assert.deepEqual(
      files.map((f) => f.name),
      ['', '.1', '.2'],
    );
    const total = files.reduce((a, f) => a + f.size, 0);
    assert.ok(total <= 3 * 1024 * 1024, `total ${total}`);
    for (const f of files) assert.ok(f.size <= 1024 * 1024 + 200, `${f.name} ${f.size}`);

    const logs = await docker(d, 'logs', 'rot');
    const lines = logs.stdout.split('\n').filter(Boolean);
    assert.equal(lines.at(-1)?.split(' ')[1], '29999');
    const nums = lines.map((l) => Number(l.split(' ')[1]));
    for (let i = 1; i < nums.length; i++)
      assert.equal(nums[i], (nums[i - 1] ?? 0) + 1, 'consecutive, in order');
    assert.ok(nums.length > 15000, `kept ${nums.length} lines`);
    const tail = await docker(d, 'logs', '--tail', '2', 'rot');
    assert.match(tail.stdout, /^line 29998 x+\nline 29999 x+\n$/);
    assert.equal((await docker(d, 'rm', 'rot')).code, 0);
  });

  test('compress gzips rotated files and logs still reads them; rotation goes on while berthd is down', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'gz',
      '--log-opt',
      'max-size=100k',
      '--log-opt',
      'max-file=4',
      '--log-opt',
      'compress=true',
      'busybox',
      'sh',
      '-c',
      `sleep 1; ${writer(3000)}; sleep 1000`,
    );
    assert.equal(r.code, 0, r.stderr);
    const logPath = await inspect(d, 'gz', '{{.LogPath}}');
    await d.kill();
    await sleep(2500);
    const files = await logFiles(logPath);
    assert.deepEqual(
      files.map((f) => f.name),
      ['', '.1.gz', '.2.gz', '.3.gz'],
    );
    await d.restart();
    const logs = await docker(d, 'logs', 'gz');
    const nums = logs.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split(' ')[1]));
    assert.equal(nums.at(-1), 2999);
    for (let i = 1; i < nums.length; i++) assert.equal(nums[i], (nums[i - 1] ?? 0) + 1);
    assert.equal((await docker(d, 'rm', '-f', 'gz')).code, 0);
  });

  test('logs -f follows across rotations (a follower more than max-file files behind would lose lines, as with Docker)', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'fol',
      '--log-opt',
      'max-size=20k',
      '--log-opt',
      'max-file=5',
      'busybox',
      'sh',
      '-c',
      `sleep 0.5; i=0; while [ $i -lt 1000 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); [ $((i % 50)) = 0 ] && sleep 0.05; done`,
    );
    assert.equal(r.code, 0, r.stderr);
    const logs = await docker(d, 'logs', '-f', 'fol');
    const nums = logs.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split(' ')[1]));
    assert.equal(nums.at(-1), 999);
    for (let i = 1; i < nums.length; i++) assert.equal(nums[i], (nums[i - 1] ?? 0) + 1);
    assert.equal((await docker(d, 'rm', '-f', 'fol')).code, 0);
  });

  test('none keeps no log; local rotates by default; unknown drivers and options are refused', async () => {
    const none = await docker(d, 'run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'hi');
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'hi\n');
    const logs = await docker(d, 'logs', 'nolog');
    assert.notEqual(logs.code, 0);
    assert.match(logs.stderr, /does not support reading/);
    const local = await docker(
      d,
      'run',
      '--name',
      'loc',
      '--log-driver',
      'local',
      'busybox',
      'echo',
      'local line',
    );
    assert.equal(local.code, 0, local.stderr);
    assert.equal((await docker(d, 'logs', 'loc')).stdout, 'local line\n');
    const bad = await docker(d, 'create', '--log-driver', 'syslog', 'busybox');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no log driver named 'syslog'/);
    const badOpt = await docker(d, 'create', '--log-opt', 'max-file=0', 'busybox');
    assert.match(badOpt.stderr, /max-file cannot be less than 1/);
    for (const n of ['nolog', 'loc']) assert.equal((await docker(d, 'rm', n)).code, 0);
  });
});
