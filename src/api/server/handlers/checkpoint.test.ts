import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestContext } from '../context.ts';
import { checkpoints } from './checkpoint.ts';

const ctx = (experimental: boolean) =>
  ({
    engine: { system: { version: () => (experimental ? { Experimental: true } : {}) } },
  }) as unknown as RequestContext;

test('checkpoint routes: dockerd’s "experimental feature is disabled" without --experimental', async () => {
  await assert.rejects(checkpoints(ctx(false)), (err: Error & { kind?: string }) => {
    assert.match(
      err.message,
      /^This experimental feature is disabled by default\. Start the Docker daemon in experimental mode/,
    );
    assert.equal(err.kind, 'NotImplemented');
    return true;
  });
});

test('checkpoint routes with --experimental: refused, berth has no checkpoint/restore', async () => {
  await assert.rejects(checkpoints(ctx(true)), /checkpoint and restore are not supported by berth/);
});
