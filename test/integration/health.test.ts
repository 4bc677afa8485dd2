/**
 * Health checks through the docker CLI: --health-* flags, State.Health in inspect,
 * health_status events, ps showing (healthy)/(unhealthy), the health filter, --no-healthcheck.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type TestDaemon,
  canRunRoot,
  docker,
  makeBusybox,
  startDaemon,
  inspectFormat,
  waitFor,
} from '../helpers/daemon.ts';

const inspect = inspectFormat;

describe('health checks', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('a passing check turns healthy, a failing one unhealthy after --health-retries, with events', async () => {
    const events = spawn(
      'docker',
      [
        '-H',
        d.host,
        'events',
        '--filter',
        'event=health_status',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}}',
      ],
      {
        env: { ...process.env, DOCKER_CONFIG: join(d.dir, 'docker-config') },
      },
    );
    let seen = '';
    events.stdout.on('data', (c) => (seen += c));
    try {
      await sleep(200);
      const r = await docker(
        d,
        'run',
        '-d',
        '--name',
        'hc',
        '--health-cmd',
        'test -e /tmp/ok && echo fine || { echo broken; exit 1; }',
        '--health-interval',
        '200ms',
        '--health-retries',
        '2',
        'busybox',
        'sh',
        '-c',
        'touch /tmp/ok; sleep 1000',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await inspect(d, 'hc', '{{.State.Health.Status}}'), 'starting');
      assert.match(
        (await docker(d, 'ps', '--format', '{{.Status}}', '-f', 'name=hc')).stdout,
        /\(health: starting\)/,
      );
      await waitFor(
        'healthy',
        async () => (await inspect(d, 'hc', '{{.State.Health.Status}}')) === 'healthy',
      );
      assert.match(
        (await docker(d, 'ps', '--format', '{{.Status}}', '-f', 'name=hc')).stdout,
        /^Up .* \(healthy\)$/m,
      );
      const log = JSON.parse(await inspect(d, 'hc', '{{json .State.Health.Log}}')) as Array<{
        ExitCode: number;
        Output: string;
      }>;
      assert.equal(log.at(-1)?.ExitCode, 0);
      assert.equal(log.at(-1)?.Output, 'fine\n');

      assert.equal((await docker(d, 'exec', 'hc', 'rm', '/tmp/ok')).code, 0);
      await waitFor(
        'unhealthy',
        async () => (await inspect(d, 'hc', '{{.State.Health.Status}}')) === 'unhealthy',
      );
      const h = JSON.parse(await inspect(d, 'hc', '{{json .State.Health}}')) as {
        FailingStreak: number;
        Log: Array<{ ExitCode: number; Output: string }>;
      };
      assert.ok(h.FailingStreak >= 2);
      assert.ok(h.Log.length <= 5);
      assert.equal(h.Log.at(-1)?.Output, 'broken\n');
      assert.match(
        (await docker(d, 'ps', '--format', '{{.Names}} {{.Status}}', '-f', 'health=unhealthy')).stdout,
        /^hc Up .* \(unhealthy\)$/m,
      );
      await waitFor('events', async () => /health_status: unhealthy hc/.test(seen));
      assert.match(seen, /health_status: healthy hc\n/);
    } finally {
      events.kill();
    }
    assert.equal((await docker(d, 'rm', '-f', 'hc')).code, 0);
  });

  test('a probe that runs past --health-timeout fails with Docker’s message', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'slow',
      '--health-cmd',
      'sleep 5',
      '--health-interval',
      '100ms',
      '--health-timeout',
      '300ms',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '1000',
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor(
      'unhealthy',
      async () => (await inspect(d, 'slow', '{{.State.Health.Status}}')) === 'unhealthy',
    );
    const log = JSON.parse(await inspect(d, 'slow', '{{json .State.Health.Log}}')) as Array<{
      ExitCode: number;
      Output: string;
    }>;
    assert.equal(log[0]?.ExitCode, -1);
    assert.equal(log[0]?.Output, 'Health check exceeded timeout (0.3s)');
    assert.equal((await docker(d, 'rm', '-f', 'slow')).code, 0);
  });

  test('a healthy container is still healthy, and probed on, after berthd is killed and restarted', async () => {
    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'hc-restart',
      '--health-cmd',
      'true',
      '--health-interval',
      '300ms',
      '--health-start-period',
      '10s',
      'busybox',
      'sleep',
      '60',
    );
    assert.equal(r.code, 0, r.stderr);
    try {
      await waitFor(
        'healthy',
        async () => (await inspect(d, 'hc-restart', '{{.State.Health.Status}}')) === 'healthy',
      );
      const before = Number(await inspect(d, 'hc-restart', '{{len .State.Health.Log}}'));
      await d.kill();
      await d.restart();
      // The status survives (a fresh start would begin at "starting" for the 10 s start period).
      assert.equal(await inspect(d, 'hc-restart', '{{.State.Health.Status}}'), 'healthy');
      assert.ok(before >= 1);
      const health = async () =>
        JSON.parse((await docker(d, 'inspect', 'hc-restart')).stdout)[0].State.Health;
      const lastEnd = (await health()).Log.at(-1).End as string;
      await waitFor(
        'a new probe after the restart',
        async () => Date.parse((await health()).Log.at(-1).End) > Date.parse(lastEnd),
      );
    } finally {
      await docker(d, 'rm', '-f', 'hc-restart');
    }
  });

  test('--no-healthcheck and no healthcheck mean no State.Health; health=none filters them', async () => {
    const r = await docker(d, 'run', '-d', '--name', 'nohc', '--no-healthcheck', 'busybox', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await inspect(d, 'nohc', '{{json .State.Health}}'), 'null');
    assert.match((await docker(d, 'ps', '--format', '{{.Names}}', '-f', 'health=none')).stdout, /nohc/);
    const bad = await docker(d, 'ps', '-f', 'health=great');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Unrecognised filter value for health: great/);
    assert.equal((await docker(d, 'rm', '-f', 'nohc')).code, 0);
  });
});
