import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readlink, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isBerthError, sha256, silentLogger } from '../common/index.ts';
import { SnapshotStore } from './snapshots.ts';

describe('SnapshotStore (no mounts)', () => {
  let root: string;
  let snaps: SnapshotStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-snaps-'));
    snaps = new SnapshotStore({ root, log: silentLogger() });
    await snaps.init();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const addLayer = async (name: string) => {
    const chainId = sha256(name);
    const w = await snaps.beginLayer();
    await writeFile(join(w.dir, name), name);
    return { chainId, result: await w.commit(chainId) };
  };

  test('an unmounted container upper dir becomes a layer without a copy; times cut to whole seconds', async () => {
    const snap = await snaps.prepare('c1', []);
    await mkdir(join(snap.upperDir, 'd'));
    await writeFile(join(snap.upperDir, 'd', 'f'), 'f');
    await utimes(join(snap.upperDir, 'd', 'f'), 1000.75, 1000.75);
    const inode = (await stat(join(snap.upperDir, 'd', 'f'))).ino;
    const w = await snaps.takeUpper('c1');
    assert.deepEqual(await readdir(snap.upperDir), [], 'the container keeps an empty upper dir');
    const chainId = sha256('c1-layer');
    assert.equal(await w.commit(chainId), 'created');
    const f = await stat(join(snaps.layerDir(chainId), 'd', 'f'), { bigint: true });
    assert.equal(Number(f.ino), inode, 'moved, not copied');
    assert.equal(f.mtimeNs, 1_000_000_000_000n);
    assert.equal(f.atimeNs, 1_000_000_000_000n);
    await snaps.removeContainer('c1');
    await assert.rejects(snaps.takeUpper('c1'), /no snapshot prepared/);
  });

  test('a committed layer is found by chain ID and reachable through its short link', async () => {
    const { chainId, result } = await addLayer('a');
    assert.equal(result, 'created');
    assert.equal(await snaps.hasLayer(chainId), true);
    assert.deepEqual(await snaps.listLayers(), [chainId]);
    const link = join(root, 'l', chainId.slice(7, 27));
    assert.equal(await readlink(link), join('..', 'layers', chainId.slice(7)));
    assert.deepEqual(await readdir(link), ['a']);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  test('a second commit of the same chain ID is discarded', async () => {
    await addLayer('a');
    const w = await snaps.beginLayer();
    await writeFile(join(w.dir, 'other'), 'x');
    assert.equal(await w.commit(sha256('a')), 'exists');
    assert.deepEqual(await readdir(snaps.layerDir(sha256('a'))), ['a']);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  test('prepare makes upper and work dirs, lower dirs topmost first, and survives a restart', async () => {
    const a = (await addLayer('a')).chainId;
    const b = (await addLayer('b')).chainId;
    const snap = await snaps.prepare('c1', [a, b]);
    assert.deepEqual(snap.lowerDirs, [join(root, 'l', b.slice(7, 27)), join(root, 'l', a.slice(7, 27))]);
    assert.equal(existsSync(snap.upperDir), true);
    assert.equal(existsSync(snap.workDir), true);
    const again = new SnapshotStore({ root, log: silentLogger() });
    await again.init();
    assert.deepEqual(again.snapshot('c1'), snap);
    assert.deepEqual([...again.layersInUseByContainers()].sort(), [a, b].sort());
  });

  test('a layer used by a container cannot be removed; after removeContainer it can', async () => {
    const { chainId } = await addLayer('a');
    await snaps.prepare('c1', [chainId]);
    await assert.rejects(snaps.removeLayer(chainId), (err) => isBerthError(err, 'InvalidParameter'));
    let hooked = 0;
    snaps.onContainerRemoved(async () => {
      hooked++;
    });
    await snaps.removeContainer('c1');
    assert.equal(hooked, 1);
    assert.equal(existsSync(join(root, 'containers', 'c1')), false);
    await snaps.removeLayer(chainId);
    assert.deepEqual(await snaps.listLayers(), []);
    assert.deepEqual(await readdir(join(root, 'l')), []);
  });

  test('an image without layers stacks on the empty dir', async () => {
    const snap = await snaps.prepare('c2', []);
    assert.deepEqual(snap.lowerDirs, [join(root, 'empty')]);
  });

  test('preparing on a missing layer or with a path-like id is InvalidParameter', async () => {
    await assert.rejects(snaps.prepare('c3', [sha256('missing')]), (err) =>
      isBerthError(err, 'InvalidParameter'),
    );
    await assert.rejects(snaps.prepare('../x', []), (err) => isBerthError(err, 'InvalidParameter'));
  });

  test('init empties tmp', async () => {
    const w = await snaps.beginLayer();
    await writeFile(join(w.dir, 'half'), 'x');
    await snaps.init();
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  test('containerRootfsSize counts the upper dir', async () => {
    const snap = await snaps.prepare('c4', []);
    await writeFile(join(snap.upperDir, 'f'), '12345');
    assert.equal(await snaps.containerRootfsSize('c4'), 5);
  });
});
