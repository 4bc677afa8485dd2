import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, test } from 'node:test';
import { type TarWriteEntry, packTar } from '../../common/index.ts';
import { BuildContext } from './context.ts';
import { applyCopy, planCopy } from './copy.ts';
import { type SourceFs, diskFs } from './source-fs.ts';

let dir: string;
let rootfs: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'build-copy-'));
  rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const file = (name: string, body: string | Buffer, mode = 0o644, mtime = 1000): TarWriteEntry => ({
  header: { name, type: 'file', size: Buffer.byteLength(body), mode, uid, gid, mtime },
  body,
});
const tarOf = async (entries: TarWriteEntry[]) => {
  const chunks: Buffer[] = [];
  for await (const c of packTar(entries)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
};
const receive = async (entries: TarWriteEntry[]) =>
  BuildContext.receive(
    Readable.from([await tarOf([file('Dockerfile', 'FROM x\n'), ...entries])]),
    join(dir, 'work'),
    {
      dockerfile: 'Dockerfile',
      signal: new AbortController().signal,
    },
  );
const copy = async (ctx: BuildContext, sources: string[], dest: string, options: { chmod?: number } = {}) => {
  const plan = await planCopy({
    root: ctx.dir,
    sources,
    dest,
    rootfs,
    isAdd: false,
    verb: 'COPY',
    fromStage: false,
    fs: ctx,
  });
  await applyCopy(plan, rootfs, { owner: { uid, gid }, ...options });
};
const mode = (rel: string) => lstatSync(join(rootfs, rel)).mode & 0o7777;

test('COPY writes context files from the spooled tar with their modes and mtimes; nothing is unpacked', async () => {
  const ctx = await receive([
    file('x.sh', '#!/bin/sh\n', 0o4755, 1234),
    file('d/y', 'y'.repeat(3 << 20), 0o600),
    file('d/e/z', 'z\n'),
    file('d/empty', ''),
    { header: { name: 'd/l', type: 'symlink', linkname: 'y', uid, gid, mtime: 1000 } },
  ]);
  try {
    await copy(ctx, ['x.sh', 'd'], '/a/');
    assert.equal(readFileSync(join(rootfs, 'a/x.sh'), 'utf8'), '#!/bin/sh\n');
    assert.equal(mode('a/x.sh'), 0o4755);
    assert.equal(lstatSync(join(rootfs, 'a/x.sh')).mtimeMs, 1234000);
    assert.equal(
      readFileSync(join(rootfs, 'a/y'), 'utf8'),
      'y'.repeat(3 << 20),
      'a file over the small-file limit',
    );
    assert.equal(mode('a/y'), 0o600);
    assert.equal(readFileSync(join(rootfs, 'a/e/z'), 'utf8'), 'z\n');
    assert.equal(readFileSync(join(rootfs, 'a/empty'), 'utf8'), '');
    assert.equal(readlinkSync(join(rootfs, 'a/l')), 'y');
    assert.ok(
      !existsSync(join(ctx.dir, 'x.sh')) && !existsSync(join(ctx.dir, 'd')),
      'the context is not unpacked',
    );
  } finally {
    ctx.close();
  }
});

test('--chmod applies to the copies; the same context file copied again keeps its own mode', async () => {
  const ctx = await receive([file('f', 'f\n', 0o755), file('d/g', 'g\n', 0o600)]);
  try {
    await copy(ctx, ['f', 'd'], '/c/', { chmod: 0o640 });
    await copy(ctx, ['f', 'd'], '/p/');
    assert.equal(mode('c/f'), 0o640);
    assert.equal(mode('c/g'), 0o640);
    assert.equal(mode('p/f'), 0o755);
    assert.equal(mode('p/g'), 0o600);
    assert.notEqual(
      lstatSync(join(rootfs, 'c/f')).ino,
      lstatSync(join(rootfs, 'p/f')).ino,
      'copies, not links',
    );
  } finally {
    ctx.close();
  }
});

test('a source that changed size since it was listed fails the copy', async () => {
  const src = join(dir, 'src');
  mkdirSync(src);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(src, 'f'), 'four');
  const plan = await planCopy({
    root: src,
    sources: ['f'],
    dest: '/f',
    rootfs,
    isAdd: false,
    verb: 'COPY',
    fromStage: true,
  });
  const shrunk: SourceFs = { ...diskFs, read: () => Readable.from([Buffer.from('fo')]) };
  plan.items[0]!.fs = shrunk;
  await assert.rejects(applyCopy(plan, rootfs, { owner: { uid, gid } }), /2 bytes written, 4 expected/);
});
