/**
 * `berth compose up` and `create` with Docker Compose v2's creation flags (--no-start,
 * --no-recreate, --always-recreate-deps, -V, --pull, --no-build, --wait-timeout, -t, attached
 * --no-attach / --timestamps / --abort-on-container-failure), anonymous volumes kept across a
 * recreate, and the lifecycle verbs start / stop / restart / kill / pause / unpause / rm.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BERTH,
  berth,
  canRunRoot,
  inspectContainer,
  makeBusybox,
  run,
  startDaemon,
  type TestDaemon,
  waitFor,
} from '../helpers/daemon.ts';

const skip = !canRunRoot() && 'needs root';
let d: TestDaemon;
let dir: string;

const svc = (cmd: string, extra = '') =>
  `    image: busybox\n    command: ["sh", "-c", "${cmd}"]\n    stop_grace_period: 1s\n${extra}`;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await makeBusybox(d);
  dir = await mkdtemp(join(tmpdir(), 'bt-cl-'));
});

after(async () => {
  if (skip) return;
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Writes `yaml` as project `name`'s file; returns a runner of `berth compose` for it. */
async function project(name: string, yaml: string) {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, yaml);
  return (...a: string[]) => berth(d, 'compose', '-f', file, '-p', name, ...a);
}

async function state(name: string): Promise<{ Status: string; Running: boolean }> {
  return (await inspectContainer(d, name)).State;
}

async function id(name: string): Promise<string> {
  return (await inspectContainer(d, name)).Id;
}

describe('compose up and create flags', { skip }, () => {
  test('--no-start and create make containers without starting them; up starts them', async () => {
    const c = await project('ns', `services:\n  a:\n${svc('sleep 300')}`);
    const created = await c('up', '--no-start');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /Container ns-a-1 {2}Created/);
    assert.equal((await state('ns-a-1')).Status, 'created');
    assert.equal((await c('create')).code, 0);
    assert.equal((await state('ns-a-1')).Status, 'created');
    assert.equal((await c('up', '-d')).code, 0);
    assert.equal((await state('ns-a-1')).Running, true);
    assert.equal((await c('down')).code, 0);
  });

  test('--no-recreate keeps a changed service; --force-recreate recreates only the named service unless --always-recreate-deps', async () => {
    const yaml = (v: string) =>
      `services:\n  web:\n${svc('sleep 300', `    environment: {V: "${v}"}\n    depends_on: [db]\n`)}  db:\n${svc('sleep 300')}`;
    let c = await project('rc', yaml('1'));
    assert.equal((await c('up', '-d')).code, 0);
    const web1 = await id('rc-web-1');
    const db1 = await id('rc-db-1');
    c = await project('rc', yaml('2'));
    const kept = await c('up', '-d', '--no-recreate');
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(await id('rc-web-1'), web1, 'a changed service is kept with --no-recreate');
    const forced = await c('up', '-d', '--force-recreate', 'web');
    assert.equal(forced.code, 0, forced.stderr);
    const web2 = await id('rc-web-1');
    assert.notEqual(web2, web1);
    assert.equal(await id('rc-db-1'), db1, 'a dependency is not forced without --always-recreate-deps');
    assert.equal((await c('up', '-d', '--force-recreate', '--always-recreate-deps', 'web')).code, 0);
    assert.notEqual(await id('rc-db-1'), db1);
    assert.notEqual(await id('rc-web-1'), web2);
    for (const [flags, msg] of [
      [['--no-recreate', '--force-recreate'], '--force-recreate and --no-recreate are incompatible'],
      [
        ['--no-recreate', '--always-recreate-deps'],
        '--always-recreate-deps and --no-recreate are incompatible',
      ],
      [['--no-recreate', '-V'], '--no-recreate and --renew-anon-volumes are incompatible'],
      [['--build', '--no-build'], '--build and --no-build are incompatible'],
      [['--pull', 'sometimes'], 'invalid --pull option "sometimes"'],
      [['--scale', 'web'], 'invalid --scale option "web". Should be SERVICE=NUM'],
      [
        ['--abort-on-container-exit', '--abort-on-container-failure'],
        '--abort-on-container-failure cannot be combined with --abort-on-container-exit',
      ],
    ] as const) {
      const r = await c('up', '-d', ...flags);
      assert.notEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, new RegExp(msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    assert.equal((await c('down')).code, 0);
  });

  test('a recreated container keeps its anonymous volumes; -V gives it new ones', async () => {
    const yaml = (v: string) =>
      `services:\n  a:\n${svc('sleep 300', `    volumes: ["/data"]\n    environment: {V: "${v}"}\n`)}`;
    let c = await project('av', yaml('1'));
    assert.equal((await c('up', '-d')).code, 0);
    assert.equal((await berth(d, 'exec', 'av-a-1', 'sh', '-c', 'echo kept > /data/f')).code, 0);
    const volumeOf = async () =>
      ((await inspectContainer(d, 'av-a-1')).Mounts as { Name: string; Destination: string }[]).find(
        (m) => m.Destination === '/data',
      )?.Name;
    const first = await volumeOf();
    c = await project('av', yaml('2'));
    assert.equal((await c('up', '-d')).code, 0);
    assert.equal(await volumeOf(), first);
    const read = await berth(d, 'exec', 'av-a-1', 'cat', '/data/f');
    assert.equal(read.stdout, 'kept\n');
    assert.equal((await c('up', '-d', '--force-recreate', '-V')).code, 0);
    const renewed = await volumeOf();
    assert.notEqual(renewed, first);
    assert.notEqual((await berth(d, 'exec', 'av-a-1', 'cat', '/data/f')).code, 0);
    // rm -v removes the anonymous volume with the container.
    assert.equal((await c('stop')).code, 0);
    const removed = await c('rm', '-f', '-v');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Going to remove av-a-1/);
    assert.equal((await berth(d, 'volume', 'inspect', renewed as string)).code, 1);
    assert.equal((await berth(d, 'volume', 'rm', first as string)).code, 0, 'the replaced volume stayed');
  });

  test('a named volume whose config changed is kept unless the prompt (or -y) agrees to recreate it', async () => {
    const yaml = (v: string) =>
      `services:\n  a:\n${svc('sleep 300', '    volumes: ["data:/data"]\n')}volumes:\n  data:\n    labels: {v: "${v}"}\n`;
    let c = await project('vc', yaml('1'));
    assert.equal((await c('up', '-d')).code, 0);
    assert.equal((await berth(d, 'exec', 'vc-a-1', 'sh', '-c', 'echo kept > /data/f')).code, 0);
    c = await project('vc', yaml('2'));
    const asked = await c('up', '-d');
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(
      asked.stdout,
      /\? Volume "vc_data" exists but doesn't match configuration in compose file\. Recreate \(data will be lost\)\? \(y\/N\)/,
    );
    assert.equal((await berth(d, 'exec', 'vc-a-1', 'cat', '/data/f')).stdout, 'kept\n', 'no answer keeps it');
    const yes = await c('up', '-d', '-y');
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stderr, /Volume "vc_data" {2}Removed/);
    assert.notEqual((await berth(d, 'exec', 'vc-a-1', 'cat', '/data/f')).code, 0, 'a new, empty volume');
    const label = await berth(d, 'volume', 'inspect', '-f', '{{index .Labels "v"}}', 'vc_data');
    assert.equal(label.stdout.trim(), '2');
    assert.equal((await c('down', '-v', '-t', '1')).code, 0);
  });

  test('--pull never and --no-build refuse a missing image; --wait-timeout ends a wait for health', async () => {
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\n');
    const c = await project(
      'pw',
      `services:\n  gone:\n    image: nothere:1\n  built:\n    image: 127.0.0.1:1/nothere:2\n    build: ${dir}\n  slow:\n${svc('sleep 300', '    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 100}\n')}`,
    );
    const never = await c('up', '-d', '--pull', 'never', 'gone');
    assert.notEqual(never.code, 0);
    assert.match(never.stderr, /image nothere:1 not found and pull_policy of service gone is "never"/);
    const noBuild = await c('up', '-d', '--no-build', '--quiet-pull', 'built');
    assert.notEqual(noBuild.code, 0, 'not built, so a pull is tried and fails');
    assert.doesNotMatch(noBuild.stderr, /Building|Pulling/);
    assert.equal((await berth(d, 'image', 'inspect', '127.0.0.1:1/nothere:2')).code, 1);
    const waited = await c('up', '-d', '--wait', '--wait-timeout', '2', 'slow');
    assert.notEqual(waited.code, 0);
    assert.match(waited.stderr, /application not healthy after 2s/);
    const down = await c('down', '-t', '1');
    assert.equal(down.code, 0, down.stderr);
  });

  test('attached: --no-attach skips a service, --timestamps prefixes lines, --abort-on-container-failure stops on a failure', async () => {
    const c = await project(
      'at',
      `services:\n  ok:\n${svc('echo fine; sleep 300')}  quiet:\n${svc('echo hidden; sleep 300')}  bad:\n${svc('sleep 1; echo failing; exit 3')}`,
    );
    const r = await c(
      'up',
      '--no-attach',
      'quiet',
      '--timestamps',
      '--abort-on-container-failure',
      '-t',
      '1',
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /ok-1 +\| \d{4}-\d\d-\d\dT[\d:.]+Z fine/);
    assert.match(r.stdout, /bad-1 +\| \S+Z failing/);
    assert.doesNotMatch(r.stdout, /hidden/);
    assert.match(r.stdout, /bad-1 exited with code 3/);
    assert.equal((await state('at-ok-1')).Running, false, 'the failure stopped the others');
    assert.equal((await c('down')).code, 0);
  });
});

describe('compose lifecycle verbs', { skip }, () => {
  test('stop -t, start, restart, kill -s, pause/unpause and rm ask, stop and report as Compose does', async () => {
    const c = await project(
      'lv',
      `services:\n  web:\n${svc('trap \\"echo got-hup\\" HUP; while sleep 1; do :; done', '    depends_on: [db]\n')}  db:\n${svc('sleep 300')}`,
    );
    assert.equal((await c('up', '-d')).code, 0);
    const stop = await c('stop', '-t', '1', 'web');
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stderr, /Container lv-web-1 {2}Stopped/);
    assert.equal((await state('lv-db-1')).Running, true, 'stop names only the service given');
    const start = await c('start');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stderr, /Container lv-web-1 {2}Started/);
    assert.equal((await state('lv-web-1')).Running, true);
    const before = (await inspectContainer(d, 'lv-db-1')).State.StartedAt;
    const restart = await c('restart', '-t', '1', '--no-deps', 'web');
    assert.equal(restart.code, 0, restart.stderr);
    assert.equal((await inspectContainer(d, 'lv-db-1')).State.StartedAt, before, '--no-deps left db alone');
    const hup = await c('kill', '-s', 'HUP', 'web');
    assert.equal(hup.code, 0, hup.stderr);
    assert.match(hup.stderr, /Container lv-web-1 {2}Killed/);
    assert.equal((await state('lv-web-1')).Running, true, 'HUP is trapped');
    assert.equal((await c('pause', 'db')).code, 0);
    assert.equal((await state('lv-db-1')).Status, 'paused');
    assert.equal((await c('unpause', 'db')).code, 0);
    assert.equal((await state('lv-db-1')).Status, 'running');
    assert.equal((await c('kill')).code, 0);
    await waitFor('the killed containers to exit', async () => !(await state('lv-web-1')).Running);
    const none = await c('kill');
    assert.match(none.stderr, /no container to kill/);
    // rm without -f asks; no answer keeps the containers, "y" removes them.
    const asked = await c('rm');
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(asked.stdout, /Going to remove (lv-web-1, lv-db-1|lv-db-1, lv-web-1) \(y\/N\)/);
    assert.equal((await state('lv-web-1')).Status, 'exited');
    const file = join(dir, 'lv.yaml');
    const yes = await run(
      process.execPath,
      [BERTH, '-H', d.host, 'compose', '-f', file, '-p', 'lv', 'rm', 'web'],
      {
        input: 'y\n',
      },
    );
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stderr, /Container lv-web-1 {2}Removed/);
    assert.equal((await berth(d, 'inspect', 'lv-web-1')).code, 1);
    assert.equal((await c('up', '-d')).code, 0);
    const stopped = await c('rm', '-s', '-f');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /Container lv-db-1 {2}Removed/);
    assert.match((await c('rm', '-f')).stderr, /No stopped containers/);
    assert.equal((await c('stop', 'nosuch')).code, 1);
    assert.equal((await c('down')).code, 0);
  });

  test('logs --tail, -t and --since select and stamp lines as docker logs does', async () => {
    const c = await project('lg', `services:\n  a:\n${svc('echo one; echo two; sleep 300')}`);
    assert.equal((await c('up', '-d')).code, 0);
    await waitFor('both lines', async () => /two/.test((await c('logs')).stdout));
    const tail = await c('logs', '--tail', '1', '-t', '--no-log-prefix');
    assert.equal(tail.code, 0, tail.stderr);
    assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z two\n$/);
    const later = await c('logs', '--since', '2099-01-01T00:00:00Z');
    assert.equal(later.stdout, '');
    const all = await c('logs', '--since', '1h');
    assert.match(all.stdout, /a-1 +\| one\n[\s\S]*a-1 +\| two/);
    assert.equal((await c('down', '-t', '1')).code, 0);
  });
});
