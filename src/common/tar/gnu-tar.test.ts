// Cross-checks the codec against GNU tar, the reference implementation on every Debian machine.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readEntryBody, readTar } from './read.ts';
import { packTar } from './write.ts';

const hasGnuTar = spawnSync('tar', ['--version']).stdout?.toString().includes('GNU tar') ?? false;

async function readAll(file: string) {
  const out = new Map<string, { type: string; linkname: string; body: string; uid: number; mode: number }>();
  const { createReadStream } = await import('node:fs');
  for await (const e of readTar(createReadStream(file))) {
    out.set(e.header.name, {
      type: e.header.type,
      linkname: e.header.linkname,
      body: (await readEntryBody(e)).toString(),
      uid: e.header.uid,
      mode: e.header.mode,
    });
  }
  return out;
}

describe('GNU tar interoperability', { skip: !hasGnuTar && 'GNU tar not installed' }, () => {
  let dir: string;
  const longDir = `${'d'.repeat(90)}/${'e'.repeat(90)}`;
  const longFile = `${longDir}/${'f'.repeat(120)}`; // > 255 bytes, last part > 100
  const longTarget = `../${'t'.repeat(150)}`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-gnutar-'));
    const src = join(dir, 'src');
    mkdirSync(join(src, longDir), { recursive: true });
    writeFileSync(join(src, longFile), 'long content');
    writeFileSync(join(src, 'small'), 'small content');
    writeFileSync(join(src, 'ünï'), 'unicode');
    symlinkSync(longTarget, join(src, 'longlink'));
    execFileSync('chmod', ['4750', join(src, 'small')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'pax', 'posix', 'oldgnu']) {
    test(`reads long names and link targets from a --format=${format} archive`, async () => {
      const file = join(dir, `${format}.tar`);
      execFileSync('tar', ['-C', join(dir, 'src'), `--format=${format}`, '-cf', file, '.']);
      const got = await readAll(file);
      assert.equal(got.get(`./${longFile}`)?.body, 'long content');
      assert.equal(got.get('./longlink')?.type, 'symlink');
      assert.equal(got.get('./longlink')?.linkname, longTarget);
      assert.equal(got.get('./small')?.mode, 0o4750);
      assert.equal(got.get('./ünï')?.body, 'unicode');
      assert.equal(got.get(`./${longDir}/`)?.type, 'directory');
    });
  }

  test('reads base-256 uids from a GNU archive', async () => {
    const file = join(dir, 'b256.tar');
    execFileSync('tar', ['-C', join(dir, 'src'), '--format=gnu', '--owner=x:4000000', '-cf', file, 'small']);
    assert.equal((await readAll(file)).get('small')?.uid, 4000000);
  });

  test('reads a ustar archive with prefix-split names', async () => {
    const file = join(dir, 'ustar.tar');
    const name = `${'p'.repeat(120)}/${'q'.repeat(90)}`;
    mkdirSync(join(dir, 'u', 'p'.repeat(120)), { recursive: true });
    writeFileSync(join(dir, 'u', name), 'split');
    execFileSync('tar', ['-C', join(dir, 'u'), '--format=ustar', '-cf', file, name]);
    assert.equal((await readAll(file)).get(name)?.body, 'split');
  });

  test('GNU tar extracts what packTar writes, including long and unicode names', async () => {
    const file = join(dir, 'ours.tar');
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(
      packTar([
        { header: { name: `${longDir}/`, type: 'directory', mtime: 1700000000 } },
        { header: { name: longFile, type: 'file', mode: 0o640 }, body: 'long content' },
        { header: { name: 'ünï', type: 'file' }, body: 'unicode' },
        { header: { name: 'longlink', type: 'symlink', linkname: longTarget } },
        { header: { name: 'hard', type: 'hardlink', linkname: longFile } },
      ]),
      createWriteStream(file),
    );
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-C', out, '-xf', file]);
    assert.equal(readFileSync(join(out, longFile), 'utf8'), 'long content');
    assert.equal(readFileSync(join(out, 'hard'), 'utf8'), 'long content');
    assert.equal(readFileSync(join(out, 'ünï'), 'utf8'), 'unicode');
    assert.equal(readlinkSync(join(out, 'longlink')), longTarget);
    const listing = execFileSync('tar', ['-tvf', file]).toString();
    assert.match(listing, /-rw-r-----/);
  });
});
