import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rfc3339Local } from './image-history.ts';

test('history dates are RFC 3339 in the local zone, Z for UTC', () => {
  const tz = process.env.TZ;
  try {
    process.env.TZ = 'UTC';
    assert.equal(rfc3339Local(1_700_000_000), '2023-11-14T22:13:20Z');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});
