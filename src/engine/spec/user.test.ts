import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { resolveUser } from './user.ts';

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
  'nohome:x:1000:1000::',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
].join('\n');
const group = [
  'root:x:0:',
  'daemon:x:1:',
  '# a comment',
  'wheel:x:10:root,www-data',
  'www-data:x:33:',
  'audio:x:29:www-data',
  'staff:x:50:',
  'nogroup:x:65534:',
].join('\n');
const files = { passwd, group };

test('user specs resolve like runc (table)', () => {
  const table: [string, string[], { uid: number; gid: number; additionalGids: number[]; home: string }][] = [
    ['', [], { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' }],
    ['root', [], { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' }],
    ['www-data', [], { uid: 33, gid: 33, additionalGids: [33, 10, 29], home: '/var/www' }],
    ['33', [], { uid: 33, gid: 33, additionalGids: [33, 10, 29], home: '/var/www' }],
    ['www-data:staff', [], { uid: 33, gid: 50, additionalGids: [50], home: '/var/www' }],
    ['www-data:50', [], { uid: 33, gid: 50, additionalGids: [50], home: '/var/www' }],
    ['1234', [], { uid: 1234, gid: 0, additionalGids: [0], home: '/' }],
    ['1234:5678', [], { uid: 1234, gid: 5678, additionalGids: [5678], home: '/' }],
    ['daemon:nogroup', [], { uid: 1, gid: 65534, additionalGids: [65534], home: '/usr/sbin' }],
    ['nohome', [], { uid: 1000, gid: 1000, additionalGids: [1000], home: '/' }],
    [
      'daemon',
      ['staff', '4242', 'audio', 'staff'],
      { uid: 1, gid: 1, additionalGids: [1, 50, 4242, 29], home: '/usr/sbin' },
    ],
  ];
  for (const [spec, groupAdd, want] of table) {
    assert.deepEqual(resolveUser(spec, files, groupAdd), want, spec);
  }
});

test('without passwd and group files numeric ids work and root is the default', () => {
  assert.deepEqual(resolveUser('', {}), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser('1000:1000', {}), { uid: 1000, gid: 1000, additionalGids: [1000], home: '/' });
});

test("unknown names are InvalidParameter with runc's messages", () => {
  const cases: [string, string[], string][] = [
    ['nosuchuser', [], 'unable to find user nosuchuser: no matching entries in passwd file'],
    ['root:nosuchgroup', [], 'unable to find group nosuchgroup: no matching entries in group file'],
    ['root', ['nosuchgroup'], 'unable to find group nosuchgroup: no matching entries in group file'],
    ['99999999999', [], 'uids and gids must be in range 0-2147483647'],
  ];
  for (const [spec, groupAdd, message] of cases) {
    assert.throws(
      () => resolveUser(spec, files, groupAdd),
      (err) => isBerthError(err, 'InvalidParameter') && err.message === message,
      spec,
    );
  }
  assert.throws(
    () => resolveUser('someone', {}),
    /unable to find user someone: no matching entries in passwd file/,
  );
});
