/**
 * Debian's docker-compose 1.29 (Python, docker-py with API version negotiation) driving berthd:
 * the tutorial application (built web service on 5000, `.:/code`, peer by service name, a
 * service_healthy dependency) through up -d, ps, logs, exec, run --rm, --scale / scale, stop,
 * start and down -v; and `berth compose` seeing docker-compose's project.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { berth, canRunRoot, makeBusybox, run, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { freePort } from '../helpers/registry.ts';

const skip =
  (!canRunRoot() && 'needs root') ||
  (!existsSync('/usr/bin/docker-compose') && 'docker-compose (Debian) not installed');
let d: TestDaemon;
let dir: string;
let port: number;

/** 5000 as the tutorial says, or a free port if something on this machine holds 5000. */
async function tutorialPort(): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(5000, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return free ? 5000 : freePort();
}

const tutorial = (p: number) => `
services:
  web:
    build: .
    ports: ["127.0.0.1:${p}:5000"]
    volumes: [".:/code"]
    environment:
      REDIS_HOST: redis
      REDIS_PORT: "6379"
    depends_on:
      redis:
        condition: service_healthy
  redis:
    image: busybox
    command: ["sh", "-c", "mkdir -p /w && echo PONG > /w/ping && exec httpd -f -p 6379 -h /w"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
volumes:
  cache: {}
`;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await makeBusybox(d);
  dir = await mkdtemp(join(tmpdir(), 'bt-dc-'));
  port = await tutorialPort();
  await writeFile(join(dir, 'docker-compose.yml'), tutorial(port));
  await writeFile(
    join(dir, 'Dockerfile'),
    'FROM busybox\nWORKDIR /code\nCMD ["httpd", "-f", "-p", "5000", "-h", "/code"]\n',
  );
  await writeFile(join(dir, 'index.html'), 'hello from compose\n');
});

after(async () => {
  if (skip) return;
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

const dc = (...a: string[]) =>
  run('docker-compose', ['-f', join(dir, 'docker-compose.yml'), '-p', 'dc', ...a], {
    env: {
      DOCKER_HOST: d.host,
      DOCKER_CONFIG: join(d.dir, 'docker-config'),
    },
    timeoutMs: 120_000,
  });

async function names(): Promise<string[]> {
  const list = (await d.api('GET', '/containers/json?all=1')).body as { Names: string[] }[];
  return list.map((c) => (c.Names[0] ?? '').slice(1)).sort();
}

test('docker-compose 1.29 brings the tutorial app up, runs its commands, and down -v removes it', {
  skip,
}, async (t) => {
  t.after(() => dc('down', '-v', '-t', '1'));
  const upRes = await dc('up', '-d');
  assert.equal(upRes.code, 0, upRes.stderr + upRes.stdout);
  assert.deepEqual(await names(), ['dc_redis_1', 'dc_web_1']);

  const res = await fetch(`http://127.0.0.1:${port}/index.html`);
  assert.equal(await res.text(), 'hello from compose\n');

  // web started only once redis was healthy (service_healthy): the events come in order.
  const ev = await berth(
    d,
    'events',
    ...['--since', '0', '--until', String(Math.ceil(Date.now() / 1000))],
    ...['--filter', 'event=start', '--filter', 'event=health_status'],
    ...['--format', '{{.Action}} {{.Actor.Attributes.name}}'],
  );
  const order = ev.stdout.split('\n');
  const healthy = order.indexOf('health_status: healthy dc_redis_1');
  assert.ok(healthy >= 0 && healthy < order.indexOf('start dc_web_1'), ev.stdout);
  const [web] = JSON.parse((await berth(d, 'inspect', 'dc_web_1')).stdout);
  // The reconnect after create kept the network mode and the service alias.
  assert.equal(web.HostConfig.NetworkMode, 'dc_default');
  assert.ok(web.NetworkSettings.Networks.dc_default.Aliases.includes('web'));

  const ps = await dc('ps');
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /dc_redis_1 .*Up \(healthy\)/);
  assert.match(ps.stdout, new RegExp(`dc_web_1 .*Up .*127\\.0\\.0\\.1:${port}->5000/tcp`));

  const peer = await dc(
    'exec',
    '-T',
    'web',
    'sh',
    '-c',
    'printf "GET /ping HTTP/1.0\\r\\n\\r\\n" | nc $REDIS_HOST $REDIS_PORT',
  );
  assert.equal(peer.code, 0, peer.stderr);
  assert.match(peer.stdout, /\r\n\r\nPONG\n$/);

  // Recreating reads the old image's ContainerConfig, which API versions before 1.45 keep.
  const old = (await d.api('GET', '/v1.41/images/busybox/json')).body as Record<string, unknown>;
  assert.ok('ContainerConfig' in old && 'Container' in old);
  const recreate = await dc('up', '-d', '--force-recreate');
  assert.equal(recreate.code, 0, recreate.stderr);
  assert.match(recreate.stderr, /Recreating dc_web_1 .*done/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/index.html`)).status, 200);

  const logs = await dc('logs', '--no-color', 'redis');
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /Attaching to dc_redis_1/);

  const oneOff = await dc(
    'run',
    '--rm',
    '-T',
    'redis',
    'sh',
    '-c',
    'echo one-off; nslookup web >/dev/null && echo found',
  );
  assert.equal(oneOff.code, 0, oneOff.stderr);
  assert.equal(oneOff.stdout, 'one-off\nfound\n');
  assert.deepEqual(await names(), ['dc_redis_1', 'dc_web_1'], 'run --rm removed its container');

  const scaled = await dc('up', '-d', '--scale', 'redis=2');
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.deepEqual(await names(), ['dc_redis_1', 'dc_redis_2', 'dc_web_1']);
  const scale = await dc('scale', 'redis=3');
  assert.equal(scale.code, 0, scale.stderr);
  assert.deepEqual(await names(), ['dc_redis_1', 'dc_redis_2', 'dc_redis_3', 'dc_web_1']);
  const third = await dc('exec', '-T', '--index=3', 'redis', 'cat', '/w/ping');
  assert.equal(third.stdout, 'PONG\n', third.stderr);

  // berth compose sees docker-compose's project (same labels).
  const bps = await berth(d, 'compose', '-f', join(dir, 'docker-compose.yml'), '-p', 'dc', 'ps');
  assert.match(bps.stdout, /dc_web_1/);
  assert.match(bps.stdout, /dc_redis_3/);

  const stop = await dc('stop', '-t', '1');
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = (await d.api('GET', '/containers/json')).body as unknown[];
  assert.equal(stopped.length, 0);
  const start = await dc('start');
  assert.equal(start.code, 0, start.stderr);
  const running = (await d.api('GET', '/containers/json')).body as unknown[];
  assert.equal(running.length, 4);
  const again = await fetch(`http://127.0.0.1:${port}/index.html`);
  assert.equal(again.status, 200);

  const down = await dc('down', '-v', '-t', '1');
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual((await d.api('GET', '/containers/json?all=1')).body, []);
  const nets = (await d.api('GET', '/networks')).body as { Name: string }[];
  assert.ok(!nets.some((n) => n.Name.startsWith('dc_')));
  const vols = (await d.api('GET', '/volumes')).body as { Volumes: { Name: string }[] | null };
  assert.ok(!(vols.Volumes ?? []).some((v) => v.Name.startsWith('dc_')));
});
