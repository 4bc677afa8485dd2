/**
 * Disconnecting a container from the network its NetworkMode names, as Docker does: NetworkMode
 * stays, the container is on no network, it can be connected again (docker-compose 1.29 does
 * disconnect + connect after create), and a container started without any network gets its
 * mode's network back.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { canRunRoot, docker, makeBusybox, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

const skip = !canRunRoot() && 'needs root';
let d: TestDaemon;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await makeBusybox(d);
  assert.equal((await docker(d, 'network', 'create', 'n1')).code, 0);
});

after(async () => {
  if (skip) return;
  await d?.stop();
});

async function inspect(name: string) {
  return JSON.parse((await docker(d, 'inspect', name)).stdout)[0];
}

test('a created container disconnected from its mode network keeps NetworkMode and reconnects', {
  skip,
}, async () => {
  assert.equal(
    (await docker(d, 'create', '--name', 'c1', '--network', 'n1', 'busybox', 'sleep', '300')).code,
    0,
  );
  const dis = await docker(d, 'network', 'disconnect', 'n1', 'c1');
  assert.equal(dis.code, 0, dis.stderr);
  let c = await inspect('c1');
  assert.equal(c.HostConfig.NetworkMode, 'n1');
  assert.deepEqual(c.NetworkSettings.Networks, {});
  const again = await docker(d, 'network', 'disconnect', 'n1', 'c1');
  assert.notEqual(again.code, 0);
  const con = await docker(d, 'network', 'connect', '--alias', 'svc', 'n1', 'c1');
  assert.equal(con.code, 0, con.stderr);
  assert.equal((await docker(d, 'start', 'c1')).code, 0);
  c = await inspect('c1');
  assert.equal(c.HostConfig.NetworkMode, 'n1');
  assert.match(c.NetworkSettings.Networks.n1.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  assert.ok(c.NetworkSettings.Networks.n1.Aliases.includes('svc'));
});

test('a container started with no network left gets its mode network back', { skip }, async () => {
  await docker(d, 'create', '--name', 'c2', '--network', 'n1', 'busybox', 'sleep', '300');
  await docker(d, 'network', 'disconnect', 'n1', 'c2');
  assert.equal((await docker(d, 'start', 'c2')).code, 0);
  const c = await inspect('c2');
  assert.match(c.NetworkSettings.Networks.n1?.IPAddress ?? '', /^\d+\.\d+\.\d+\.\d+$/);
});

test('a running container disconnected and reconnected gets its default route back', { skip }, async () => {
  assert.equal(
    (await docker(d, 'run', '-d', '--name', 'r1', '--network', 'n1', 'busybox', 'sleep', '300')).code,
    0,
  );
  assert.equal((await docker(d, 'network', 'disconnect', 'n1', 'r1')).code, 0);
  const off = await inspect('r1');
  assert.equal(off.HostConfig.NetworkMode, 'n1');
  assert.deepEqual(off.NetworkSettings.Networks, {});
  assert.equal((await docker(d, 'network', 'connect', 'n1', 'r1')).code, 0);
  const on = await inspect('r1');
  const gw = on.NetworkSettings.Networks.n1.Gateway;
  const route = await docker(d, 'exec', 'r1', 'ip', 'route');
  assert.match(route.stdout, new RegExp(`^default via ${gw.replace(/\./g, '\\.')} `, 'm'));
});
