/**
 * `berth compose` exec, run, top, port, images, pull, push and orphan handling against a real
 * berthd, with Docker Compose v2's flags, exit statuses and output formats.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berth, canRunRoot, makeBusybox, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { startBerthRegistry, type TestRegistry } from '../helpers/registry.ts';

const skip = !canRunRoot() && 'needs root';
let d: TestDaemon;
let dir: string;

const APP = `
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /w && echo hi > /w/index.html && exec httpd -f -p 80 -h /w"]
    ports: ["127.0.0.1::80"]
    environment: {FROM_FILE: "yes"}
    depends_on: [db]
    stop_grace_period: 1s
  db:
    image: busybox
    command: ["sleep", "300"]
    stop_grace_period: 1s
`;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await makeBusybox(d);
  dir = await mkdtemp(join(tmpdir(), 'bt-cc-'));
  await writeFile(join(dir, 'compose.yaml'), APP);
});

after(async () => {
  if (skip) return;
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

const cc = (...a: string[]) => berth(d, 'compose', '-f', join(dir, 'compose.yaml'), '-p', 'cc', ...a);

async function inspect(name: string) {
  const r = await berth(d, 'inspect', name);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

async function names(filter = 'label=com.docker.compose.project=cc'): Promise<string[]> {
  const r = await berth(d, 'ps', '-a', '--filter', filter, '--format', '{{.Names}}');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('compose commands on a running project', { skip }, () => {
  before(async () => {
    if (skip) return;
    const r = await cc('up', '-d', '--scale', 'web=2');
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    if (skip) return;
    await cc('down', '--remove-orphans');
  });

  test('exec runs in the service container with -e, -w, -u, -d, --index and returns its status', async () => {
    const r = await cc('exec', 'web', 'sh', '-c', 'echo $FROM_FILE; exit 3');
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'yes\n');
    const flags = await cc(
      'exec',
      '-T',
      '-e',
      'A=1',
      '-w',
      '/tmp',
      '-u',
      'nobody',
      'web',
      'sh',
      '-c',
      'echo $A $(pwd) $(id -u)',
    );
    assert.equal(flags.stdout, '1 /tmp 65534\n', flags.stderr);
    const second = await cc('exec', '--index', '2', 'web', 'hostname');
    assert.equal(second.stdout.trim(), (await inspect('cc-web-2')).Id.slice(0, 12));
    const det = await cc('exec', '-d', 'web', 'touch', '/tmp/detached');
    assert.equal(det.code, 0, det.stderr);
    let seen = '';
    for (let i = 0; i < 50 && !seen; i++) seen = (await cc('exec', 'web', 'ls', '/tmp/detached')).stdout;
    assert.equal(seen, '/tmp/detached\n');
    const none = await cc('exec', '--index', '3', 'web', 'true');
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /service "web" is not running container #3/);
  });

  test('top lists every container process under SERVICE and # columns, CMD last', async () => {
    const r = await cc('top');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^SERVICE {2}# {3}UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
    assert.match(r.stdout, /^db +1 +root +\d+ .*sleep 300$/m);
    assert.match(r.stdout, /^web +2 +root +\d+ .*httpd -f -p 80 -h \/w$/m);
    assert.equal(lines.length, 4);
    const only = await cc('top', 'db');
    assert.equal(only.stdout.trimEnd().split('\n').length, 2);
  });

  test('ps prints Compose v2 columns, --services and filters by service', async () => {
    const ps = await cc('ps');
    assert.equal(ps.code, 0, ps.stderr);
    const lines = ps.stdout.split('\n');
    assert.match(lines[0] ?? '', /^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS$/);
    assert.match(ps.stdout, /^cc-db-1 +busybox +"sleep 300" +db +.* ago +Up .*$/m);
    assert.match(
      ps.stdout,
      /^cc-web-2 +busybox +"sh -c mkdir -p \/w &…" +web +.* ago +Up .* 127\.0\.0\.1:\d+->80\/tcp$/m,
    );
    assert.equal((await cc('ps', '--services')).stdout, 'db\nweb\n');
    assert.equal((await cc('ps', '-q', 'db')).stdout.trim().split('\n').length, 1);
  });

  test('port prints ip:port for a replica and protocol, and fails for an unpublished one', async () => {
    const first = await cc('port', 'web', '80');
    assert.equal(first.code, 0, first.stderr);
    const host = (await inspect('cc-web-1')).NetworkSettings.Ports['80/tcp'][0];
    assert.equal(first.stdout, `127.0.0.1:${host.HostPort}\n`);
    const second = await cc('port', '--index', '2', 'web', '80');
    const host2 = (await inspect('cc-web-2')).NetworkSettings.Ports['80/tcp'][0];
    assert.equal(second.stdout, `127.0.0.1:${host2.HostPort}\n`);
    const res = await fetch(`http://${first.stdout.trim()}/index.html`);
    assert.equal(await res.text(), 'hi\n');
    const missing = await cc('port', 'web', '81');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no port 81\/tcp for container cc-web-1: 80\/tcp/);
    const udp = await cc('port', '--protocol', 'udp', 'web', '80');
    assert.match(udp.stderr, /no port 80\/udp for container cc-web-1/);
  });

  test('images shows each container image; -q prints the unique ids', async () => {
    const r = await cc('images');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      /^CONTAINER {11}REPOSITORY {10}TAG {17}PLATFORM {12}IMAGE ID {12}SIZE {16}CREATED$/,
    );
    assert.match(r.stdout, /^cc-db-1 +busybox +latest +linux\/\w+ +[0-9a-f]{12} +\S+ +.* ago$/m);
    assert.equal(lines.length, 4);
    const q = await cc('images', '-q');
    assert.match(q.stdout, /^[0-9a-f]{64}\n$/);
    const json = JSON.parse((await cc('images', '--format', 'json', 'db')).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].ContainerName, 'cc-db-1');
    assert.equal(json[0].Repository, 'busybox');
  });

  test('run creates a labelled one-off (no ports, aliases or restart) and returns its status', async () => {
    const r = await cc(
      'run',
      '--rm',
      '-e',
      'X=1',
      'web',
      'sh',
      '-c',
      'echo $FROM_FILE $X; nslookup db >/dev/null && echo dns; exit 5',
    );
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, 'yes 1\ndns\n');
    assert.deepEqual(await names('label=com.docker.compose.oneoff=True'), [], '--rm removed it');

    const ep = await cc('run', '--rm', '-T', '--entrypoint', 'echo from entrypoint', 'web');
    assert.equal(ep.stdout, 'from entrypoint\n', ep.stderr);

    const det = await cc('run', '-d', '--name', 'one1', '-l', 'k=v', 'web', 'sleep', '30');
    assert.equal(det.code, 0, det.stderr);
    const one = await inspect('one1');
    assert.equal(det.stdout, `${one.Id}\n`);
    assert.equal(one.State.Running, true);
    assert.equal(one.Config.Labels['com.docker.compose.oneoff'], 'True');
    assert.equal(one.Config.Labels['com.docker.compose.service'], 'web');
    assert.equal(one.Config.Labels.k, 'v');
    assert.match(one.Config.Labels['com.docker.compose.slug'], /^[0-9a-f]{64}$/);
    assert.equal(one.Config.Labels['com.docker.compose.container-number'], undefined);
    assert.deepEqual(one.HostConfig.PortBindings ?? {}, {});
    assert.equal(one.HostConfig.RestartPolicy.Name, 'no');
    assert.ok(!(one.NetworkSettings.Networks.cc_default.Aliases ?? []).includes('web'));

    const named = await cc('run', '-d', 'web', 'sleep', '30');
    const auto = await inspect(named.stdout.trim());
    assert.match(auto.Name, /^\/cc-web-run-[0-9a-f]{12}$/);

    const sp = await cc('run', '-d', '--name', 'one2', '--service-ports', 'web', 'sleep', '30');
    assert.equal(sp.code, 0, sp.stderr);
    assert.deepEqual(Object.keys((await inspect('one2')).HostConfig.PortBindings), ['80/tcp']);
    const pub = await cc('run', '-d', '--name', 'one3', '-p', '127.0.0.1::81', 'db', 'sleep', '30');
    assert.equal(pub.code, 0, pub.stderr);
    assert.deepEqual(Object.keys((await inspect('one3')).HostConfig.PortBindings), ['81/tcp']);
    // ps lists services' containers only; one-offs are not orphans while they run.
    const ps = await cc('ps', '-q');
    assert.equal(ps.stdout.trim().split('\n').length, 3);
    const all = await cc('ps', '-a', '-q');
    assert.equal(all.stdout.trim().split('\n').length, 7, 'with -a the one-offs too');
  });

  test('run starts the dependencies unless --no-deps', async () => {
    assert.equal((await cc('stop', 'db')).code, 0);
    const noDeps = await cc('run', '--rm', '--no-deps', 'web', 'true');
    assert.equal(noDeps.code, 0, noDeps.stderr);
    assert.equal((await inspect('cc-db-1')).State.Running, false);
    const withDeps = await cc('run', '--rm', 'web', 'true');
    assert.equal(withDeps.code, 0, withDeps.stderr);
    assert.equal((await inspect('cc-db-1')).State.Running, true);
  });
});

describe('orphans', { skip }, () => {
  test('up warns about orphans and keeps them; down leaves them; --remove-orphans removes them', async () => {
    const two = join(dir, 'two.yaml');
    const one = join(dir, 'one.yaml');
    const svc = (n: string) =>
      `  ${n}:\n    image: busybox\n    command: ["sleep", "300"]\n    stop_grace_period: 1s\n`;
    await writeFile(two, `services:\n${svc('a')}${svc('old')}`);
    await writeFile(one, `services:\n${svc('a')}`);
    const c = (f: string, ...a: string[]) => berth(d, 'compose', '-f', f, '-p', 'orph', ...a);
    assert.equal((await c(two, 'up', '-d')).code, 0);
    const up = await c(one, 'up', '-d');
    assert.equal(up.code, 0, up.stderr);
    assert.match(
      up.stderr,
      /Found orphan containers \(\[orph-old-1\]\) for this project\. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up\./,
    );
    assert.deepEqual(await names('label=com.docker.compose.project=orph'), ['orph-a-1', 'orph-old-1']);
    const oneOff = await c(one, 'run', '--rm', 'a', 'true');
    assert.equal(oneOff.code, 0, oneOff.stderr);
    assert.match(oneOff.stderr, /Found orphan containers \(\[orph-old-1\]\)/);
    const down = await c(one, 'down');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await names('label=com.docker.compose.project=orph'), ['orph-old-1']);
    assert.match(down.stderr, /Network orph_default {2}Resource is still in use/);
    const clean = await c(one, 'down', '--remove-orphans');
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(await names('label=com.docker.compose.project=orph'), []);
    const nets = (await d.api('GET', '/networks')).body as { Name: string }[];
    assert.ok(!nets.some((n) => n.Name === 'orph_default'));

    assert.equal((await c(two, 'up', '-d')).code, 0);
    const removing = await c(one, 'up', '-d', '--remove-orphans');
    assert.equal(removing.code, 0, removing.stderr);
    assert.doesNotMatch(removing.stderr, /Found orphan/);
    assert.deepEqual(await names('label=com.docker.compose.project=orph'), ['orph-a-1']);
    assert.equal((await c(one, 'down')).code, 0);
  });
});

describe('pull and push', { skip }, () => {
  let reg: TestRegistry;
  before(async () => {
    if (skip) return;
    reg = await startBerthRegistry();
  });
  after(async () => {
    if (skip) return;
    await reg?.stop();
  });

  test('push pushes built images and skips the others; pull brings them back; failures fail unless ignored', async () => {
    const pdir = join(dir, 'pp');
    await mkdir(join(pdir, 'app'), { recursive: true });
    await writeFile(join(pdir, 'app', 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\n');
    await writeFile(
      join(pdir, 'compose.yaml'),
      `services:\n  app:\n    build: ./app\n    image: ${reg.address}/ci/app:1\n  plain:\n    image: busybox\n    pull_policy: never\n  missing:\n    image: ${reg.address}/ci/missing:1\n    profiles: [broken]\n`,
    );
    const c = (...a: string[]) => berth(d, 'compose', '-f', join(pdir, 'compose.yaml'), '-p', 'pp', ...a);
    assert.equal((await c('build', 'app')).code, 0);
    const pushed = await c('push');
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stderr, new RegExp(`${reg.address}/ci/app:1 Pushed`));
    assert.match(pushed.stderr, / plain Skipped/);
    const manifest = await fetch(`http://${reg.address}/v2/ci/app/manifests/1`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(manifest.status, 200);

    assert.equal((await berth(d, 'rmi', `${reg.address}/ci/app:1`)).code, 0);
    const pulled = await c('pull', 'app');
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stderr, new RegExp(`Image ${reg.address}/ci/app:1 Pulled`));
    assert.equal((await berth(d, 'image', 'inspect', `${reg.address}/ci/app:1`)).code, 0);
    const quiet = await c('pull', '-q', 'app');
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');

    const failing = await c('--profile', 'broken', 'pull', 'missing');
    assert.notEqual(failing.code, 0);
    const ignored = await c('--profile', 'broken', 'pull', '--ignore-pull-failures', 'missing');
    assert.equal(ignored.code, 0, ignored.stderr);
  });
});
