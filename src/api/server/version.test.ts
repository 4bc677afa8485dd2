import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { commonHeaders, effectiveApiVersion, versionAtLeast } from './version.ts';

test('no version in the URL means the current version', () => {
  assert.equal(effectiveApiVersion(undefined), '1.41');
});

test('versions from the minimum to the current are served as asked', () => {
  assert.equal(effectiveApiVersion('1.24'), '1.24');
  assert.equal(effectiveApiVersion('1.40'), '1.40');
  assert.equal(effectiveApiVersion('1.41'), '1.41');
});

test('a version above the current is InvalidParameter with dockerd words', () => {
  assert.throws(
    () => effectiveApiVersion('1.99'),
    (err) =>
      isBerthError(err, 'InvalidParameter') &&
      err.message === 'client version 1.99 is too new. Maximum supported API version is 1.41',
  );
});

test('a version below the minimum is InvalidParameter with dockerd words', () => {
  assert.throws(
    () => effectiveApiVersion('1.10'),
    (err) =>
      isBerthError(err, 'InvalidParameter') &&
      err.message ===
        'client version 1.10 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
  );
});

test('versions compare numerically, not as strings', () => {
  assert.equal(versionAtLeast('1.9', '1.24'), false);
  assert.equal(versionAtLeast('1.42', '1.42'), true);
  assert.equal(versionAtLeast('1.100', '1.42'), true);
});

test('common headers use Go canonical casing', () => {
  assert.deepEqual(commonHeaders('0.1.0'), {
    'Api-Version': '1.41',
    'Docker-Experimental': 'false',
    Ostype: 'linux',
    Server: 'Docker/0.1.0 (linux)',
  });
  assert.equal(commonHeaders('0.1.0', true)['Docker-Experimental'], 'true');
});
