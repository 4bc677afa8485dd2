/**
 * berthd's configuration file and shutdown: daemon.json log defaults reach new containers;
 * SIGHUP reloads what can change (live-restore here); without live-restore, SIGTERM stops the
 * containers (not as a manual stop: `always` ones come back at the next start); bad files
 * are refused at start.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BERTHD,
  type TestDaemon,
  canRunRoot,
  cleanupLeftovers,
  docker,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

describe('daemon configuration', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let conf: string;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bt-conf-'));
    conf = join(dir, 'daemon.json');
    await writeFile(
      conf,
      JSON.stringify({
        'log-opts': { 'max-size': '10k', 'max-file': '2' },
        'live-restore': true,
        'shutdown-timeout': 2,
      }),
    );
    d = await startDaemon({ args: ['--config-file', conf] });
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
    if (conf) await cleanupLeftovers(join(conf, '..'));
  });

  test('log-opts from daemon.json become the containers’ LogConfig and rotate their logs', async () => {
    const r = await docker(
      d,
      'run',
      '--name',
      'dflt',
      'busybox',
      'sh',
      '-c',
      'i=0; while [ $i -lt 1000 ]; do echo "line $i ................................"; i=$((i+1)); done',
    );
    assert.equal(r.code, 0, r.stderr);
    const cfg = (await docker(d, 'inspect', '-f', '{{json .HostConfig.LogConfig}}', 'dflt')).stdout.trim();
    assert.deepEqual(JSON.parse(cfg), { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '2' } });
    const own = await docker(d, 'create', '--name', 'own', '--log-opt', 'max-size=1m', 'busybox');
    assert.equal(own.code, 0, own.stderr);
    const ownCfg = JSON.parse(
      (await docker(d, 'inspect', '-f', '{{json .HostConfig.LogConfig}}', 'own')).stdout,
    );
    assert.deepEqual(ownCfg.Config, { 'max-size': '1m', 'max-file': '2' });
    const logs = (await docker(d, 'logs', 'dflt')).stdout.split('\n').filter(Boolean);
    assert.ok(logs.length < 1000 && logs.at(-1)?.startsWith('line 999 '), `${logs.length} lines kept`);
    for (const n of ['dflt', 'own']) assert.equal((await docker(d, 'rm', n)).code, 0);
  });

  test('SIGHUP reloads live-restore; then SIGTERM stops containers, and always ones come back at start', async () => {
    for (const [name, policy] of [
      ['keep', 'always'],
      ['plain', 'no'],
    ] as const) {
      const r = await docker(d, 'run', '-d', '--name', name, '--restart', policy, 'busybox', 'sleep', '1000');
      assert.equal(r.code, 0, r.stderr);
    }
    await writeFile(
      conf,
      JSON.stringify({
        'log-opts': { 'max-size': '10k', 'max-file': '2' },
        'live-restore': false,
        'shutdown-timeout': 2,
      }),
    );
    d.process.kill('SIGHUP');
    await sleep(300);
    const exited = new Promise((r) => d.process.once('exit', r));
    const t0 = Date.now();
    d.process.kill('SIGTERM');
    await exited;
    // busybox sleep ignores SIGTERM as pid 1: SIGKILL after the 2 s shutdown timeout.
    assert.ok(Date.now() - t0 < 8000, `shutdown took ${Date.now() - t0} ms`);
    await d.restart();
    const ps = await docker(d, 'ps', '-a', '--format', '{{.Names}} {{.State}}');
    assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['keep running', 'plain exited']);
    for (const n of ['keep', 'plain']) assert.equal((await docker(d, 'rm', '-f', n)).code, 0);
  });

  test('a bad configuration file stops berthd from starting with a clear message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bt-'));
    try {
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ 'data-root': join(dir, 'data'), 'no-such-option': true }));
      const r = await run(
        process.execPath,
        [BERTHD, '--config-file', bad, '-H', `unix://${join(dir, 's.sock')}`],
        { timeoutMs: 10_000 },
      );
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /don't match any configuration option: no-such-option/);
      const missing = await run(process.execPath, [BERTHD, '--config-file', join(dir, 'missing.json')], {
        timeoutMs: 10_000,
      });
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /unable to configure the daemon with file/);
    } finally {
      await cleanupLeftovers(dir);
    }
  });
});
