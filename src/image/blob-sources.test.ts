import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Digest, silentLogger } from '../common/index.ts';
import { BlobSources } from './blob-sources.ts';

const a = `sha256:${'a'.repeat(64)}` as Digest;
const b = `sha256:${'b'.repeat(64)}`;

test('blob sources keep repositories per digest, newest last, and compressed blobs per layer, across a reload', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-bs-'));
  try {
    const s = new BlobSources({ root, log: silentLogger() });
    await s.load();
    await s.add([a, b], 'localhost:5000/x');
    await s.add(a, 'localhost:5000/y');
    await s.add(a, 'localhost:5000/x'); // seen again: becomes the newest
    assert.deepEqual(s.get(a), ['localhost:5000/y', 'localhost:5000/x']);
    await s.remove(b, 'localhost:5000/x');
    assert.deepEqual(s.get(b), []);
    const again = new BlobSources({ root, log: silentLogger() });
    await again.load();
    assert.deepEqual(again.get(a), ['localhost:5000/y', 'localhost:5000/x']);
    await again.setCompressed(b, {
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      digest: a,
      size: 7,
    });
    const third = new BlobSources({ root, log: silentLogger() });
    await third.load();
    assert.deepEqual(third.compressed(b), {
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      digest: a,
      size: 7,
    });
    assert.equal(third.compressed(a), undefined);
    const file = JSON.parse(await readFile(join(root, 'distribution', 'blob-sources.json'), 'utf8'));
    assert.deepEqual(file.repositories[a], ['localhost:5000/y', 'localhost:5000/x']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('blob sources ignore invalid digests and an unreadable file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-bs-'));
  try {
    const s = new BlobSources({ root, log: silentLogger() });
    await s.add('nope', 'r');
    assert.deepEqual(s.get('nope'), []);
    await writeFile(join(root, 'distribution', 'blob-sources.json'), '{not json').catch(() => {});
    await s.load();
    for (let i = 0; i < 60; i++) await s.add(a, `h/r${i}`);
    assert.equal(s.get(a).length, 50);
    assert.equal(s.get(a).at(-1), 'h/r59');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
