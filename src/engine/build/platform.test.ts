import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPlatform, hostPlatform, parsePlatformSpec } from './platform.ts';

test('platform specs normalise as containerd does', () => {
  assert.deepEqual(parsePlatformSpec('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatformSpec('Linux/aarch64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatformSpec('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatformSpec('linux'), hostPlatform());
  assert.deepEqual(parsePlatformSpec('aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.throws(
    () => parsePlatformSpec(''),
    /^BerthError: failed to parse platform : "" is an invalid OS component of "": OSAndVersion specifier component must match/,
  );
  assert.throws(
    () => parsePlatformSpec('linux/amd64/v1/x'),
    /cannot parse platform specifier: invalid argument/,
  );
  assert.throws(
    () => parsePlatformSpec('bogus'),
    /"bogus": unknown operating system or architecture: invalid argument/,
  );
  assert.throws(() => parsePlatformSpec('linux/*'), /wildcards not yet supported/);
});

test('only the host platform is accepted', () => {
  const host = hostPlatform();
  checkPlatform(`${host.os}/${host.architecture}`);
  checkPlatform(host.os);
  const other = host.architecture === 'amd64' ? 'linux/arm64' : 'linux/amd64';
  assert.throws(
    () => checkPlatform(other),
    new RegExp(`building for platform ${other} is not supported: berth builds for the host platform`),
  );
  assert.throws(() => checkPlatform('windows/amd64'), /not supported/);
});
