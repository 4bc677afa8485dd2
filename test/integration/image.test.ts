import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  type Digest,
  isBerthError,
  packTar,
  readEntryBody,
  readTar,
  sha256,
  shortId,
  silentLogger,
  type TarWriteEntry,
} from '../../src/common/index.ts';
import { chainIds, ImageStore, SnapshotStore } from '../../src/image/index.ts';
import { getXattr, hasNativeAddon, umount } from '../../src/platform/index.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root' : !hasNativeAddon() ? 'needs the native addon (make -C native)' : false;

const mtime = 1_700_000_000;
const file = (name: string, body: string, mode = 0o644): TarWriteEntry => ({
  header: { name, type: 'file', mode, mtime, uid: 0, gid: 0 },
  body,
});
const dir = (name: string, mode = 0o755): TarWriteEntry => ({
  header: { name, type: 'directory', mode, mtime, uid: 0, gid: 0 },
});

/** Mount points under `prefix`, innermost first. */
async function mountsUnder(prefix: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === prefix || m.startsWith(`${prefix}/`)))
    .reverse();
}

describe('image store and overlay snapshots on the real kernel', { skip }, () => {
  let root: string;
  let store: ImageStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-image-it-'));
    store = new ImageStore({
      root: join(root, 'image'),
      snapshots: new SnapshotStore({ root: join(root, 'snapshots'), log: silentLogger() }),
      log: silentLogger(),
    });
    await store.init();
  });

  afterEach(async () => {
    // Whatever a failed test left mounted comes off before the directory goes.
    for (const m of await mountsUnder(root)) {
      try {
        umount(m, { detach: true });
      } catch {
        // already gone
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  /** base: /etc/hostname, /a, /d/x; top: deletes /a (whiteout), makes /d opaque with /d/y. */
  const makeTwoLayerImage = async (tag: string) => {
    const base = await store.addLayer(
      packTar([dir('etc/'), file('etc/hostname', 'base\n'), file('a', 'a\n'), dir('d/'), file('d/x', 'x\n')]),
    );
    const top = await store.addLayer(
      packTar([
        file('.wh.a', ''),
        dir('d/'),
        file('d/.wh..wh..opq', ''),
        file('d/y', 'y\n'),
        file('hello', 'hi\n'),
      ]),
      { parent: base.chainId },
    );
    try {
      return await store.createImage(
        {
          architecture: 'amd64',
          os: 'linux',
          config: { Cmd: ['/bin/sh'] },
          rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] },
        },
        { tag },
      );
    } finally {
      store.releaseLayers([base.chainId, top.chainId]);
    }
  };

  test('layers are unpacked with overlay whiteouts: a 0/0 char device and an opaque xattr', async () => {
    const img = await makeTwoLayerImage('wh');
    const top = store.snapshots.layerDir(img.chainIds[1]!);
    const wh = await lstat(join(top, 'a'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(getXattr(join(top, 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
  });

  test('a container snapshot mounted with overlay sees the merged layers', async () => {
    const img = await makeTwoLayerImage('merged');
    const ctr = 'c1'.repeat(32);
    await store.snapshots.prepare(ctr, img.chainIds);
    const target = await store.snapshots.mount(ctr);
    try {
      assert.equal(await readFile(join(target, 'etc/hostname'), 'utf8'), 'base\n');
      assert.equal(await readFile(join(target, 'hello'), 'utf8'), 'hi\n');
      assert.equal(existsSync(join(target, 'a')), false, 'whiteout hides /a');
      assert.deepEqual(await readdir(join(target, 'd')), ['y'], 'opaque dir hides /d/x');
    } finally {
      await store.snapshots.unmount(target);
    }
  });

  test("a write in the container's upper does not change the lower layers", async () => {
    const img = await makeTwoLayerImage('cow');
    const ctr = 'c2'.repeat(32);
    const snap = await store.snapshots.prepare(ctr, img.chainIds);
    const target = await store.snapshots.mount(ctr);
    try {
      await writeFile(join(target, 'etc/hostname'), 'changed\n');
      await writeFile(join(target, 'new'), 'new\n');
      await rm(join(target, 'hello'));
      assert.equal(await readFile(join(target, 'etc/hostname'), 'utf8'), 'changed\n');
    } finally {
      await store.snapshots.unmount(target);
    }
    const base = store.snapshots.layerDir(img.chainIds[0]!);
    const top = store.snapshots.layerDir(img.chainIds[1]!);
    assert.equal(await readFile(join(base, 'etc/hostname'), 'utf8'), 'base\n');
    assert.equal(await readFile(join(top, 'hello'), 'utf8'), 'hi\n');
    assert.equal(await readFile(join(snap.upperDir, 'etc/hostname'), 'utf8'), 'changed\n');
    assert.equal(await readFile(join(snap.upperDir, 'new'), 'utf8'), 'new\n');
    assert.ok(
      (await lstat(join(snap.upperDir, 'hello'))).isCharacterDevice(),
      'delete is a whiteout in upper',
    );
    assert.equal(await store.snapshots.containerRootfsSize(ctr), 'changed\n'.length + 'new\n'.length);
  });

  test('unmount and removeContainer leave no mount and no directories', async () => {
    const img = await makeTwoLayerImage('clean');
    const ctr = 'c3'.repeat(32);
    await store.snapshots.prepare(ctr, img.chainIds);
    const target = await store.snapshots.mount(ctr);
    assert.deepEqual(await mountsUnder(target), [target]);
    await store.snapshots.unmount(target);
    assert.deepEqual(await mountsUnder(target), []);
    await store.snapshots.removeContainer(ctr);
    assert.equal(existsSync(join(root, 'snapshots', 'containers', ctr)), false);
    assert.deepEqual(await mountsUnder(root), []);
  });

  test('removeContainer unmounts a rootfs that is still mounted', async () => {
    const img = await makeTwoLayerImage('still');
    const ctr = 'c4'.repeat(32);
    await store.snapshots.prepare(ctr, img.chainIds);
    const elsewhere = join(root, 'elsewhere');
    await store.snapshots.mount(ctr, elsewhere);
    await store.snapshots.removeContainer(ctr);
    assert.deepEqual(await mountsUnder(root), []);
    assert.equal(existsSync(join(root, 'snapshots', 'containers', ctr)), false);
  });

  test('an image without layers mounts an empty lower dir', async () => {
    const img = await store.createImage({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const ctr = 'c5'.repeat(32);
    await store.snapshots.prepare(ctr, img.chainIds);
    const target = await store.snapshots.mount(ctr);
    try {
      assert.deepEqual(await readdir(target), []);
      await writeFile(join(target, 'f'), 'x');
    } finally {
      await store.snapshots.removeContainer(ctr);
    }
    assert.deepEqual(await readdir(join(root, 'snapshots', 'empty')), []);
  });

  test('an image of 100 layers mounts (the mount data exceeds a page with absolute paths)', async () => {
    const diffIds: Digest[] = [];
    const held: Digest[] = [];
    let parent: Digest | undefined;
    for (let i = 0; i < 100; i++) {
      const l = await store.addLayer(packTar([file(`f${i}`, `${i}\n`)]), parent ? { parent } : {});
      diffIds.push(l.diffId);
      held.push(l.chainId);
      parent = l.chainId;
    }
    const img = await store.createImage({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: diffIds },
    });
    store.releaseLayers(held);
    assert.deepEqual(img.chainIds, chainIds(diffIds));
    const ctr = 'c6'.repeat(32);
    await store.snapshots.prepare(ctr, img.chainIds);
    const target = await store.snapshots.mount(ctr);
    try {
      assert.equal((await readdir(target)).length, 100);
      assert.equal(await readFile(join(target, 'f0'), 'utf8'), '0\n');
      assert.equal(await readFile(join(target, 'f99'), 'utf8'), '99\n');
    } finally {
      await store.snapshots.removeContainer(ctr);
    }
  });

  test('import, tag, resolve and remove with the real extractor', async () => {
    const tar = () => packTar([dir('bin/'), file('bin/tool', '#!/bin/sh\n', 0o755)]);
    const a = await store.importRootfs(tar(), { tag: 'localhost:5000/tools:1', config: { Cmd: ['a'] } });
    const b = await store.importRootfs(tar(), { tag: 'other', config: { Cmd: ['b'] } });
    assert.deepEqual(a.chainIds, b.chainIds, 'two images share one snapshot');
    assert.deepEqual(await store.snapshots.listLayers(), a.chainIds);
    assert.equal(
      (await lstat(join(store.snapshots.layerDir(a.chainIds[0]!), 'bin/tool'))).mode & 0o777,
      0o755,
    );
    await store.tag('localhost:5000/tools:1', 'tools:2');
    assert.deepEqual(store.resolve(shortId(a.id)).repoTags, ['localhost:5000/tools:1', 'tools:2']);

    await assert.rejects(store.remove(a.id), (err) => {
      assert.ok(isBerthError(err, 'Conflict'));
      assert.match(err.message, /\(must be forced\) - image is referenced in multiple repositories$/);
      return true;
    });
    assert.deepEqual(await store.remove('tools:2'), [{ Untagged: 'tools:2' }]);
    const ctr = 'c7'.repeat(32);
    await assert.rejects(store.remove(a.id, { usedBy: () => [{ id: ctr, running: true }], force: true }), {
      message: `conflict: unable to delete ${shortId(a.id)} (cannot be forced) - image is being used by running container ${shortId(ctr)}`,
    });
    // A stopped container keeps the layers alive after a forced delete, until it goes.
    await store.snapshots.prepare(ctr, a.chainIds);
    assert.deepEqual(await store.remove(a.id, { usedBy: () => [{ id: ctr, running: false }], force: true }), [
      { Untagged: 'localhost:5000/tools:1' },
      { Deleted: a.id },
    ]);
    assert.deepEqual(await store.remove('other'), [{ Untagged: 'other:latest' }, { Deleted: b.id }]);
    assert.deepEqual(await store.snapshots.listLayers(), a.chainIds);
    await store.snapshots.removeContainer(ctr);
    assert.deepEqual(await store.snapshots.listLayers(), [], 'removing the container released the layer');
    assert.deepEqual(store.list(), []);
  });

  test('a container diff committed as a layer reproduces its changes, deletions included', async () => {
    const img = await makeTwoLayerImage('commit-base');
    const ctr = 'c8'.repeat(32);
    await store.snapshots.prepare(ctr, img.chainIds);
    const target = await store.snapshots.mount(ctr);
    try {
      await writeFile(join(target, 'added'), 'added\n');
      await rm(join(target, 'etc/hostname'));
    } finally {
      await store.snapshots.unmount(target);
    }
    const layer = await store.addLayer(store.snapshots.diff(ctr), { parent: img.chainIds.at(-1) });
    let committed: Awaited<ReturnType<typeof store.createImage>>;
    try {
      committed = await store.createImage(
        { ...img.config, rootfs: { type: 'layers', diff_ids: [...img.layers, layer.diffId] } },
        { tag: 'committed', parent: img.id },
      );
    } finally {
      store.releaseLayers([layer.chainId]);
    }
    assert.equal(committed.chainIds.length, 3);
    const ctr2 = 'c9'.repeat(32);
    await store.snapshots.prepare(ctr2, committed.chainIds);
    const target2 = await store.snapshots.mount(ctr2);
    try {
      assert.equal(await readFile(join(target2, 'added'), 'utf8'), 'added\n');
      assert.equal(existsSync(join(target2, 'etc/hostname')), false);
      assert.equal(await readFile(join(target2, 'hello'), 'utf8'), 'hi\n');
    } finally {
      await store.snapshots.removeContainer(ctr2);
      await store.snapshots.removeContainer(ctr);
    }
    // The parent cannot go while its child exists.
    await assert.rejects(store.remove(img.id, { force: true }), {
      message: `conflict: unable to delete ${shortId(img.id)} (cannot be forced) - image has dependent child images`,
    });
    // Removing the child prunes the untagged parent... which is tagged here, so it stays.
    const out = await store.remove('committed');
    assert.deepEqual(out.slice(0, 3), [
      { Untagged: 'committed:latest' },
      { Deleted: committed.id },
      { Deleted: layer.chainId },
    ]);
    assert.equal(store.resolve('commit-base').id, img.id);
  });

  test('layerTar of a packed snapshot unpacks to the same files', async () => {
    const img = await makeTwoLayerImage('save');
    const top = img.chainIds[1]!;
    // The kept blob is the original tar; its digest is the diff ID.
    const kept = await store.layerTar(top);
    const chunks: Buffer[] = [];
    for await (const c of kept) chunks.push(c as Buffer);
    assert.equal(sha256(Buffer.concat(chunks)), img.layers[1]);
    // Without the blob, the snapshot is packed with whiteouts as .wh. entries.
    await store.content.delete(img.layers[1]!);
    const names: string[] = [];
    for await (const e of readTar(await store.layerTar(top))) {
      names.push(e.header.name);
      await readEntryBody(e);
    }
    assert.ok(
      names.some((n) => n.replace(/^\.\//, '') === '.wh.a'),
      names.join(','),
    );
    assert.ok(
      names.some((n) => n.replace(/^\.\//, '') === 'd/.wh..wh..opq'),
      names.join(','),
    );
  });
});
