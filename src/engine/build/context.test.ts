import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, test } from 'node:test';
import { type TarWriteEntry, packTar } from '../../common/index.ts';
import { fileDigest } from './cache-key.ts';
import { receiveContext } from './context.ts';

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
  receiveContext(Readable.from([body]), join(dir, 'ctx'), {
    dockerfile,
    signal: new AbortController().signal,
  });

test('the context is unpacked with the digest of every file, and the Dockerfile read', async () => {
  const ctx = await receive(await tarOf([file('Dockerfile', 'FROM x\n'), file('a/b.txt', 'b')]));
  assert.equal(ctx.dockerfile, 'FROM x\n');
  const host = join(ctx.dir, 'a/b.txt');
  assert.equal(ctx.digests.get(host), await fileDigest(host));
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
  assert.ok(!existsSync(join(ctx.dir, 'Dockerfile')));
  assert.ok(!existsSync(join(ctx.dir, '.dockerignore')));
  assert.ok(existsSync(join(ctx.dir, 'secret')), 'other excluded files stay, as with dockerd');
});

test('a missing Dockerfile is Docker’s error', async () => {
  await assert.rejects(receive(await tarOf([file('x', 'x')]), 'sub/Dockerfile.dev'), {
    message: 'Cannot locate specified Dockerfile: sub/Dockerfile.dev',
  });
});
