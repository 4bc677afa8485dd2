import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { parseBind, parseVolumesFrom } from './binds.ts';

test('-v strings parse into binds, named and anonymous volumes (table)', () => {
  assert.deepEqual(parseBind('/data'), {
    type: 'volume',
    source: '',
    destination: '/data',
    readOnly: false,
    mode: '',
    propagation: '',
    noCopy: false,
  });
  assert.deepEqual(parseBind('cache:/var/cache:ro,nocopy', 'local'), {
    type: 'volume',
    source: 'cache',
    destination: '/var/cache',
    readOnly: true,
    mode: 'ro,nocopy',
    propagation: '',
    noCopy: true,
    driver: 'local',
  });
  assert.deepEqual(parseBind('/host/dir/:/ctr/./dir'), {
    type: 'bind',
    source: '/host/dir',
    destination: '/ctr/dir',
    readOnly: false,
    mode: '',
    propagation: 'rprivate',
    noCopy: false,
  });
  assert.deepEqual(parseBind('/src:/dst:ro,rshared,z'), {
    type: 'bind',
    source: '/src',
    destination: '/dst',
    readOnly: true,
    mode: 'ro,rshared,z',
    propagation: 'rshared',
    noCopy: false,
  });
});

test("bad -v strings are InvalidParameter with Docker's texts", () => {
  const cases: [string, string][] = [
    ['', "invalid volume specification: ''"],
    [':/x', "invalid volume specification: ':/x'"],
    ['/foo:rw', "invalid volume specification: '/foo:rw'"],
    ['/a:/b:c:d', "invalid volume specification: '/a:/b:c:d'"],
    ['/a:/b:rw,ro', 'invalid mode: rw,ro'],
    ['/a:/b:bogus', 'invalid mode: bogus'],
    [
      '/a:relative',
      `invalid volume specification: '/a:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`,
    ],
    [
      '/a:/',
      `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
    ],
  ];
  for (const [raw, message] of cases) {
    assert.throws(
      () => parseBind(raw),
      (err) => isBerthError(err, 'InvalidParameter') && err.message === message,
      raw,
    );
  }
});

test('--volumes-from takes a container and ro/rw only', () => {
  assert.deepEqual(parseVolumesFrom('data'), { container: 'data', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('data:ro'), { container: 'data', mode: 'ro' });
  assert.throws(() => parseVolumesFrom('data:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom(''), /volumes-from specification cannot be an empty string/);
});
