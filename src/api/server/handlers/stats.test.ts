import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statsJson } from './stats.ts';

test('stats JSON writes uint64 values beyond 2^53 with every digit, as Go does', () => {
  const text = statsJson({ limit: 18446744073709551615n, h: Number(9223372036854771712n), small: 5, s: 'x' });
  assert.equal(text, '{"limit":18446744073709551615,"h":9223372036854771712,"small":5,"s":"x"}');
});
