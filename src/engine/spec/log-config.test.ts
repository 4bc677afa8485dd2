import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeLogConfig, ramInBytes, resolveLogSettings } from './log-config.ts';

test('sizes are binary multiples as go-units RAMInBytes reads them', () => {
  assert.equal(ramInBytes('10k'), 10240);
  assert.equal(ramInBytes('1m'), 1048576);
  assert.equal(ramInBytes('1MiB'), 1048576);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.throws(() => ramInBytes('ten'), /invalid size: 'ten'/);
});

test('json-file: no rotation by default; max-size/max-file/compress as Docker checks them', () => {
  assert.deepEqual(resolveLogSettings('json-file', {}), { driver: 'json-file' });
  assert.deepEqual(resolveLogSettings('', { 'max-size': '1m', 'max-file': '3' }), {
    driver: 'json-file',
    rotate: { maxSize: 1048576, maxFiles: 3, compress: false },
  });
  assert.throws(() => resolveLogSettings('json-file', { 'max-file': '0' }), /max-file cannot be less than 1/);
  assert.throws(
    () => resolveLogSettings('json-file', { 'max-size': '0' }),
    /max-size must be a positive number/,
  );
  assert.throws(
    () => resolveLogSettings('json-file', { compress: 'true', 'max-size': '1m' }),
    /compress cannot be true when max-file is less than 2/,
  );
  assert.throws(
    () => resolveLogSettings('json-file', { bogus: '1' }),
    /unknown log opt 'bogus' for json-file/,
  );
  assert.deepEqual(resolveLogSettings('json-file', { tag: '{{.Name}}' }), { driver: 'json-file' });
  assert.throws(
    () => resolveLogSettings('local', { tag: 'x' }),
    /unknown log opt 'tag' for log driver local/,
  );
});

test('local rotates 20 MiB x 5 compressed by default; none takes no options; others are refused', () => {
  assert.deepEqual(resolveLogSettings('local', {}), {
    driver: 'local',
    rotate: { maxSize: 20 * 1048576, maxFiles: 5, compress: true },
  });
  assert.deepEqual(resolveLogSettings('none', {}), { driver: 'none' });
  assert.throws(() => resolveLogSettings('none', { 'max-size': '1m' }), /unknown log opt/);
  assert.throws(() => resolveLogSettings('syslog', {}), /no log driver named 'syslog' is registered/);
});

test('the daemon default driver and its options fill what the container leaves unset', () => {
  const daemon = { type: 'json-file', config: { 'max-size': '10m', 'max-file': '2' } };
  assert.deepEqual(mergeLogConfig(undefined, daemon), { Type: 'json-file', Config: daemon.config });
  assert.deepEqual(mergeLogConfig({ Type: '', Config: { 'max-size': '1m' } }, daemon), {
    Type: 'json-file',
    Config: { 'max-size': '1m', 'max-file': '2' },
  });
  assert.deepEqual(mergeLogConfig({ Type: 'none' }, daemon), { Type: 'none', Config: {} });
});
