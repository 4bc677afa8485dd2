import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUntil } from './prune.ts';

test('until takes Unix seconds, RFC 3339 dates and Go durations before now', () => {
  assert.equal(parseUntil('1700000000'), 1_700_000_000_000);
  assert.equal(parseUntil('1700000000.5'), 1_700_000_000_500);
  assert.equal(parseUntil('2024-01-02T03:04:05Z'), Date.parse('2024-01-02T03:04:05Z'));
  assert.equal(parseUntil('1h30m', 10_000_000), 10_000_000 - 5_400_000);
  assert.throws(() => parseUntil('soon'), /invalid filter 'until=soon'/);
});
