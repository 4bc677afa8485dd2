/**
 * The remaining daemon.json keys, each on a berthd of its own with its own daemon.json:
 * experimental (/version, info, the Docker-Experimental header, the experimental checkpoint
 * routes, build --squash), log-format text, exec-opts, features, selinux-enabled, builder.gc
 * (step-cache records unused for longer than a rule's `unused-for` are collected after a build),
 * and metrics-addr (Prometheus text on loopback, with moby's metric names moving as containers,
 * events and health probes happen). Keys berth cannot honour here stop berthd with a precise
 * message.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { classicDocker, contextMaker } from '../helpers/build.ts';
import {
  BERTHD,
  type TestDaemon,
  canRunRoot,
  cleanupLeftovers,
  docker,
  isolationArgs,
  makeBusybox,
  run,
  startDaemon,
  waitFor,
} from '../helpers/daemon.ts';

/** GET over loopback: status, headers and body text. */
function httpGet(
  url: string,
  socketPath?: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      socketPath ? { socketPath, path: u.pathname } : { host: u.hostname, port: u.port, path: u.pathname },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in Prometheus text (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('daemon.json: experimental, log-format, metrics-addr, builder.gc and friends', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  let d: TestDaemon;
  let confDir: string;
  let conf: string;
  let metricsUrl: string;
  const ctxRoot = () => join(d.dir, 'ctx');
  const context = contextMaker(ctxRoot);

  before(async () => {
    confDir = await mkdtemp(join(tmpdir(), 'bt-dcm-'));
    conf = join(confDir, 'daemon.json');
    await writeFile(
      conf,
      JSON.stringify({
        experimental: true,
        'log-format': 'text',
        'exec-opts': ['native.cgroupdriver=cgroupfs'],
        features: { buildkit: false },
        'selinux-enabled': false,
        'metrics-addr': '127.0.0.1:0',
        builder: { gc: { enabled: true, policy: [{ filter: ['unused-for=5s'] }] } },
      }),
    );
    d = await startDaemon({ args: ['--config-file', conf] });
    const log = await readFile(join(d.dir, 'berthd.log'), 'utf8');
    const m = /metrics API listening on (127\.0\.0\.1:\d+)/.exec(log);
    assert.ok(m, log);
    metricsUrl = `http://${m[1]}/metrics`;
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
    if (confDir) await cleanupLeftovers(confDir);
  });

  test('experimental shows in docker version, docker info and every response’s header', async () => {
    const v = await docker(d, 'version', '--format', '{{.Server.Experimental}}');
    assert.equal(v.stdout.trim(), 'true', v.stderr);
    const plain = await docker(d, 'version');
    assert.match(plain.stdout, /Server:[\s\S]*Experimental: +true/);
    const info = await docker(d, 'info', '--format', '{{.ExperimentalBuild}} {{.CgroupDriver}}');
    assert.equal(info.stdout.trim(), 'true cgroupfs', info.stderr);
    const ping = await httpGet('http://x/_ping', d.socket);
    assert.equal(ping.headers['docker-experimental'], 'true');
    assert.equal(ping.headers['builder-version'], '1');
  });

  test('experimental routes exist; checkpoints and squash are refused as berth lacks them', async () => {
    const r = await d.api('POST', '/containers/x/checkpoints', { CheckpointID: 'c1' });
    assert.equal(r.status, 501);
    assert.match((r.body as { message: string }).message, /not supported by berth \(they need CRIU\)/);
    const ctx = await context({ Dockerfile: 'FROM busybox\n' });
    const squash = await classicDocker(d)('build', '--squash', ctx);
    assert.notEqual(squash.code, 0);
    assert.match(squash.stderr, /squash is not supported by berth/);
  });

  test('log-format text: berthd writes logrus text lines', async () => {
    const lines = (await readFile(join(d.dir, 'berthd.log'), 'utf8')).split('\n').filter(Boolean);
    assert.ok(lines.length > 3);
    for (const l of lines.slice(0, 20))
      assert.match(l, /^time="[^"]+" level=(debug|info|warning|error) msg=/);
  });

  test('metrics: moby’s series over loopback, moving with containers, events and health probes', async () => {
    const first = await httpGet(metricsUrl);
    assert.equal(first.status, 200);
    assert.match(String(first.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const count = (text: string, action: string) =>
      sample(text, `engine_daemon_container_actions_seconds_count{action="${action}"}`) ?? Number.NaN;
    // dockerd records a zero for each action at start, so every action has a series.
    for (const a of ['create', 'start', 'delete']) assert.ok(count(first.text, a) >= 1, a);
    assert.ok(first.text.includes('engine_daemon_engine_info{'), 'engine_info');
    assert.ok((sample(first.text, 'engine_daemon_engine_cpus_cpus') ?? 0) >= 1);

    const r = await docker(
      d,
      'run',
      '-d',
      '--name',
      'm1',
      '--health-cmd',
      'true',
      '--health-interval',
      '1s',
      'busybox',
      'sleep',
      '60',
    );
    assert.equal(r.code, 0, r.stderr);
    let text = '';
    await waitFor('a health probe counted', async () => {
      text = (await httpGet(metricsUrl)).text;
      return (sample(text, 'engine_daemon_health_checks_total') ?? 0) >= 1;
    });
    assert.equal(count(text, 'create'), count(first.text, 'create') + 1);
    assert.equal(count(text, 'start'), count(first.text, 'start') + 1);
    assert.equal(sample(text, 'engine_daemon_container_states_containers{state="running"}'), 1);
    assert.ok((sample(text, 'engine_daemon_events_total') ?? 0) >= 2, 'create and start events');
    assert.equal(sample(text, 'engine_daemon_health_checks_failed_total'), 0);
    assert.equal((await docker(d, 'rm', '-f', 'm1')).code, 0);
    const after = (await httpGet(metricsUrl)).text;
    assert.equal(count(after, 'delete'), count(first.text, 'delete') + 1);
    assert.equal(sample(after, 'engine_daemon_container_states_containers{state="running"}'), 0);
    assert.equal((await httpGet(metricsUrl.replace('/metrics', '/other'))).status, 404);
  });

  test('builder.gc: records unused for longer than the rule’s unused-for go after the next build', async () => {
    const dockerb = classicDocker(d);
    const a = await context({ Dockerfile: 'FROM busybox\nRUN echo a > /a\n' });
    const b = await context({ Dockerfile: 'FROM busybox\nRUN echo b > /b\n' });
    assert.equal((await dockerb('build', '-t', 'gc-a', a)).code, 0);
    const warm = await dockerb('build', '-t', 'gc-a', a);
    assert.match(warm.stdout, /Using cache/, 'a rebuild within the window hits the cache');
    await sleep(6000);
    assert.equal((await dockerb('build', '-t', 'gc-b', b)).code, 0);
    // GC runs when a build ends: A's record, unused for 6 s, is gone; A's RUN runs again.
    let records: unknown[] = [];
    await waitFor('the gc after the build', async () => {
      const df = (await d.api('GET', '/system/df?type=build-cache')).body as { BuildCache: unknown[] };
      records = df.BuildCache;
      return records.length <= 1;
    });
    const cold = await dockerb('build', '-t', 'gc-a', a);
    assert.equal(cold.code, 0, cold.stderr);
    assert.doesNotMatch(cold.stdout, /Using cache/, JSON.stringify(records));
  });

  test('SIGHUP reloads features as dockerd does; an invalid file is refused and the old settings stay', async () => {
    const base = JSON.parse(await readFile(conf, 'utf8'));
    const logText = () => readFile(join(d.dir, 'berthd.log'), 'utf8');
    await writeFile(conf, JSON.stringify({ ...base, features: { buildkit: true } }));
    d.process.kill('SIGHUP');
    await waitFor('the reload refused', async () =>
      (await logText()).includes('configuration reload failed'),
    );
    assert.match(await logText(), /classic builder only/);
    await writeFile(conf, JSON.stringify({ ...base, features: { buildkit: false, cdi: false } }));
    d.process.kill('SIGHUP');
    await waitFor('the reload applied', async () =>
      /msg="configuration reloaded".*features=/.test(await logText()),
    );
    const v = await docker(d, 'version', '--format', '{{.Server.Experimental}}');
    assert.equal(v.stdout.trim(), 'true');
  });
});

describe('keys berth cannot honour stop berthd with a precise message', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'cgroup-driver (no dockerd key)',
      { 'cgroup-driver': 'systemd' },
      /don't match any configuration option: cgroup-driver/,
    ],
    [
      'systemd cgroup driver',
      { 'exec-opts': ['native.cgroupdriver=systemd'] },
      /native.cgroupdriver=systemd/,
    ],
    ['isolation', { 'exec-opts': ['isolation=hyperv'] }, /option 'isolation' is only supported on windows/],
    ['overlay2.size off xfs', { 'storage-opts': ['overlay2.size=1G'] }, /overlay2.size/],
    ['buildkit', { features: { buildkit: true } }, /classic builder only/],
    ['builder entitlements', { builder: { entitlements: { 'network-host': true } } }, /configures BuildKit/],
    ['log-format', { 'log-format': 'xml' }, /invalid log format: xml/],
  ];
  for (const [what, config, message] of cases) {
    test(what, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'bt-'));
      try {
        const conf = join(dir, 'daemon.json');
        await writeFile(conf, JSON.stringify(config));
        const r = await run(
          process.execPath,
          [
            BERTHD,
            ...['--config-file', conf, '-H', `unix://${join(dir, 's.sock')}`],
            ...['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'run')],
            ...(await isolationArgs(dir)),
          ],
          { timeoutMs: 20_000 },
        );
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, message);
      } finally {
        await cleanupLeftovers(dir);
      }
    });
  }
});
