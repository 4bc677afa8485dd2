import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { convertTmpfsOptions, mergeTmpfsOptions, parseTmpfsOptions } from './tmpfs.ts';

test("tmpfs data is merged over Docker's defaults, the last option of each kind winning", () => {
  assert.deepEqual(parseTmpfsOptions(''), ['noexec', 'nosuid', 'nodev', 'rprivate']);
  assert.deepEqual(parseTmpfsOptions('rw,noexec,nosuid,size=65536k'), [
    'nodev',
    'rprivate',
    'rw',
    'noexec',
    'nosuid',
    'size=65536k',
  ]);
  assert.deepEqual(parseTmpfsOptions('exec,size=1m,size=2m,mode=1770'), [
    'nosuid',
    'nodev',
    'rprivate',
    'exec',
    'size=2m',
    'mode=1770',
  ]);
  assert.deepEqual(parseTmpfsOptions('rshared'), ['noexec', 'nosuid', 'nodev', 'rshared']);
  assert.deepEqual(mergeTmpfsOptions(['ro', 'defaults', 'rw']), ['rw']);
});

test('unknown tmpfs options are InvalidParameter', () => {
  assert.throws(
    () => parseTmpfsOptions('size=1m,bogus'),
    (err) => isBerthError(err, 'InvalidParameter') && err.message === 'invalid tmpfs option "bogus"',
  );
  assert.throws(() => parseTmpfsOptions('foo=bar'), /invalid tmpfs option "foo"/);
});

test('--mount tmpfs options convert to tmpfs data with the largest even size unit', () => {
  assert.equal(
    convertTmpfsOptions({ SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 }, false),
    'mode=1777,size=64m',
  );
  assert.equal(convertTmpfsOptions({ SizeBytes: 2 ** 30 }, true), 'ro,size=1g');
  assert.equal(convertTmpfsOptions({ SizeBytes: 1000 }, false), 'size=1000');
  assert.equal(convertTmpfsOptions({ Options: [['exec']] }, false), 'exec');
  assert.equal(convertTmpfsOptions(undefined, false), '');
  assert.throws(() => convertTmpfsOptions({ Options: [['uid', '1']] }, false), /invalid option: uid/);
});
