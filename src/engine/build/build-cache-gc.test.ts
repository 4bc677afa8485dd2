import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BuildCacheGcRule, parseGoDuration, selectForGc } from './build-cache-gc.ts';

const H = 3_600_000;
const now = Date.parse('2026-01-10T00:00:00Z');
const recs = [
  { key: 'old', created: new Date(now - 100 * H), lastUsed: new Date(now - 50 * H) },
  { key: 'new', created: new Date(now - 100 * H), lastUsed: new Date(now - 1 * H) },
];
const rule = (r: Partial<BuildCacheGcRule>): BuildCacheGcRule => ({
  all: false,
  filters: {},
  reservedSpace: 0,
  maxUsedSpace: 0,
  minFreeSpace: 0,
  ...r,
});

test('a rule without space limits removes what its filters select (unused-for uses the last use)', () => {
  const policy = { enabled: true, rules: [rule({ filters: { 'unused-for': ['48h'] } })] };
  assert.deepEqual(selectForGc(recs, policy, 1e12, now), ['old']);
  assert.deepEqual(
    selectForGc(recs, { enabled: true, rules: [rule({ filters: { until: ['48h'] } })] }, 1e12, now),
    ['old', 'new'],
  );
});

test('records hold no bytes: reserved and max-used limits are never exceeded, so nothing goes', () => {
  const policy = { enabled: true, rules: [rule({ reservedSpace: 1 }), rule({ maxUsedSpace: 1 })] };
  assert.deepEqual(selectForGc(recs, policy, 0, now), []);
});

test('a min-free rule removes its selection only while the disk is short', () => {
  const policy = { enabled: true, rules: [rule({ minFreeSpace: 1000, filters: { 'unused-for': ['10h'] } })] };
  assert.deepEqual(selectForGc(recs, policy, 2000, now), []);
  assert.deepEqual(selectForGc(recs, policy, 500, now), ['old']);
});

test('disabled gc removes nothing', () => {
  assert.deepEqual(selectForGc(recs, { enabled: false, rules: [rule({})] }, 0, now), []);
});

test('Go durations', () => {
  assert.equal(parseGoDuration('1h30m'), 1.5 * H);
  assert.equal(parseGoDuration('90s'), 90_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('7d'), /invalid duration/);
  assert.throws(() => parseGoDuration(''), /invalid duration/);
});
