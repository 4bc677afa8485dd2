import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { boolValue, boolValueOr, filtersValue, intValue, timestampValue } from './query.ts';

const q = (s: string) => new URLSearchParams(s);

test('BoolValue is true for anything but "", 0, no, false, none (any case)', () => {
  for (const v of ['1', 'true', 'True', 'TRUE', 'yes', 'on', 'x', ' 1 ']) {
    assert.equal(boolValue(q(`all=${encodeURIComponent(v)}`), 'all'), true, v);
  }
  for (const v of ['', '0', 'no', 'NO', 'false', 'False', 'none', 'None', ' false ']) {
    assert.equal(boolValue(q(`all=${encodeURIComponent(v)}`), 'all'), false, v);
  }
  assert.equal(boolValue(q(''), 'all'), false);
});

test('BoolValueOrDefault uses the default only when the parameter is absent or empty', () => {
  assert.equal(boolValueOr(q(''), 'x', true), true);
  assert.equal(boolValueOr(q('x='), 'x', true), true);
  assert.equal(boolValueOr(q('x=0'), 'x', true), false);
});

test('filters in the map-of-sets form decode to lists', () => {
  const f = filtersValue(q(`filters=${encodeURIComponent('{"status":{"running":true,"exited":true}}')}`));
  assert.deepEqual(f, { status: ['running', 'exited'] });
});

test('filters in the legacy list form decode to lists', () => {
  const f = filtersValue(q(`filters=${encodeURIComponent('{"status":["running"],"label":["a=b"]}')}`));
  assert.deepEqual(f, { status: ['running'], label: ['a=b'] });
});

test('absent or empty filters are no filters', () => {
  assert.deepEqual(filtersValue(q('')), {});
  assert.deepEqual(filtersValue(q('filters=')), {});
});

test('malformed filters are InvalidParameter', () => {
  for (const bad of ['{', '[1]', '{"status":"running"}', '{"status":[1]}']) {
    assert.throws(
      () => filtersValue(q(`filters=${encodeURIComponent(bad)}`)),
      (e) => isBerthError(e, 'InvalidParameter'),
    );
  }
});

test('integer parameters reject non-integers with strconv wording', () => {
  assert.equal(intValue(q('t=5'), 't'), 5);
  assert.equal(intValue(q('t=-1'), 't'), -1);
  assert.equal(intValue(q(''), 't'), undefined);
  assert.throws(
    () => intValue(q('t=x'), 't'),
    (e) => isBerthError(e, 'InvalidParameter') && e.message === 'strconv.Atoi: parsing "x": invalid syntax',
  );
});

test('timestamps take seconds with an optional nanosecond fraction', () => {
  assert.equal(timestampValue(q('since=1700000000'), 'since'), 1700000000);
  assert.equal(timestampValue(q('since=1700000000.5'), 'since'), 1700000000.5);
  assert.throws(
    () => timestampValue(q('since=10m'), 'since'),
    (e) => isBerthError(e, 'InvalidParameter'),
  );
});
