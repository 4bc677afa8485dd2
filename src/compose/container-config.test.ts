import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBody, endpointSettings } from './container-config.ts';
import { injectedFiles, secretAndConfigMounts } from './file-refs.ts';
import { loadProject } from './load.ts';
import { preflight } from './unsupported.ts';
import { formatDuration, parseDuration, ramInBytes } from './values.ts';

function project(yaml: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'compose-cc-'));
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  writeFileSync(join(dir, 'pw.txt'), 'pw');
  return { dir, p: loadProject({ cwd: dir, env, projectName: 'p' }) };
}

test('durations print as Go prints them and sizes are 1024-based', () => {
  assert.equal(formatDuration(parseDuration('90s')), '1m30s');
  assert.equal(formatDuration(parseDuration('1h')), '1h0m0s');
  assert.equal(formatDuration(parseDuration('1.5ms')), '1.5ms');
  assert.equal(formatDuration(parseDuration('2d')), '48h0m0s');
  assert.equal(formatDuration(0), '0s');
  assert.equal(ramInBytes('512m'), 512 * 1024 ** 2);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100kb'), 102400);
  assert.throws(() => parseDuration('10'), /invalid duration/);
});

test('logging, ulimits, extra_hosts, deploy resources and restart policy map to HostConfig', () => {
  const { p } = project(`
services:
  a:
    image: busybox
    logging: {driver: syslog, options: {tag: x}}
    ulimits: {nproc: 10, nofile: {soft: 1, hard: 2}}
    extra_hosts: ["h:1.2.3.4"]
    deploy:
      resources: {limits: {cpus: "0.5", memory: 64m, pids: 5}, reservations: {memory: 32m}}
      restart_policy: {condition: on-failure, max_attempts: 2}
    stop_grace_period: 1m30s
`);
  const b = createBody(p, 'a', 1, 'h');
  const hc = b.HostConfig as Record<string, unknown>;
  assert.deepEqual(hc.LogConfig, { Type: 'syslog', Config: { tag: 'x' } });
  assert.deepEqual(hc.Ulimits, [
    { Name: 'nproc', Soft: 10, Hard: 10 },
    { Name: 'nofile', Soft: 1, Hard: 2 },
  ]);
  assert.deepEqual(hc.ExtraHosts, ['h:1.2.3.4']);
  assert.equal(hc.NanoCpus, 5e8);
  assert.equal(hc.Memory, 64 * 1024 ** 2);
  assert.equal(hc.PidsLimit, 5);
  assert.equal(hc.MemoryReservation, 32 * 1024 ** 2);
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.equal(b.StopTimeout, 90);
  assert.equal(b.Image, 'busybox');
});

test('network aliases are the container name, the service and its aliases, as Compose sets them', () => {
  const { p } = project(
    'services:\n  a:\n    build: .\n    networks:\n      n: {aliases: [x], ipv4_address: 10.1.0.5}\nnetworks:\n  n: {}\n',
  );
  assert.deepEqual(endpointSettings(p, 'a', 2, 'n'), {
    Aliases: ['p-a-2', 'a', 'x'],
    IPAMConfig: { IPv4Address: '10.1.0.5' },
  });
  assert.equal(createBody(p, 'a', 1, 'h').Image, 'p-a', 'a build-only service runs <project>-<service>');
});

test('secrets and configs: files are read-only binds, environment and content are injected', () => {
  const { dir, p } = project(
    `
services:
  a:
    image: busybox
    secrets: [s, {source: e, target: e.txt, mode: 0400}]
    configs: [c, {source: i, target: /etc/i}]
secrets:
  s: {file: ./pw.txt}
  e: {environment: E}
configs:
  c: {file: ./pw.txt}
  i: {content: hello}
`,
    { E: 'from-env' },
  );
  assert.deepEqual(secretAndConfigMounts(p, 'a'), [
    { Type: 'bind', Source: join(dir, 'pw.txt'), Target: '/c', ReadOnly: true },
    { Type: 'bind', Source: join(dir, 'pw.txt'), Target: '/run/secrets/s', ReadOnly: true },
  ]);
  assert.deepEqual(
    injectedFiles(p, 'a').map((f) => [f.target, f.content, f.mode.toString(8)]),
    [
      ['/run/secrets/e.txt', 'from-env', '400'],
      ['/etc/i', 'hello', '444'],
    ],
  );
});

test('what berth cannot honour is refused before up creates anything', () => {
  const refuse = (yaml: string, re: RegExp) => assert.throws(() => preflight(project(yaml).p), re);
  refuse('services:\n  a:\n    image: busybox\n    gpus: all\n', /GPU device requests/);
  refuse(
    'services:\n  a:\n    image: busybox\n    deploy: {mode: global}\n',
    /deploy.mode global needs swarm/,
  );
  refuse(
    'services:\n  a:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s: {external: true}\n',
    /unsupported external secret/,
  );
  refuse(
    'services:\n  a:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s: {environment: NOPE}\n',
    /"NOPE" required by secret/,
  );
  refuse('services:\n  a:\n    image: busybox\n    post_start: [{command: ["true"]}]\n', /lifecycle hooks/);
  refuse(
    'services:\n  a:\n    image: busybox\n    volumes: [{type: npipe, source: x, target: /x}]\n',
    /type "npipe" are not supported/,
  );
  assert.throws(
    () => project('services:\n  a:\n    image: busybox\n    container_name: xy\n    scale: 2\n'),
    /can't set container_name and scale/,
  );
});
