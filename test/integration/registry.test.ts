/**
 * Pull, push and login against a real distribution registry (Debian's docker-registry 2.8) on
 * 127.0.0.1, driven by the real docker CLI through berthd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';
import { hasDockerRegistry, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const skip = (!canRunRoot() && 'needs root') || (!hasDockerRegistry() && 'needs docker-registry');

describe('registry interop (docker-registry 2.8)', { skip }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let authReg: TestRegistry;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    reg = await startRegistry();
    authReg = await startRegistry({ user: 'alice', password: 's3cret' });
  });
  after(async () => {
    await reg?.stop();
    await authReg?.stop();
    await d?.stop();
  });

  test('docker push then pull through a registry gives back the same image', async () => {
    const ref = `${reg.address}/test/busybox:v1`;
    assert.equal((await docker(d, 'tag', 'busybox', ref)).code, 0);
    const push = await docker(d, 'push', ref);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /v1: digest: sha256:[0-9a-f]{64} size: \d+/);
    const id = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim();
    assert.equal((await docker(d, 'rmi', ref)).code, 0);
    const pull = await docker(d, 'pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Digest: sha256:[0-9a-f]{64}/);
    assert.equal((await docker(d, 'image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim(), id);
    const digests = await docker(d, 'image', 'inspect', '-f', '{{json .RepoDigests}}', ref);
    assert.match(digests.stdout, new RegExp(`${reg.address}/test/busybox@sha256:`));
  });

  test('a pulled image runs', async () => {
    const ref = `${reg.address}/test/busybox:v1`;
    await docker(d, 'rmi', '-f', ref);
    await docker(d, 'rmi', '-f', 'busybox');
    const pull = await docker(d, 'pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
    const r = await docker(d, 'run', '--rm', ref, 'echo', 'pulled');
    assert.equal(r.stdout.trim(), 'pulled', r.stderr);
    await docker(d, 'tag', ref, 'busybox');
  });

  test('pushing again reports the layers as already present', async () => {
    const ref = `${reg.address}/test/busybox:v1`;
    const push = await docker(d, 'push', ref);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /Layer already exists/);
  });

  test('pull of a missing tag is an error naming the manifest', async () => {
    const r = await docker(d, 'pull', `${reg.address}/test/busybox:nope`);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `manifest for ${reg.address}/test/busybox:nope not found: manifest unknown: manifest unknown`,
      ),
    );
  });

  test('pull says "up to date" only when the tag already named the image; a moved tag is "newer"', async () => {
    const ref = `${reg.address}/test/busybox:v1`;
    const same = await docker(d, 'pull', ref);
    assert.match(same.stdout, new RegExp(`Status: Image is up to date for ${ref}`));
    // The tag moves locally to another image that is present; pulling moves it back.
    const other = await docker(
      d,
      'commit',
      '--change',
      'LABEL moved=1',
      (await docker(d, 'create', ref)).stdout.trim(),
    );
    assert.equal(other.code, 0, other.stderr);
    assert.equal((await docker(d, 'tag', other.stdout.trim(), ref)).code, 0);
    const moved = await docker(d, 'pull', ref);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`Status: Downloaded newer image for ${ref}`));
    assert.doesNotMatch(moved.stdout, /Pull complete/, 'no layer had to be fetched');
  });

  test('a registry with htpasswd refuses anonymous pushes and accepts them after login', async () => {
    const ref = `${authReg.address}/secure/busybox:latest`;
    await docker(d, 'tag', 'busybox', ref);
    const anon = await docker(d, 'push', ref);
    assert.notEqual(anon.code, 0);
    assert.match(
      anon.stderr + anon.stdout,
      /unauthorized|no basic auth credentials|authentication required/i,
    );
    const bad = await docker(d, 'login', '-u', 'alice', '-p', 'wrong', authReg.address);
    assert.notEqual(bad.code, 0);
    const login = await docker(d, 'login', '-u', 'alice', '-p', 's3cret', authReg.address);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const push = await docker(d, 'push', ref);
    assert.equal(push.code, 0, push.stderr + push.stdout);
    await docker(d, 'rmi', ref);
    const pull = await docker(d, 'pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
  });
});
