import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MS } from '../platform/index.ts';
import { parseMountOptions } from './mount-options.ts';

test('flag options become mount flags and the rest is filesystem data', () => {
  assert.deepEqual(parseMountOptions('ro,nosuid,size=64m,uid=1000'), {
    flags: MS.RDONLY | MS.NOSUID,
    data: 'size=64m,uid=1000',
  });
});

test('a later option clears an earlier flag', () => {
  assert.deepEqual(parseMountOptions('ro,rw'), { flags: 0, data: '' });
  assert.deepEqual(parseMountOptions('bind'), { flags: MS.BIND, data: '' });
});
