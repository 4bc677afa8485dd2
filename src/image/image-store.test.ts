import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  type Digest,
  isBerthError,
  packTar,
  sha256,
  shortId,
  silentLogger,
  type TarWriteEntry,
} from '../common/index.ts';
import { chainIds, ImageStore, type LayerUnpacker } from './image-store.ts';
import { SnapshotStore } from './snapshots.ts';

/** Unpacks with GNU tar (no whiteout handling: the unit tests need no root). */
const gnuTarUnpack: LayerUnpacker = async (tar, dir) => {
  const child = spawn('tar', ['-x', '--no-same-owner', '-C', dir, '-f', '-'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(tar, child.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`tar exited ${code}: ${stderr}`);
  return { size: await sizeOf(dir) };
};

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const st = await lstat(join(dir, name));
    total += st.isDirectory() ? await sizeOf(join(dir, name)) : st.size;
  }
  return total;
}

const file = (name: string, body: string): TarWriteEntry => ({
  header: { name, type: 'file', mode: 0o644, mtime: 1_700_000_000 },
  body,
});
const dir = (name: string): TarWriteEntry => ({
  header: { name, type: 'directory', mode: 0o755, mtime: 1_700_000_000 },
});

/** A small rootfs tar; the same entries always give the same bytes. */
const rootfs = (extra = 'v1'): Readable =>
  packTar([dir('etc/'), file('etc/hostname', 'berth\n'), file('hello.txt', `hello ${extra}\n`)]);

async function tarDigest(stream: Readable): Promise<Digest> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return sha256(Buffer.concat(chunks));
}

describe('ImageStore', () => {
  let root: string;
  let store: ImageStore;

  const open = async () => {
    const s = new ImageStore({
      root: join(root, 'image'),
      snapshots: new SnapshotStore({ root: join(root, 'snapshots'), log: silentLogger() }),
      log: silentLogger(),
      unpack: gnuTarUnpack,
      whiteouts: 'none',
    });
    await s.init();
    return s;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-images-'));
    store = await open();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('an imported rootfs becomes an image whose ID is the sha256 of its config blob', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'test', config: { Cmd: ['/bin/sh'] } });
    const configBytes = await store.content.readBytes(img.id);
    assert.equal(sha256(configBytes), img.id);
    const diffId = await tarDigest(rootfs());
    assert.deepEqual(img.layers, [diffId]);
    assert.deepEqual(img.chainIds, [diffId]);
    assert.deepEqual(img.repoTags, ['test:latest']);
    assert.deepEqual(img.config.config?.Cmd, ['/bin/sh']);
    assert.equal(img.config.rootfs.type, 'layers');
    assert.equal(img.config.history?.[0]?.comment, 'Imported from -');
    assert.equal(img.size, 'berth\n'.length + 'hello v1\n'.length);
    // The tar itself is kept as the layer blob, and the manifest references config and layer.
    assert.equal(await store.content.has(diffId), true);
    const manifest = JSON.parse((await store.content.readBytes(img.manifest.digest)).toString());
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(manifest.config.digest, img.id);
    assert.equal(manifest.layers[0].digest, diffId);
    assert.equal(manifest.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar');
    // Unpacked once into the snapshot keyed by chain ID.
    const layerDir = store.snapshots.layerDir(diffId);
    assert.equal(await readFile(join(layerDir, 'hello.txt'), 'utf8'), 'hello v1\n');
    assert.deepEqual(await readdir(join(root, 'snapshots', 'tmp')), []);
  });

  test('records, layers and references survive a restart', async () => {
    const a = await store.importRootfs(rootfs(), { tag: 'a:1' });
    await store.tag('a:1', 'localhost:5000/b/c:v2');
    const again = await open();
    const img = again.resolve('a:1');
    assert.equal(img.id, a.id);
    assert.deepEqual(img.repoTags.sort(), ['a:1', 'localhost:5000/b/c:v2']);
    assert.equal(img.size, a.size);
    assert.deepEqual(img.chainIds, a.chainIds);
    const repos = JSON.parse(await readFile(join(root, 'image', 'repositories.json'), 'utf8'));
    assert.deepEqual(repos, {
      Repositories: { a: { 'a:1': a.id }, 'localhost:5000/b/c': { 'localhost:5000/b/c:v2': a.id } },
    });
  });

  test('resolve finds images by name, tag, full ID and unambiguous ID prefix', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'busybox' });
    const hex = img.id.slice(7);
    for (const ref of [
      'busybox',
      'busybox:latest',
      'docker.io/library/busybox:latest',
      img.id,
      hex,
      hex.slice(0, 1),
      `sha256:${hex.slice(0, 5)}`,
      shortId(img.id),
    ]) {
      assert.equal(store.resolve(ref).id, img.id, ref);
    }
  });

  test('resolving an unknown image is NotFound with Docker wording', () => {
    assert.throws(
      () => store.resolve('nope'),
      (err) => isBerthError(err, 'NotFound') && err.message === 'No such image: nope:latest',
    );
    assert.throws(() => store.resolve(`sha256:${'0'.repeat(64)}`), {
      message: `No such image: sha256:${'0'.repeat(64)}`,
    });
  });

  test('an uppercase name is InvalidParameter', () => {
    assert.throws(
      () => store.resolve('Busybox'),
      (err) => isBerthError(err, 'InvalidParameter'),
    );
  });

  test('tag adds a reference, moves an existing one and refuses digests', async () => {
    const a = await store.importRootfs(rootfs('a'), { tag: 'x' });
    const b = await store.importRootfs(rootfs('b'));
    await store.tag(b.id, 'x');
    assert.equal(store.resolve('x').id, b.id);
    assert.deepEqual(store.resolve(a.id).repoTags, []);
    await assert.rejects(store.tag('x', `y@sha256:${'a'.repeat(64)}`), {
      message: 'refusing to create a tag with a digest reference',
    });
  });

  test('removing one of several tags only untags', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'one' });
    await store.tag('one', 'two');
    assert.deepEqual(await store.remove('one'), [{ Untagged: 'one:latest' }]);
    assert.deepEqual(store.resolve(img.id).repoTags, ['two:latest']);
  });

  test('removing by ID an image with several tags needs force', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'one' });
    await store.tag('one', 'two');
    await assert.rejects(store.remove(shortId(img.id)), (err) => {
      assert.ok(isBerthError(err, 'Conflict'));
      assert.equal(
        err.message,
        `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`,
      );
      return true;
    });
    const out = await store.remove(shortId(img.id), { force: true });
    assert.deepEqual(out, [
      { Untagged: 'one:latest' },
      { Untagged: 'two:latest' },
      { Deleted: img.id },
      { Deleted: img.chainIds[0] },
    ]);
    assert.equal(store.list().length, 0);
    assert.equal(existsSync(store.snapshots.layerDir(img.chainIds[0]!)), false);
    assert.equal(await store.content.has(img.id), false);
    assert.equal(await store.content.has(img.layers[0]!), false);
  });

  test('removing the last tag deletes the image and its layers', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'only' });
    const out = await store.remove('only');
    assert.deepEqual(out, [{ Untagged: 'only:latest' }, { Deleted: img.id }, { Deleted: img.chainIds[0] }]);
  });

  test('an image used by a stopped container cannot be removed without force', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'used' });
    const ctr = 'c'.repeat(64);
    const usedBy = () => [{ id: ctr, running: false }];
    await assert.rejects(store.remove('used', { usedBy }), {
      message: `conflict: unable to remove repository reference "used" (must force) - container ${shortId(ctr)} is using its referenced image ${shortId(img.id)}`,
    });
    await assert.rejects(store.remove(img.id, { usedBy }), {
      message: `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by stopped container ${shortId(ctr)}`,
    });
    const out = await store.remove(img.id, { usedBy, force: true });
    assert.deepEqual(out.slice(0, 2), [{ Untagged: 'used:latest' }, { Deleted: img.id }]);
  });

  test('an image used by a running container cannot be removed even with force', async () => {
    const img = await store.importRootfs(rootfs(), { tag: 'running' });
    const ctr = 'd'.repeat(64);
    await assert.rejects(
      store.remove(img.id, { usedBy: () => [{ id: ctr, running: true }], force: true }),
      (err) => {
        assert.ok(isBerthError(err, 'Conflict'));
        assert.equal(
          err.message,
          `conflict: unable to delete ${shortId(img.id)} (cannot be forced) - image is being used by running container ${shortId(ctr)}`,
        );
        return true;
      },
    );
    assert.equal(store.resolve('running').id, img.id);
  });

  test('two images sharing a layer share one snapshot, kept until the last image goes', async () => {
    const a = await store.importRootfs(rootfs(), { tag: 'a', config: { Cmd: ['a'] } });
    const b = await store.importRootfs(rootfs(), { tag: 'b', config: { Cmd: ['b'] } });
    assert.notEqual(a.id, b.id);
    assert.deepEqual(a.chainIds, b.chainIds);
    assert.deepEqual(await store.snapshots.listLayers(), a.chainIds);
    assert.deepEqual(await store.remove('a'), [{ Untagged: 'a:latest' }, { Deleted: a.id }]);
    assert.equal(existsSync(store.snapshots.layerDir(a.chainIds[0]!)), true);
    assert.deepEqual(await store.remove('b'), [
      { Untagged: 'b:latest' },
      { Deleted: b.id },
      { Deleted: b.chainIds[0] },
    ]);
    assert.deepEqual(await store.snapshots.listLayers(), []);
  });

  test('concurrent imports of the same layer both succeed with one snapshot', async () => {
    const [a, b] = await Promise.all([
      store.importRootfs(rootfs(), { tag: 'p', config: { Cmd: ['p'] } }),
      store.importRootfs(rootfs(), { tag: 'q', config: { Cmd: ['q'] } }),
    ]);
    assert.deepEqual(a!.chainIds, b!.chainIds);
    assert.deepEqual(await store.snapshots.listLayers(), a!.chainIds);
    assert.deepEqual(await readdir(join(root, 'snapshots', 'tmp')), []);
    assert.deepEqual(await readdir(join(root, 'image', 'ingest')), []);
  });

  test('stacked layers get OCI chain IDs and the image lists them bottom first', async () => {
    const l0 = await store.addLayer(packTar([file('base', 'base\n')]));
    const l1 = await store.addLayer(packTar([file('top', 'top\n')]), { parent: l0.chainId });
    assert.equal(l0.chainId, l0.diffId);
    assert.equal(l1.chainId, sha256(`${l0.chainId} ${l1.diffId}`));
    const img = await store.createImage(
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [l0.diffId, l1.diffId] } },
      { tag: 'stacked' },
    );
    assert.deepEqual(img.chainIds, chainIds([l0.diffId, l1.diffId]));
    assert.deepEqual(img.chainIds, [l0.chainId, l1.chainId]);
    assert.equal(img.size, 'base\n'.length + 'top\n'.length);
    store.releaseLayers([l0.chainId, l1.chainId]);
    const out = await store.remove('stacked');
    assert.deepEqual(out.slice(2), [{ Deleted: l1.chainId }, { Deleted: l0.chainId }]);
  });

  test('a layer added but never used by an image is collected at the next start', async () => {
    const l = await store.addLayer(packTar([file('orphan', 'x')]));
    assert.equal(existsSync(store.snapshots.layerDir(l.chainId)), true);
    const again = await open();
    assert.equal(again.layer(l.chainId), undefined);
    assert.equal(existsSync(store.snapshots.layerDir(l.chainId)), false);
  });

  test('a config given as bytes is stored byte for byte', async () => {
    const l = await store.addLayer(packTar([file('f', 'x')]));
    const bytes = Buffer.from(
      `{"architecture":"arm64",  "os":"linux","rootfs":{"type":"layers","diff_ids":["${l.diffId}"]}}`,
    );
    const img = await store.createImage(bytes);
    store.releaseLayers([l.chainId]);
    assert.equal(img.id, sha256(bytes));
    assert.deepEqual(await store.content.readBytes(img.id), bytes);
  });

  test('a failing tar stream leaves no layer, blob or temp dir', async () => {
    const broken = packTar(
      (async function* () {
        yield file('a', 'a');
        throw new Error('connection reset');
      })(),
    );
    await assert.rejects(store.importRootfs(broken, { tag: 'broken' }), /connection reset/);
    assert.deepEqual(await store.snapshots.listLayers(), []);
    assert.deepEqual(await readdir(join(root, 'snapshots', 'tmp')), []);
    assert.deepEqual(await store.content.list(), []);
    assert.equal(store.list().length, 0);
  });

  test('a failing unpacker leaves no blob, layer or temp dir', async () => {
    const failing = new ImageStore({
      root: join(root, 'image'),
      snapshots: new SnapshotStore({ root: join(root, 'snapshots'), log: silentLogger() }),
      log: silentLogger(),
      unpack: async (tar) => {
        for await (const _ of tar) throw new Error('disk full');
        return { size: 0 };
      },
      whiteouts: 'none',
    });
    await failing.init();
    await assert.rejects(failing.importRootfs(rootfs(), { tag: 'x' }), /disk full/);
    assert.deepEqual(await failing.content.list(), []);
    assert.deepEqual(await failing.snapshots.listLayers(), []);
    assert.deepEqual(await readdir(join(root, 'snapshots', 'tmp')), []);
    assert.deepEqual(await readdir(join(root, 'image', 'ingest')), []);
  });

  test('an aborted import leaves nothing behind', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(store.importRootfs(rootfs(), { signal: ac.signal }), { name: 'AbortError' });
    assert.deepEqual(await store.content.list(), []);
    assert.deepEqual(await store.snapshots.listLayers(), []);
  });

  test('a diff ID mismatch is InvalidParameter and keeps nothing', async () => {
    await assert.rejects(store.addLayer(rootfs(), { expectedDiffId: sha256('other') }), (err) =>
      isBerthError(err, 'InvalidParameter'),
    );
    assert.deepEqual(await store.content.list(), []);
    assert.deepEqual(await store.snapshots.listLayers(), []);
  });
});
