import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Digest, notFound, silentLogger } from '../../common/index.ts';
import type { ImageRecord, ImageStore } from '../../image/index.ts';
import type { ImageConfig } from '../../oci/index.ts';
import { CacheFrom, authFor, getBaseImage } from './base-image.ts';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}` as Digest;
const h = (createdBy: string, empty = false) => ({
  created: '2020-01-01T00:00:00Z',
  created_by: createdBy,
  ...(empty ? { empty_layer: true } : {}),
});
const img = (id: number, history: ImageConfig['history'], diffIds: Digest[], parent?: Digest): ImageRecord =>
  ({
    id: d(id),
    ...(parent ? { parent } : {}),
    config: { architecture: 'amd64', os: 'linux', history, rootfs: { type: 'layers', diff_ids: diffIds } },
  }) as unknown as ImageRecord;

function store(images: ImageRecord[]): ImageStore & { created: ImageConfig[] } {
  const byId = new Map(images.map((i) => [i.id as string, i]));
  const byName = new Map<string, ImageRecord>([['app:1', images.at(-1)!]]);
  return {
    created: [] as ImageConfig[],
    resolve(ref: string) {
      const r = byName.get(ref) ?? byId.get(ref);
      if (!r) throw notFound(`No such image: ${ref}`);
      return r;
    },
    get: (id: string) => byId.get(id),
  } as unknown as ImageStore & { created: ImageConfig[] };
}

// base (1 layer) → app: RUN a (layer), ENV (empty), RUN b (layer)
const base = img(1, [h('ADD rootfs')], [d(101)]);
const app = img(
  9,
  [h('ADD rootfs'), h('/bin/sh -c a'), h('/bin/sh -c #(nop)  ENV X=1', true), h('/bin/sh -c b')],
  [d(101), d(102), d(103)],
);

test('cache-from restores the steps of an image whose history continues the parent, and ends on it', async () => {
  const s = store([base, app]);
  const cf = new CacheFrom(s, ['app:1', 'missing:1'], silentLogger());
  assert.equal(cf.active, true);
  const restored: ImageConfig[] = [];
  const restore = async (c: ImageConfig) => {
    restored.push(c);
    return img(50 + restored.length, c.history, c.rootfs.diff_ids as Digest[]);
  };
  // Another command: no match.
  assert.equal(await cf.match(base, '/bin/sh -c other', restore, {}), undefined);
  const step1 = await cf.match(base, '/bin/sh -c a', restore, { Env: ['A=1'] });
  assert.equal(step1, d(51));
  assert.deepEqual(restored[0]!.rootfs.diff_ids, [d(101), d(102)]);
  assert.deepEqual(restored[0]!.config, { Env: ['A=1'] });
  const parent1 = img(51, restored[0]!.history, [d(101), d(102)]);
  const step2 = await cf.match(parent1, '/bin/sh -c #(nop)  ENV X=1', restore, {});
  // An empty layer adds no diff id.
  assert.deepEqual(restored[1]!.rootfs.diff_ids, [d(101), d(102)]);
  const parent2 = img(52, restored[1]!.history, [d(101), d(102)]);
  assert.equal(step2, d(52));
  // The last entry: the cache-from image itself.
  assert.equal(await cf.match(parent2, '/bin/sh -c b', restore, {}), app.id);
  assert.equal(restored.length, 2);
});

test('a parent whose history differs from the image matches nothing', async () => {
  const s = store([base, app]);
  const other = img(2, [h('ADD other')], [d(101)]);
  const cf = new CacheFrom(s, ['app:1'], silentLogger());
  assert.equal(await cf.match(other, '/bin/sh -c a', async () => base, {}), undefined);
});

test('with cache-from, a local hit counts only as an ancestor of a cache-from image', () => {
  const mid = img(5, [], [], d(1));
  const top = img(6, [], [], d(5));
  const s = store([base, mid, top]);
  const cf = new CacheFrom(s, [top.id], silentLogger());
  assert.equal(cf.allowsLocal(d(5)), true);
  assert.equal(cf.allowsLocal(d(1)), true);
  assert.equal(cf.allowsLocal(d(7)), false);
});

test('FROM pulls only a missing image, unless --pull', async () => {
  const s = store([base, app]);
  const pulled: string[] = [];
  const deps = {
    images: s,
    pull: async function* (ref: string) {
      pulled.push(ref);
      yield { status: 'Pulling from x', id: '1' };
      yield { status: 'Downloading', progressDetail: { current: 1, total: 2 }, id: 'abc' };
    },
  };
  const out: string[] = [];
  const opts = { signal: new AbortController().signal, out: (t: string) => out.push(t) };
  assert.equal((await getBaseImage(deps, 'app:1', { ...opts, pull: 'missing' })).id, app.id);
  assert.deepEqual(pulled, []);
  await getBaseImage(deps, 'app:1', { ...opts, pull: 'always' });
  assert.deepEqual(pulled, ['app:1']);
  assert.deepEqual(out, ['1: Pulling from x\n']);
  await assert.rejects(getBaseImage(deps, 'nope:1', { ...opts, pull: 'never' }), /No such image/);
});

test('X-Registry-Config credentials are picked by registry host', () => {
  const configs = {
    'https://index.docker.io/v1/': { username: 'hub' },
    'localhost:5000': { username: 'local' },
  };
  assert.equal(authFor('busybox', configs)?.username, 'hub');
  assert.equal(authFor('localhost:5000/a/b:1', configs)?.username, 'local');
  assert.equal(authFor('quay.io/x', configs), undefined);
});
