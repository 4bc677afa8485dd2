import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type Digest, isBerthError, sha256 } from '../common/index.ts';
import { ContentStore } from './content-store.ts';

describe('ContentStore', () => {
  let root: string;
  let store: ContentStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-content-'));
    store = new ContentStore({ root });
    await store.init();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A stream of `n` chunks so the writer sees several writes. */
  const chunks = (parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

  test('a streamed blob is stored under blobs/sha256/<hex> and reads back', async () => {
    const blob = await store.write(chunks(['hello ', 'world']));
    assert.equal(blob.digest, sha256('hello world'));
    assert.equal(blob.size, 11);
    assert.equal(store.path(blob.digest), join(root, 'blobs', 'sha256', blob.digest.slice(7)));
    assert.equal(await store.has(blob.digest), true);
    assert.deepEqual(await store.info(blob.digest), { digest: blob.digest, size: 11 });
    assert.equal(await text(await store.get(blob.digest)), 'hello world');
    assert.equal((await store.readBytes(blob.digest)).toString(), 'hello world');
  });

  test('a blob with the expected digest and size is accepted', async () => {
    const digest = sha256('abc');
    const blob = await store.write(chunks(['a', 'bc']), { digest, size: 3 });
    assert.equal(blob.digest, digest);
  });

  test('a digest mismatch is rejected and leaves nothing behind', async () => {
    const wrong = sha256('something else');
    await assert.rejects(
      store.write(chunks(['abc']), { digest: wrong }),
      (err) => isBerthError(err, 'InvalidParameter') && /digest mismatch/.test(err.message),
    );
    assert.equal(await store.has(wrong), false);
    assert.equal(await store.has(sha256('abc')), false);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  });

  test('a size mismatch is rejected and leaves nothing behind', async () => {
    await assert.rejects(store.write(chunks(['abc']), { size: 4 }), /size mismatch/);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  });

  test('a source that fails midway leaves nothing behind', async () => {
    const source = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('network reset'));
      },
    });
    await assert.rejects(store.write(source), /network reset/);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  });

  test('concurrent writers of the same and different content all succeed', async () => {
    const big = 'x'.repeat(1 << 20);
    const results = await Promise.all([
      store.write(chunks([big, 'a'])),
      store.write(chunks([big, 'a'])),
      store.write(chunks([big, 'b'])),
      store.writeBytes(`${big}a`),
    ]);
    assert.equal(results[0]!.digest, results[1]!.digest);
    assert.equal(results[0]!.digest, results[3]!.digest);
    assert.notEqual(results[0]!.digest, results[2]!.digest);
    assert.equal((await store.list()).length, 2);
    assert.equal((await store.readBytes(results[2]!.digest)).length, big.length + 1);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  });

  test('delete removes a blob and deleting an absent blob is no error', async () => {
    const { digest } = await store.writeBytes('{}');
    await store.delete(digest);
    assert.equal(await store.has(digest), false);
    await store.delete(digest);
  });

  test('get and info of an absent blob are NotFound', async () => {
    const d = sha256('absent');
    await assert.rejects(store.get(d), (err) => isBerthError(err, 'NotFound'));
    await assert.rejects(store.info(d), (err) => isBerthError(err, 'NotFound'));
  });

  test('an invalid digest is InvalidParameter', () => {
    assert.throws(
      () => store.path('sha256:xyz' as Digest),
      (err) => isBerthError(err, 'InvalidParameter'),
    );
  });

  test('init removes half-written files left by a crash', async () => {
    await writeFile(join(root, 'ingest', 'leftover'), 'junk');
    await store.init();
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  });
});
