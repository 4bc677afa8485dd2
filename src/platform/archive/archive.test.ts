import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { packTar, readTar, type TarWriteEntry } from '../../common/index.ts';
import { hasNativeAddon } from '../syscalls.ts';
import { extractTar } from './extract.ts';
import { packDir } from './pack.ts';
import { toContainer, toHost } from './id-map.ts';
import { cleanEntryPath, linkStaysInside } from './root-path.ts';

const skip = !hasNativeAddon() && 'native addon not built (make -C native)';

describe('entry path cleaning', () => {
  const ok: [string, string][] = [
    ['a/b', 'a/b'],
    ['./a/b/', 'a/b'],
    ['/etc/passwd', 'etc/passwd'],
    ['/../x', 'x'],
    ['a/../b', 'b'],
    ['.', ''],
    ['./', ''],
    ['//a//b', 'a/b'],
  ];
  for (const [name, want] of ok)
    test(`${JSON.stringify(name)} cleans to ${JSON.stringify(want)}`, () =>
      assert.equal(cleanEntryPath(name), want));
  for (const name of ['..', '../x', 'a/../../x', './../x']) {
    test(`${JSON.stringify(name)} is rejected as escaping`, () => {
      assert.throws(() => cleanEntryPath(name), {
        kind: 'InvalidParameter',
        message: `invalid tar entry path: ${name}`,
      });
    });
  }
  const links: [string, string, boolean][] = [
    ['a/l', '../b', true],
    ['a/l', '../../b', false],
    ['l', '/etc', true],
    ['l', '/', true],
    ['l', '..', false],
    ['a/b/l', '../../../../../../etc', false],
  ];
  for (const [rel, target, inside] of links) {
    test(`symlink ${rel} -> ${target} ${inside ? 'stays inside' : 'escapes'}`, () =>
      assert.equal(linkStaysInside(rel, target), inside));
  }
});

describe('id maps', () => {
  const map = {
    uidMap: [
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 200000, size: 1 },
    ],
    gidMap: [{ containerID: 0, hostID: 300000, size: 65536 }],
  };
  test('container ids map to host ids range by range and back', () => {
    assert.deepEqual(toHost(map, 0, 5), [100000, 300005]);
    assert.deepEqual(toHost(map, 1000, 0), [200000, 300000]);
    assert.deepEqual(toContainer(map, 200000, 300005), [1000, 5]);
    assert.deepEqual(toHost(undefined, 7, 8), [7, 8]);
  });
  test('an id outside every range is an InvalidParameter error', () => {
    assert.throws(() => toHost(map, 1001, 0), {
      kind: 'InvalidParameter',
      message: 'Container ID 1001 cannot be mapped to a host ID',
    });
    assert.throws(() => toContainer(map, 0, 0), { kind: 'InvalidParameter' });
  });
});

describe('extraction and packing without root', { skip }, () => {
  let dir: string;
  let dest: string;
  let outside: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-archive-'));
    dest = join(dir, 'root');
    outside = join(dir, 'outside');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const extract = (entries: TarWriteEntry[], opts: Partial<Parameters<typeof extractTar>[2]> = {}) =>
    extractTar(packTar(entries), dest, { whiteouts: 'none', sameOwner: false, ...opts });

  test('files, directories, symlinks and hard links land with their modes and times', async () => {
    const summary = await extract([
      { header: { name: 'd/', type: 'directory', mode: 0o750, mtime: 1_000_000 } },
      { header: { name: 'd/f', type: 'file', mode: 0o640, mtime: 1_000_001 }, body: 'hello' },
      { header: { name: 'd/l', type: 'symlink', linkname: 'f', mtime: 1_000_002 } },
      { header: { name: 'd/h', type: 'hardlink', linkname: 'd/f' } },
      { header: { name: 'deep/er/file', type: 'file' }, body: 'x' },
    ]);
    // 5 + 1 bytes of files, 1 for the symlink's target (moby's directory.Size); the hard link adds none.
    assert.deepEqual(summary, { size: 7, entries: 5 });
    assert.equal(await readFile(join(dest, 'd/f'), 'utf8'), 'hello');
    assert.equal((await stat(join(dest, 'd/f'))).mode & 0o7777, 0o640);
    assert.equal((await stat(join(dest, 'd'))).mode & 0o7777, 0o750);
    assert.equal(
      (await stat(join(dest, 'd'))).mtimeMs,
      1_000_000_000,
      'directory time set after its contents',
    );
    assert.equal((await stat(join(dest, 'd/f'))).mtimeMs, 1_000_001_000);
    assert.equal((await lstat(join(dest, 'd/l'))).mtimeMs, 1_000_002_000);
    assert.equal(await readlink(join(dest, 'd/l')), 'f');
    assert.equal((await stat(join(dest, 'd/h'))).ino, (await stat(join(dest, 'd/f'))).ino);
    assert.equal((await stat(join(dest, 'deep/er'))).mode & 0o777, 0o755, 'missing parents are created 0755');
  });

  test('an existing file is replaced and an existing directory is kept', async () => {
    await mkdir(join(dest, 'keep'), { recursive: true });
    await writeFile(join(dest, 'keep/old'), 'old');
    await writeFile(join(dest, 'file'), 'old');
    await extract([
      { header: { name: 'keep/', type: 'directory', mode: 0o711 } },
      { header: { name: 'file', type: 'file' }, body: 'new' },
    ]);
    assert.equal(await readFile(join(dest, 'keep/old'), 'utf8'), 'old');
    assert.equal((await stat(join(dest, 'keep'))).mode & 0o777, 0o711);
    assert.equal(await readFile(join(dest, 'file'), 'utf8'), 'new');
  });

  test('noOverwriteDirNonDir refuses to replace a directory with a file', async () => {
    await mkdir(join(dest, 'd'), { recursive: true });
    await assert.rejects(
      extract([{ header: { name: 'd', type: 'file' }, body: '' }], { noOverwriteDirNonDir: true }),
      /cannot overwrite directory/,
    );
  });

  test('a ../ entry is rejected and nothing is written outside', async () => {
    await assert.rejects(
      extract([{ header: { name: '../outside', type: 'file' }, body: 'x' }]),
      /invalid tar entry path: \.\.\/outside/,
    );
    assert.equal(existsSync(outside), false);
  });

  test('an absolute entry name lands inside the root', async () => {
    await extract([{ header: { name: `${outside}/x`, type: 'file' }, body: 'x' }]);
    assert.equal(existsSync(outside), false);
    assert.equal(readFileSync(join(dest, outside, 'x'), 'utf8'), 'x');
  });

  test('writing through a symlinked parent stays inside the root (like chroot)', async () => {
    await mkdir(outside);
    await extract([
      { header: { name: 'abs', type: 'symlink', linkname: outside } },
      { header: { name: 'abs/passwd', type: 'file' }, body: 'pwned' },
      { header: { name: 'root', type: 'symlink', linkname: '/' } },
      { header: { name: 'root/x', type: 'file' }, body: 'x' },
      { header: { name: 'd/', type: 'directory' } },
      { header: { name: 'd/up', type: 'symlink', linkname: '..' } },
      { header: { name: 'd/up/up2', type: 'file' }, body: 'y' },
    ]);
    assert.equal(existsSync(join(outside, 'passwd')), false);
    assert.equal(readFileSync(join(dest, outside, 'passwd'), 'utf8'), 'pwned');
    assert.equal(readFileSync(join(dest, 'x'), 'utf8'), 'x');
    assert.equal(readFileSync(join(dest, 'up2'), 'utf8'), 'y');
  });

  test('a symlink already on disk pointing outside is resolved inside the root', async () => {
    await mkdir(outside);
    await mkdir(dest);
    await symlink(outside, join(dest, 'evil'));
    await symlink('../../../../../..', join(dest, 'dots'));
    await extract([
      { header: { name: 'evil/a', type: 'file' }, body: 'a' },
      { header: { name: 'dots/b', type: 'file' }, body: 'b' },
    ]);
    assert.deepEqual(existsSync(join(outside, 'a')), false);
    assert.equal(readFileSync(join(dest, 'b'), 'utf8'), 'b');
  });

  test('a final-component symlink is replaced, never written through', async () => {
    await mkdir(outside);
    await writeFile(join(outside, 'target'), 'safe');
    await extract([
      { header: { name: 'l', type: 'symlink', linkname: `${outside}/target` } },
      { header: { name: 'l', type: 'file' }, body: 'overwritten' },
    ]);
    assert.equal(readFileSync(join(outside, 'target'), 'utf8'), 'safe');
    assert.equal(readFileSync(join(dest, 'l'), 'utf8'), 'overwritten');
  });

  test('a symlink loop in a parent is an error, not a hang', async () => {
    await assert.rejects(
      extract([
        { header: { name: 'loop', type: 'symlink', linkname: '/loop' } },
        { header: { name: 'loop/x', type: 'file' }, body: 'x' },
      ]),
      /too many levels of symbolic links/,
    );
  });

  test('a symlink whose target climbs out lexically is rejected, as Docker does', async () => {
    await assert.rejects(
      extract([{ header: { name: 'a/l', type: 'symlink', linkname: '../../etc' } }]),
      /invalid symlink/,
    );
  });

  test('a hard link to a target outside the root is rejected', async () => {
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 's');
    await assert.rejects(
      extract([{ header: { name: 'h', type: 'hardlink', linkname: '../outside/secret' } }]),
      /invalid hardlink/,
    );
  });

  test('a hard link through a symlinked parent resolves inside the root', async () => {
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 's');
    await assert.rejects(
      extract([
        { header: { name: 'l', type: 'symlink', linkname: outside } },
        { header: { name: 'h', type: 'hardlink', linkname: 'l/secret' } },
      ]),
      { code: 'ENOENT' },
    );
  });

  test("'apply' whiteouts delete files and an opaque directory's earlier contents", async () => {
    await mkdir(join(dest, 'd/sub'), { recursive: true });
    await writeFile(join(dest, 'd/old'), 'x');
    await writeFile(join(dest, 'gone'), 'x');
    await extract(
      [
        { header: { name: 'd/', type: 'directory' } },
        { header: { name: 'd/.wh..wh..opq', type: 'file' }, body: '' },
        { header: { name: 'd/new', type: 'file' }, body: 'n' },
        { header: { name: '.wh.gone', type: 'file' }, body: '' },
        { header: { name: 'missing/.wh.x', type: 'file' }, body: '' },
        { header: { name: 'missing2/.wh..wh..opq', type: 'file' }, body: '' },
      ],
      { whiteouts: 'apply' },
    );
    assert.equal(existsSync(join(dest, 'missing')), false, 'no directory is created for a whiteout');
    assert.equal(existsSync(join(dest, 'missing2')), false);
    assert.equal(existsSync(join(dest, 'd/old')), false);
    assert.equal(existsSync(join(dest, 'd/sub')), false);
    assert.equal(existsSync(join(dest, 'd/new')), true);
    assert.equal(existsSync(join(dest, 'gone')), false);
    assert.equal(existsSync(join(dest, '.wh.gone')), false);
  });

  test('packing a tree twice gives identical bytes, and extracting it reproduces it', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'b/c'), { recursive: true });
    await writeFile(join(src, 'b/c/file'), 'content');
    await writeFile(join(src, 'a'), 'a');
    await symlink('b/c/file', join(src, 'link'));
    const { link } = await import('node:fs/promises');
    await link(join(src, 'a'), join(src, 'z-hard'));
    const bytes = async () => Buffer.concat(await packDir(src).toArray());
    const first = await bytes();
    assert.deepEqual(first, await bytes());
    const names: string[] = [];
    for await (const e of readTar([first])) names.push(`${e.header.type}:${e.header.name}`);
    assert.deepEqual(names, [
      'file:a',
      'directory:b/',
      'directory:b/c/',
      'file:b/c/file',
      'symlink:link',
      'hardlink:z-hard',
    ]);
    await extractTar([first], dest, { whiteouts: 'none', sameOwner: false });
    assert.equal(readFileSync(join(dest, 'b/c/file'), 'utf8'), 'content');
    assert.equal((await stat(join(dest, 'z-hard'))).ino, (await stat(join(dest, 'a'))).ino);
  });

  test('packDir include and rebaseNames select and rename paths', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'x/y'), { recursive: true });
    await writeFile(join(src, 'x/y/f'), 'f');
    await writeFile(join(src, 'other'), 'o');
    const names: string[] = [];
    for await (const e of readTar(packDir(src, { include: ['x'], rebaseNames: { x: 'renamed' } })))
      names.push(e.header.name);
    assert.deepEqual(names, ['renamed/', 'renamed/y/', 'renamed/y/f']);
  });

  test('an aborted extraction stops with an AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      extract([{ header: { name: 'a', type: 'file' }, body: 'a' }], { signal: ac.signal }),
      { name: 'AbortError' },
    );
  });
});
