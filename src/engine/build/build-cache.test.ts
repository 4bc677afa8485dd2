import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Digest } from '../../common/index.ts';
import { BuildCache } from './build-cache.ts';

const img = (c: string) => `sha256:${c.repeat(64)}` as Digest;

test('COPY --from summaries are remembered by image and sources, and forgotten by prune', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bcache-'));
  try {
    const cache = new BuildCache(dir);
    const k = BuildCache.summaryKey(img('a'), ['/out/']);
    assert.notEqual(k, BuildCache.summaryKey(img('b'), ['/out/']), 'another image');
    assert.notEqual(k, BuildCache.summaryKey(img('a'), ['/out', '/x']), 'other sources');
    assert.equal(cache.sourceSummary(k), undefined);
    cache.rememberSourceSummary(k, 'dir:123');
    assert.equal(cache.sourceSummary(k), 'dir:123');
    await cache.prune();
    assert.equal(cache.sourceSummary(k), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
