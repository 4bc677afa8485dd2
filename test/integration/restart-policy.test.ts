/**
 * Restart policies through the docker CLI: always / on-failure[:N] / unless-stopped, the
 * back-off, RestartCount, manual stops, and what a berthd restart brings back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFile, rm } from 'node:fs/promises';
import {
  type TestDaemon,
  canRunRoot,
  docker,
  makeBusybox,
  run,
  startDaemon,
  inspectFormat,
  waitFor,
} from '../helpers/daemon.ts';

const inspect = inspectFormat;

describe('restart policies', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('an always container killed from outside comes back with a new pid and RestartCount 1', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'alw',
      '--restart',
      'always',
      'busybox',
      'sleep',
      '1000',
    );
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(await inspect(d, 'alw', '{{.State.Pid}}'));
    process.kill(pid, 'SIGKILL');
    await waitFor('the restart', async () => (await inspect(d, 'alw', '{{.RestartCount}}')) === '1');
    await waitFor('running again', async () => (await inspect(d, 'alw', '{{.State.Running}}')) === 'true');
    const newPid = Number(await inspect(d, 'alw', '{{.State.Pid}}'));
    assert.notEqual(newPid, pid);
    assert.equal(await inspect(d, 'alw', '{{.HostConfig.RestartPolicy.Name}}'), 'always');

    // docker stop is a manual stop: no restart.
    assert.equal((await docker(d, 'stop', '-t', '1', 'alw')).code, 0);
    await sleep(400);
    assert.equal(await inspect(d, 'alw', '{{.State.Status}}'), 'exited');
    // A manual start resets RestartCount.
    assert.equal((await docker(d, 'start', 'alw')).code, 0);
    assert.equal(await inspect(d, 'alw', '{{.RestartCount}}'), '0');
    assert.equal((await docker(d, 'rm', '-f', 'alw')).code, 0);
  });

  test('on-failure:3 restarts a failing container three times with a doubling back-off, then leaves it exited', async () => {
    const t0 = Date.now();
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'onf',
      '--restart',
      'on-failure:3',
      'busybox',
      'sh',
      '-c',
      'exit 3',
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor(
      'three restarts and a final exit',
      async () => (await inspect(d, 'onf', '{{.State.Status}} {{.RestartCount}}')) === 'exited 3',
    );
    // 100 + 200 + 400 ms of back-off at least.
    assert.ok(Date.now() - t0 >= 700, `back-off took ${Date.now() - t0} ms`);
    await sleep(1000);
    assert.equal(
      await inspect(d, 'onf', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}'),
      'exited 3 3',
    );
    // A successful exit is not restarted.
    const ok = await docker(d, 'run', '-d', '--name', 'onf0', '--restart', 'on-failure', 'busybox', 'true');
    assert.equal(ok.code, 0, ok.stderr);
    await waitFor('exit', async () => (await inspect(d, 'onf0', '{{.State.Status}}')) === 'exited');
    await sleep(300);
    assert.equal(await inspect(d, 'onf0', '{{.RestartCount}}'), '0');
  });

  test('a container waiting out its back-off shows as restarting and can be stopped', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'flap',
      '--restart',
      'always',
      'busybox',
      'sh',
      '-c',
      'exit 1',
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor('restarting', async () => (await inspect(d, 'flap', '{{.State.Status}}')) === 'restarting');
    const ps = await docker(d, 'ps', '--filter', 'name=flap', '--format', '{{.Status}}');
    assert.match(ps.stdout, /^Restarting \(1\)/);
    assert.equal((await docker(d, 'stop', 'flap')).code, 0);
    await waitFor('stopped', async () => (await inspect(d, 'flap', '{{.State.Status}}')) === 'exited');
    const count = await inspect(d, 'flap', '{{.RestartCount}}');
    await sleep(500);
    assert.equal(await inspect(d, 'flap', '{{.State.Status}} {{.RestartCount}}'), `exited ${count}`);
    const rm = await docker(d, 'rm', 'flap');
    assert.equal(rm.code, 0, rm.stderr);
  });

  test('berthd start brings back always containers and leaves stopped unless-stopped ones', async () => {
    const policies: Array<[string, string]> = [
      ['bb-always', 'always'],
      ['bb-unless', 'unless-stopped'],
      ['bb-unless-running', 'unless-stopped'],
      ['bb-no', 'no'],
    ];
    for (const [name, policy] of policies) {
      const r = await docker(d, 'run', '-d', '--name', name, '--restart', policy, 'busybox', 'sleep', '1000');
      assert.equal(r.code, 0, r.stderr);
    }
    for (const name of ['bb-always', 'bb-unless', 'bb-no']) {
      assert.equal((await docker(d, 'stop', '-t', '1', name)).code, 0);
    }
    // A host reboot: berthd and every shim die.
    const pids = await Promise.all(
      ['bb-always', 'bb-unless-running'].map(async (n) => Number(await inspect(d, n, '{{.State.Pid}}'))),
    );
    await d.kill();
    await d.restart();
    const states = await docker(d, 'ps', '-a', '--filter', 'name=bb-', '--format', '{{.Names}} {{.State}}');
    const lines = states.stdout.trim().split('\n').sort();
    assert.deepEqual(lines, [
      'bb-always running',
      'bb-no exited',
      'bb-unless exited',
      'bb-unless-running running',
    ]);
    assert.ok(pids.length === 2);
    for (const n of ['bb-always', 'bb-unless-running', 'bb-unless', 'bb-no']) {
      assert.equal((await docker(d, 'rm', '-f', n)).code, 0);
    }
  });

  test('a running always container whose process died while berthd was down is restarted on start', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'down',
      '--restart',
      'always',
      'busybox',
      'sleep',
      '1000',
    );
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(await inspect(d, 'down', '{{.State.Pid}}'));
    await d.kill();
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    await d.restart();
    await waitFor('running again', async () => (await inspect(d, 'down', '{{.State.Running}}')) === 'true');
    assert.notEqual(Number(await inspect(d, 'down', '{{.State.Pid}}')), pid);
    assert.equal(await inspect(d, 'down', '{{.RestartCount}}'), '1');
    assert.equal((await docker(d, 'rm', '-f', 'down')).code, 0);
  });

  test('after a simulated host reboot (shims, processes, mounts and exec root gone) always containers come back', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'reboot',
      '--restart',
      'always',
      'busybox',
      'sleep',
      '1000',
    );
    assert.equal(r.code, 0, r.stderr);
    const nr = await docker(d, 'run', '-d', '--name', 'reboot-no', 'busybox', 'sleep', '1000');
    assert.equal(nr.code, 0, nr.stderr);
    const pids = await Promise.all(
      ['reboot', 'reboot-no'].map(async (n) => Number(await inspect(d, n, '{{.State.Pid}}'))),
    );
    await d.kill();
    const shims = (await run('pgrep', ['-f', `berth-shim run --plan ${d.execRoot}`])).stdout
      .split('\n')
      .filter(Boolean);
    for (const pid of [...shims.map(Number), ...pids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await sleep(300);
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && m.startsWith(d.dir));
    for (const m of mounts) await run('umount', ['-l', m]);
    await rm(d.execRoot, { recursive: true, force: true });
    await d.restart();
    await waitFor('running again', async () => (await inspect(d, 'reboot', '{{.State.Running}}')) === 'true');
    assert.equal(await inspect(d, 'reboot-no', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 255');
    for (const n of ['reboot', 'reboot-no']) assert.equal((await docker(d, 'rm', '-f', n)).code, 0);
  });

  test('update --restart changes the policy of an existing container', async () => {
    const r = await docker(d, 'run', '-d', '--name', 'upd', 'busybox', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
    const u = await docker(d, 'update', '--restart', 'on-failure:2', 'upd');
    assert.equal(u.code, 0, u.stderr);
    assert.equal(
      await inspect(
        d,
        'upd',
        '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}',
      ),
      'on-failure:2',
    );
    const pid = Number(await inspect(d, 'upd', '{{.State.Pid}}'));
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the restart',
      async () => (await inspect(d, 'upd', '{{.RestartCount}} {{.State.Running}}')) === '1 true',
    );
    assert.equal((await docker(d, 'rm', '-f', 'upd')).code, 0);
  });
});
