import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, test } from 'node:test';
import { type TarWriteEntry, packTar } from '../../common/index.ts';
import { fileDigest } from './cache-key.ts';
import { BuildContext } from './context.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'build-ctx-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const file = (name: string, body: string): TarWriteEntry => ({
  header: { name, type: 'file', size: Buffer.byteLength(body), mode: 0o644, uid, gid },
  body,
});
const tarOf = async (entries: TarWriteEntry[]) => {
  const chunks: Buffer[] = [];
  for await (const c of packTar(entries)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
};
const receive = (body: Buffer, dockerfile = 'Dockerfile') =>
  BuildContext.receive(Readable.from([body]), join(dir, 'work'), {
    dockerfile,
    signal: new AbortController().signal,
  });

test('the context is indexed with the digest of every file and unpacked only when asked', async () => {
  const ctx = await receive(await tarOf([file('Dockerfile', 'FROM x\n'), file('a/b.txt', 'b')]));
  assert.equal(ctx.dockerfile, 'FROM x\n');
  const host = join(ctx.dir, 'a/b.txt');
  assert.ok(!existsSync(host), 'nothing unpacked yet');
  assert.ok(ctx.lstat(join(ctx.dir, 'a'))?.isDirectory(), 'a parent the archive does not list');
  assert.deepEqual(ctx.readdir(ctx.dir).sort(), ['Dockerfile', 'a']);
  assert.equal(ctx.lstat(host)?.size, 1);
  await ctx.materialize();
  assert.equal(ctx.digests.get(host), await fileDigest(host));
  assert.ok(ctx.exact);
});

test('a file is read from its range of the spooled tar, with the mode and mtime the extractor would set', async () => {
  const ctx = await receive(
    await tarOf([
      file('Dockerfile', 'FROM x\n'),
      {
        header: { name: 'a/b.txt', type: 'file', size: 3, mode: 0o4755, uid, gid, mtime: 1234 },
        body: 'bbb',
      },
      file('a/empty', ''),
      { header: { name: 'h', type: 'hardlink', linkname: 'a/b.txt', uid, gid } },
      file('big/e', 'e'.repeat(70000)),
    ]),
  );
  const text = async (rel: string) => (await buffer(ctx.read(join(ctx.dir, rel)))).toString();
  assert.equal(await text('a/b.txt'), 'bbb');
  assert.equal(await text('a/empty'), '');
  assert.equal(await text('h'), 'bbb', 'a hard link reads its target');
  assert.equal(await text('big/e'), 'e'.repeat(70000));
  const st = ctx.lstat(join(ctx.dir, 'a/b.txt'));
  assert.equal(st?.mode, 0o4755);
  assert.equal(st?.mtimeMs, 1234000);
  assert.throws(() => ctx.read(join(ctx.dir, 'a')), /not a file/);
  assert.ok(!existsSync(join(ctx.dir, 'a')), 'nothing unpacked');
  ctx.close();
});

test('later entries replace earlier ones; hard links share their target; links climbing out are refused', async () => {
  const ctx = await receive(
    await tarOf([
      file('Dockerfile', 'FROM x\n'),
      file('d/old', 'o'),
      { header: { name: 'd', type: 'file', size: 1, mode: 0o600, uid, gid }, body: 'f' },
      { header: { name: 'h', type: 'hardlink', linkname: 'd', uid, gid } },
      { header: { name: 'l', type: 'symlink', linkname: 'd', uid, gid } },
    ]),
  );
  assert.ok(ctx.lstat(join(ctx.dir, 'd'))?.isFile());
  assert.equal(ctx.lstat(join(ctx.dir, 'd/old')), undefined);
  assert.equal(ctx.digests.get(join(ctx.dir, 'h')), ctx.digests.get(join(ctx.dir, 'd')));
  assert.equal(ctx.readlink(join(ctx.dir, 'l')), 'd');
  await assert.rejects(
    receive(
      await tarOf([
        file('Dockerfile', 'FROM x\n'),
        { header: { name: 'evil', type: 'symlink', linkname: '../../x', uid, gid } },
      ]),
    ),
    /invalid symlink/,
  );
});

test('a gzip context is unpacked too', async () => {
  const ctx = await receive(gzipSync(await tarOf([file('Dockerfile', 'FROM y\n')])));
  assert.equal(ctx.dockerfile, 'FROM y\n');
});

test('.dockerignore removes only itself and the Dockerfile from the context (moby removeDockerfile)', async () => {
  const ctx = await receive(
    await tarOf([
      file('Dockerfile', 'FROM x\n'),
      file('.dockerignore', 'secret\n.dockerignore\nDockerfile\n'),
      file('secret', 's'),
    ]),
  );
  assert.equal(ctx.dockerfile, 'FROM x\n', 'read before it is removed');
  assert.equal(ctx.lstat(join(ctx.dir, 'Dockerfile')), undefined);
  await ctx.materialize();
  assert.ok(!existsSync(join(ctx.dir, 'Dockerfile')));
  assert.ok(!existsSync(join(ctx.dir, '.dockerignore')));
  assert.ok(existsSync(join(ctx.dir, 'secret')), 'other excluded files stay, as with dockerd');
});

test('a missing Dockerfile is Docker’s error', async () => {
  await assert.rejects(receive(await tarOf([file('x', 'x')]), 'sub/Dockerfile.dev'), {
    message: 'Cannot locate specified Dockerfile: sub/Dockerfile.dev',
  });
});
