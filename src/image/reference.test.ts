import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../common/index.ts';
import {
  familiarName,
  familiarString,
  isNamedReference,
  parseAnyReference,
  parseDockerRef,
  parseNormalizedNamed,
  referenceString,
  tagNameOnly,
} from './reference.ts';

// Cases taken from distribution/reference normalize_test.go and reference_test.go.
const hex = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';

describe('parseNormalizedNamed', () => {
  const valid = [
    'docker/docker',
    'library/debian',
    'debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'Docker/docker',
    'DOCKER/docker',
    'docker-rules/docker',
    'docker---rules/docker',
    'doc/docker',
    'd/docker',
    'jess/t',
    'dock__er/docker',
    'busybox:latest',
    'busybox:Latest_1.0-rc',
    `busybox@sha256:${hex}`,
    `busybox:1@sha256:${hex}`,
    'localhost/a',
    'localhost:5000/a/b:tag',
  ];
  for (const name of valid) {
    test(`${name} is a valid reference`, () => {
      parseNormalizedNamed(name);
    });
  }

  const invalid = [
    'https://github.com/docker/docker',
    'docker/Docker',
    '-docker',
    '-docker/docker',
    '-docker.io/docker/docker',
    'docker///docker',
    'docker.io/docker/Docker',
    'docker.io/docker///docker',
    '[fc00::1]',
    '[fc00::1]:5000',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'docker-/docker',
    '-docker-/docker',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock-.er/docker',
    'docker/',
    '',
    'busybox:',
    'busybox:-tag',
    `busybox:${'a'.repeat(129)}`,
    'busybox@sha256:abc',
    `busybox@md5:${hex}`,
    `${'a/'.repeat(128)}a`,
  ];
  for (const name of invalid) {
    test(`${JSON.stringify(name)} is an invalid reference (InvalidParameter)`, () => {
      assert.throws(
        () => parseNormalizedNamed(name),
        (err) => isBerthError(err, 'InvalidParameter'),
      );
    });
  }

  test('an uppercase repository name is rejected with Docker wording', () => {
    assert.throws(() => parseNormalizedNamed('Busybox'), {
      message: 'invalid reference format: repository name (library/Busybox) must be lowercase',
    });
  });

  test('a 64-hex name is rejected with Docker wording', () => {
    assert.throws(() => parseNormalizedNamed(hex), {
      message: `invalid repository name (${hex}), cannot specify 64-byte hexadecimal strings`,
    });
  });
});

describe('familiar and full forms', () => {
  // [input, full (String()), familiar, domain, path]
  const table: Array<[string, string, string]> = [
    ['fooo/bar', 'docker.io/fooo/bar', 'fooo/bar'],
    ['index.docker.io/fooo/bar', 'docker.io/fooo/bar', 'fooo/bar'],
    ['ubuntu', 'docker.io/library/ubuntu', 'ubuntu'],
    ['library/ubuntu', 'docker.io/library/ubuntu', 'ubuntu'],
    ['docker.io/library/ubuntu', 'docker.io/library/ubuntu', 'ubuntu'],
    ['nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu', 'nonlibrary/ubuntu'],
    ['other/library', 'docker.io/other/library', 'other/library'],
    ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase'],
    ['127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase'],
    ['example.com/private/moonbase', 'example.com/private/moonbase', 'example.com/private/moonbase'],
    ['example.com:8000/privatebasee', 'example.com:8000/privatebasee', 'example.com:8000/privatebasee'],
    ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'ubuntu-12.04-base'],
    ['docker.io/foo', 'docker.io/library/foo', 'foo'],
    ['library/foo/bar', 'docker.io/library/foo/bar', 'library/foo/bar'],
    ['store/foo/bar', 'docker.io/store/foo/bar', 'store/foo/bar'],
    ['Foo/bar', 'Foo/bar', 'Foo/bar'],
    ['FOO/bar', 'FOO/bar', 'FOO/bar'],
    ['test_com/foo', 'docker.io/test_com/foo', 'test_com/foo'],
    ['test-com:8080/foo', 'test-com:8080/foo', 'test-com:8080/foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    ['localhost/a', 'localhost/a', 'localhost/a'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    [`busybox@sha256:${hex}`, `docker.io/library/busybox@sha256:${hex}`, `busybox@sha256:${hex}`],
    [
      `busybox:latest@sha256:${hex}`,
      `docker.io/library/busybox:latest@sha256:${hex}`,
      `busybox:latest@sha256:${hex}`,
    ],
  ];
  for (const [input, full, familiar] of table) {
    test(`${input} is ${full}, familiar ${familiar}`, () => {
      const ref = parseNormalizedNamed(input);
      assert.equal(referenceString(ref), full);
      assert.equal(familiarString(ref), familiar);
    });
  }

  test('busybox normalises to docker.io/library/busybox:latest', () => {
    const ref = tagNameOnly(parseNormalizedNamed('busybox'));
    assert.equal(referenceString(ref), 'docker.io/library/busybox:latest');
    assert.equal(familiarString(ref), 'busybox:latest');
    assert.equal(familiarName(ref), 'busybox');
  });

  test('tagNameOnly leaves a digested reference untagged', () => {
    const ref = tagNameOnly(parseNormalizedNamed(`busybox@sha256:${hex}`));
    assert.equal(ref.tag, undefined);
  });
});

describe('parseAnyReference', () => {
  const table: Array<[string, string]> = [
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    [`dmcgowan/myapp@sha256:${hex}`, `docker.io/dmcgowan/myapp@sha256:${hex}`],
    [hex, `sha256:${hex}`],
    [`sha256:${hex}`, `sha256:${hex}`],
    [hex.slice(0, 63), `docker.io/library/${hex.slice(0, 63)}`],
    ['dbcc1', 'docker.io/library/dbcc1'],
  ];
  for (const [input, expected] of table) {
    test(`${input} parses as ${expected}`, () => {
      const ref = parseAnyReference(input);
      assert.equal(isNamedReference(ref) ? referenceString(ref) : ref.digest, expected);
    });
  }
});

describe('parseDockerRef', () => {
  test('a tag and digest keep only the digest', () => {
    assert.equal(
      referenceString(parseDockerRef(`busybox:latest@sha256:${hex}`)),
      `docker.io/library/busybox@sha256:${hex}`,
    );
  });
  test('a bare name gets latest', () => {
    assert.equal(referenceString(parseDockerRef('busybox')), 'docker.io/library/busybox:latest');
  });
});
