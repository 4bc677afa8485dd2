import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSummary } from '../api/types/index.ts';
import { declaredImage, splitRef } from './images.ts';
import type { Project } from './model.ts';
import { dependenciesOf, oneOffService } from './one-off.ts';
import { isOrphan, orphanWarning } from './orphans.ts';

function project(): Project {
  return {
    name: 'p',
    workingDir: '/src',
    configFiles: ['/src/compose.yaml'],
    services: {
      web: {
        image: 'p-web',
        build: { context: '/src' },
        ports: [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }],
        environment: { A: 'file', B: 'file' },
        depends_on: { db: { condition: 'service_healthy', required: true } },
        restart: 'always',
        container_name: 'fixed',
        cap_add: ['NET_ADMIN'],
        networks: { default: null },
      },
      db: { image: 'busybox', depends_on: { cache: { condition: 'service_started', required: true } } },
      cache: { image: 'busybox:1.36' },
    },
    networks: { default: { name: 'p_default' } },
    volumes: {},
    secrets: {},
    configs: {},
    extensions: {},
    disabledServices: { debug: { image: 'busybox' } },
  };
}

test('a one-off drops ports, restart and container_name, and applies the run overrides', () => {
  const base = { service: 'web', tty: false, interactive: true, detach: false };
  const svc = oneOffService(project(), { ...base, env: ['B=cli', 'C', 'D'], user: 'nobody' }, { C: 'host' });
  assert.deepEqual(svc.ports, []);
  assert.equal(svc.restart, undefined);
  assert.equal(svc.container_name, undefined);
  assert.deepEqual(svc.environment, { A: 'file', B: 'cli', C: 'host' });
  assert.equal(svc.user, 'nobody');
  assert.equal(svc.stdin_open, true);
  const kept = oneOffService(project(), { ...base, servicePorts: true }, {});
  assert.equal(kept.ports?.length, 1);
  const pub = oneOffService(project(), { ...base, publish: ['127.0.0.1:9000:90/udp'] }, {});
  assert.deepEqual(pub.ports, [
    { mode: 'ingress', host_ip: '127.0.0.1', target: 90, published: '9000', protocol: 'udp' },
  ]);
  const ep = oneOffService(project(), { ...base, entrypoint: ['echo', 'x'], capDrop: ['NET_ADMIN'] }, {});
  assert.deepEqual(ep.entrypoint, ['echo', 'x']);
  assert.deepEqual(ep.command, [], 'an entrypoint without a command drops the command');
  assert.deepEqual(ep.cap_add, []);
  assert.throws(
    () => oneOffService(project(), { ...base, servicePorts: true, publish: ['1:1'] }, {}),
    /--service-ports and --publish are incompatible/,
  );
  assert.throws(() => oneOffService(project(), { ...base, service: 'nope' }, {}), /no such service: nope/);
});

test('dependencies are followed transitively', () => {
  assert.deepEqual(dependenciesOf(project(), 'web').sort(), ['cache', 'db']);
  assert.deepEqual(dependenciesOf(project(), 'cache'), []);
});

test('orphans: unknown services and exited one-offs, not profile-disabled services', () => {
  const c = (service: string, state = 'running', oneoff = 'False') =>
    ({
      Id: service,
      Names: [`/p-${service}-1`],
      State: state,
      Labels: { 'com.docker.compose.service': service, 'com.docker.compose.oneoff': oneoff },
    }) as unknown as ContainerSummary;
  const p = project();
  assert.equal(isOrphan(p, c('web')), false);
  assert.equal(isOrphan(p, c('debug')), false);
  assert.equal(isOrphan(p, c('old')), true);
  assert.equal(isOrphan(p, c('web', 'running', 'True')), false);
  assert.equal(isOrphan(p, c('web', 'exited', 'True')), true);
  assert.match(
    orphanWarning([c('old'), c('older')]),
    /Found orphan containers \(\[p-old-1 p-older-1\]\) for this project/,
  );
});

test('image references split as distribution/reference does; default build images are not declared', () => {
  assert.deepEqual(splitRef('busybox'), { name: 'busybox', tag: 'latest' });
  assert.deepEqual(splitRef('localhost:5000/a/b:1'), { name: 'localhost:5000/a/b', tag: '1' });
  assert.deepEqual(splitRef('localhost:5000/a'), { name: 'localhost:5000/a', tag: 'latest' });
  assert.deepEqual(splitRef('a@sha256:00'), { name: 'a', tag: 'sha256:00' });
  const p = project();
  assert.equal(declaredImage(p, 'web', p.services.web as never), undefined);
  assert.equal(declaredImage(p, 'db', p.services.db as never), 'busybox');
});
