/**
 * berthd --registry-mirror and --insecure-registry against berth's registry server: Docker Hub
 * names are pulled from the mirror, and a registry on a non-loopback address is reached over
 * plain HTTP only when it is listed as insecure (here by a CIDR).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';
import { startBerthRegistry, type TestRegistry } from '../helpers/registry.ts';

describe('registry mirrors and insecure registries', { skip: !canRunRoot() && 'needs root' }, () => {
  let plain: TestDaemon;
  let configured: TestDaemon;
  let mirror: TestRegistry;
  let lan: TestRegistry;
  const id = async (d: TestDaemon, ref: string) =>
    (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim();

  before(async () => {
    plain = await startDaemon();
    await makeBusybox(plain);
    mirror = await startBerthRegistry();
    // A registry on the address of plain's bridge: local, but not loopback.
    const gw = (
      await docker(plain, 'network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}')
    ).stdout.trim();
    lan = await startBerthRegistry({ host: gw });
    const push = await docker(plain, 'tag', 'busybox', `${mirror.address}/library/busybox:latest`);
    assert.equal(push.code, 0, push.stderr);
    const pushed = await docker(plain, 'push', `${mirror.address}/library/busybox:latest`);
    assert.equal(pushed.code, 0, pushed.stderr);
    configured = await startDaemon({
      args: ['--registry-mirror', `http://${mirror.address}`, '--insecure-registry', '10.0.0.0/8'],
    });
  });
  after(async () => {
    await configured?.stop();
    await plain?.stop();
    await mirror?.stop();
    await lan?.stop();
  });

  test('a Docker Hub name is pulled from the mirror; info lists the mirror and the insecure CIDR', async () => {
    const pull = await docker(configured, 'pull', 'busybox');
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: Downloaded newer image for busybox:latest/);
    assert.equal(await id(configured, 'busybox'), await id(plain, 'busybox'));
    const info = JSON.parse(
      (await docker(configured, 'info', '--format', '{{json .RegistryConfig}}')).stdout,
    );
    assert.deepEqual(info.Mirrors, [`http://${mirror.address}/`]);
    assert.deepEqual(info.InsecureRegistryCIDRs, ['127.0.0.0/8', '10.0.0.0/8']);
    assert.deepEqual(info.IndexConfigs['docker.io'].Mirrors, [`http://${mirror.address}/`]);
  });

  test('a registry inside an --insecure-registry CIDR is used over HTTP; without the flag it is refused', async () => {
    const ref = `${lan.address}/tools/busybox:1`;
    assert.equal((await docker(configured, 'tag', 'busybox', ref)).code, 0);
    const push = await docker(configured, 'push', ref);
    assert.equal(push.code, 0, push.stderr);
    const refused = await docker(plain, 'pull', ref);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unreachable|https|tls|ssl/i);
    assert.equal((await docker(configured, 'rmi', ref)).code, 0);
    const pull = await docker(configured, 'pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
  });
});
