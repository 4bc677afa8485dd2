import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { copyKeyExtra, fileDigest, sourceSummary } from './cache-key.ts';
import { matchSources } from './copy.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cache-key-'));
  mkdirSync(join(root, 'dir/sub'), { recursive: true });
  writeFileSync(join(root, 'dir/a'), 'a');
  writeFileSync(join(root, 'dir/sub/b'), 'b');
  writeFileSync(join(root, 'f.txt'), 'f');
  symlinkSync('f.txt', join(root, 'link'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const summary = (sources: string[], digests?: Map<string, string>) =>
  sourceSummary(matchSources({ root, sources, verb: 'COPY', fromStage: false }), digests);

test('the summary names the kind as Docker’s history does', async () => {
  assert.match(await summary(['f.txt']), /^file:[0-9a-f]{64}$/);
  assert.match(await summary(['dir']), /^dir:[0-9a-f]{64}$/);
  assert.match(await summary(['f.txt', 'dir']), /^multi:[0-9a-f]{64}$/);
});

test('content, names and modes below a directory change the summary; mtimes do not', async () => {
  const before = await summary(['dir']);
  utimesSync(join(root, 'dir/sub/b'), 1000, 1000);
  assert.equal(await summary(['dir']), before);
  writeFileSync(join(root, 'dir/sub/b'), 'B');
  const changed = await summary(['dir']);
  assert.notEqual(changed, before);
  writeFileSync(join(root, 'dir/sub/c'), '');
  assert.notEqual(await summary(['dir']), changed);
});

test('digests taken while unpacking are used instead of reading the files', async () => {
  const host = join(root, 'f.txt');
  const real = await summary(['f.txt']);
  assert.equal(await summary(['f.txt'], new Map([[host, await fileDigest(host)]])), real);
  assert.notEqual(await summary(['f.txt'], new Map([[host, 'bogus']])), real);
});

test('a symlinked source is followed inside the context; globs expand', async () => {
  const viaLink = await summary(['link']);
  assert.match(viaLink, /^file:/);
  writeFileSync(join(root, 'f.txt'), 'changed');
  assert.notEqual(await summary(['link']), viaLink, 'the target’s content, not the link, is hashed');
  assert.match(await summary(['*.txt']), /^file:/);
  await assert.rejects(async () => summary(['nope']), /file not found in build context/);
});

test('--chown and --chmod are in the extra key', () => {
  assert.notEqual(copyKeyExtra({}), copyKeyExtra({ chown: '1:1' }));
  assert.notEqual(copyKeyExtra({ chown: '1:1' }), copyKeyExtra({ chown: '1:1', chmod: '600' }));
});
