import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelsMatch, parseGoDuration, untilTime } from './prune-filters.ts';

test('Go durations parse to milliseconds, compound and fractional', () => {
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('100ms'), 100);
  assert.equal(parseGoDuration('10'), undefined);
  assert.equal(parseGoDuration('yesterday'), undefined);
});

test('until is a duration back from now, a Unix timestamp or an RFC 3339 time', () => {
  const now = 1_700_000_000_000;
  assert.equal(untilTime('24h', now), now - 86_400_000);
  assert.equal(untilTime('1700000000.5', now), 1_700_000_000_500);
  assert.equal(untilTime('2023-11-14T22:13:20Z', now), 1_700_000_000_000);
  assert.throws(() => untilTime('yesterday', now), /failed to parse value as time or duration/);
});

test('label filters all must match; label! excludes only when every one matches', () => {
  const labels = { a: '1', b: '2' };
  assert.equal(labelsMatch(labels, { label: ['a', 'b=2'] }), true);
  assert.equal(labelsMatch(labels, { label: ['a=2'] }), false);
  assert.equal(labelsMatch(labels, { 'label!': ['a=1'] }), false);
  assert.equal(labelsMatch(labels, { 'label!': ['a=1', 'c'] }), true);
  assert.equal(labelsMatch({}, {}), true);
});
