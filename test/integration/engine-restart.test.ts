/**
 * Containers belong to their shims: killing berthd leaves them running, and a new berthd
 * re-adopts them (state, logs written meanwhile, stop).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

describe('berthd restart', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('a container survives SIGKILL of berthd and is re-adopted', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'survivor',
      'busybox',
      'sh',
      '-c',
      'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done',
    );
    assert.equal(r.code, 0, r.stderr);
    const pid = (await docker(d, 'inspect', '-f', '{{.State.Pid}}', 'survivor')).stdout.trim();

    await d.kill();
    await sleep(700);
    // The process kept running while no berthd existed.
    process.kill(Number(pid), 0);

    await d.restart();
    const ps = await docker(d, 'ps', '--format', '{{.Names}} {{.State}}');
    assert.equal(ps.stdout, 'survivor running\n');
    const logs = await docker(d, 'logs', 'survivor');
    const ticks = logs.stdout.split('\n').filter(Boolean);
    assert.ok(ticks.length >= 4, `lines written while berthd was down are in the log (${ticks.length})`);

    const stop = await docker(d, 'stop', '-t', '1', 'survivor');
    assert.equal(stop.code, 0, stop.stderr);
    const state = await docker(d, 'inspect', '-f', '{{.State.Running}}', 'survivor');
    assert.equal(state.stdout, 'false\n');
    assert.throws(() => process.kill(Number(pid), 0));
  });

  test('a container that exits while berthd is down is reported exited after restart', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'shortlived',
      'busybox',
      'sh',
      '-c',
      'sleep 0.5; exit 7',
    );
    assert.equal(r.code, 0, r.stderr);
    await d.kill();
    await sleep(1000);
    await d.restart();
    const state = await docker(d, 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'shortlived');
    assert.equal(state.stdout, 'exited 7\n');
  });
});
