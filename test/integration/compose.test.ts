/**
 * `berth compose` against a real berthd: the classic tutorial application (a web service built
 * from a Dockerfile, published on 5000, bind-mounting the project, finding its peer by service
 * name), service_healthy ordering, scale, recreate-on-change, and `down -v` removing everything.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { berth, canRunRoot, makeBusybox, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { freePort } from '../helpers/registry.ts';

const skip = !canRunRoot() && 'needs root';
let d: TestDaemon;
let dir: string;

const TUTORIAL = `
services:
  web:
    build: .
    ports: ["127.0.0.1:\${WEB_PORT:-5000}:5000"]
    volumes: [".:/code"]
    environment:
      REDIS_HOST: redis
      REDIS_PORT: "\${REDIS_PORT:-6379}"
    depends_on:
      redis:
        condition: service_healthy
  redis:
    image: busybox
    command: ["sh", "-c", "mkdir /w && echo PONG > /w/ping && exec httpd -f -p 6379 -h /w"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 200ms
volumes:
  cache: {}
`;

let port = 5000;

before(async () => {
  if (skip) return;
  // 5000 as the tutorial says, or a free port when something on this machine holds 5000.
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(5000, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  if (!free) {
    port = await freePort();
    process.env.WEB_PORT = String(port);
  }
  d = await startDaemon();
  await makeBusybox(d);
  dir = await mkdtemp(join(tmpdir(), 'bt-compose-'));
  await writeFile(join(dir, 'compose.yaml'), TUTORIAL);
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

const compose = (...args: string[]) =>
  berth(d, 'compose', '-f', join(dir, 'compose.yaml'), '-p', 'tut', ...args);

test('the tutorial app comes up, answers on 5000, reaches redis by name, and down -v removes it', {
  skip,
}, async (t) => {
  t.after(() => compose('down', '-v'));
  const upRes = await compose('up', '-d');
  assert.equal(upRes.code, 0, upRes.stderr);
  assert.match(upRes.stderr, /Container tut-redis-1 {2}Healthy/);
  const res = await fetch(`http://127.0.0.1:${port}/index.html`);
  assert.equal(await res.text(), 'hello from compose\n');
  const ps = await compose('ps');
  assert.match(ps.stdout, /tut-web-1 .*web/);
  assert.match(ps.stdout, /tut-redis-1 .*redis/);
  const peer = await berth(
    d,
    'exec',
    'tut-web-1',
    'sh',
    '-c',
    'printf "GET /ping HTTP/1.0\\r\\n\\r\\n" | nc $REDIS_HOST $REDIS_PORT',
  );
  assert.match(peer.stdout, /\r\n\r\nPONG\n$/, peer.stderr);
  const inspect = JSON.parse((await berth(d, 'inspect', 'tut-web-1')).stdout)[0];
  assert.equal(inspect.Config.Labels['com.docker.compose.project'], 'tut');
  assert.equal(inspect.Config.Labels['com.docker.compose.service'], 'web');
  assert.equal(inspect.Config.Labels['com.docker.compose.container-number'], '1');
  assert.ok(inspect.NetworkSettings.Networks.tut_default);

  const again = await compose('up', '-d');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /tut-web-1 {2}Running/);

  const down = await compose('down', '-v');
  assert.equal(down.code, 0, down.stderr);
  const left = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(left.body, []);
  const nets = (await d.api('GET', '/networks')).body as { Name: string }[];
  assert.ok(!nets.some((n) => n.Name.startsWith('tut_')));
  const vols = (await d.api('GET', '/volumes')).body as { Volumes: { Name: string }[] };
  assert.ok(!(vols.Volumes ?? []).some((v) => v.Name.startsWith('tut_')));
});

test('scale 3 gives three replicas behind one DNS name; changing one service recreates only it', {
  skip,
}, async (t) => {
  const file = join(dir, 'scale.yaml');
  const write = (label: string) =>
    writeFile(
      file,
      `services:\n  app:\n    image: busybox\n    command: ["sleep", "300"]\n    labels: {v: "${label}"}\n  other:\n    image: busybox\n    command: ["sleep", "300"]\n`,
    );
  await write('1');
  const c = (...a: string[]) => berth(d, 'compose', '-f', file, '-p', 'sc', ...a);
  t.after(() => c('down'));
  const upRes = await c('up', '-d', '--scale', 'app=3');
  assert.equal(upRes.code, 0, upRes.stderr);
  const ps = await c('ps', '-q');
  assert.equal(ps.stdout.trim().split('\n').length, 4);
  const lookup = await berth(d, 'exec', 'sc-other-1', 'nslookup', 'app');
  const addrs = lookup.stdout.match(/^Address: \d+\.\d+\.\d+\.\d+$/gm) ?? [];
  assert.equal(addrs.length, 3, lookup.stdout);

  const idsBefore = JSON.parse((await berth(d, 'inspect', 'sc-other-1', 'sc-app-1')).stdout).map(
    (x: { Id: string }) => x.Id,
  );
  await write('2');
  const re = await c('up', '-d', '--scale', 'app=3');
  assert.equal(re.code, 0, re.stderr);
  const idsAfter = JSON.parse((await berth(d, 'inspect', 'sc-other-1', 'sc-app-1')).stdout).map(
    (x: { Id: string }) => x.Id,
  );
  assert.equal(idsAfter[0], idsBefore[0], 'unchanged service kept its container');
  assert.notEqual(idsAfter[1], idsBefore[1], 'changed service was recreated');
  assert.equal((await c('down')).code, 0);
});

test('a bad file fails before anything is created', { skip }, async () => {
  const file = join(dir, 'bad.yaml');
  await writeFile(file, 'services:\n  a:\n    image: busybox\n    depends_on: [nope]\n');
  const r = await berth(d, 'compose', '-f', file, 'up', '-d');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /depends on undefined service "nope"/);
  await writeFile(file, 'services:\n  a:\n    image: busybox\n    ports: {x: 1}\n');
  const s = await berth(d, 'compose', '-f', file, 'config');
  assert.match(s.stderr, /services\.a\.ports must be a array/);
  const left = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(left.body, []);
});
