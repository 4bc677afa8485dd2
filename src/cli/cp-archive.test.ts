import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { packTar, readTar } from '../common/index.ts';
import {
  assertsDirectory,
  copyInfoDestinationPath,
  getRebaseName,
  prepareArchiveCopy,
  preserveTrailingDotOrSeparator,
  rebaseArchiveEntries,
  splitCpArg,
  splitPathDirEntry,
  tarResource,
  untarInto,
} from './cp-archive.ts';

test('container:path arguments split as docker splitCpArg does', () => {
  assert.deepEqual(splitCpArg('web:/etc/hosts'), ['web', '/etc/hosts']);
  assert.deepEqual(splitCpArg('/abs:with-colon'), ['', '/abs:with-colon']);
  assert.deepEqual(splitCpArg('./rel:x'), ['', './rel:x']);
  assert.deepEqual(splitCpArg('plain'), ['', 'plain']);
  assert.deepEqual(splitCpArg('web:'), ['web', '']);
});

test('trailing "/" and "/." survive cleaning and split into dir and entry', () => {
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'b/.'), '/a/b/.');
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'b/'), '/a/b/');
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'b'), '/a/b');
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a'), ['/', 'a']);
  assert.equal(assertsDirectory('/x/'), true);
  assert.equal(assertsDirectory('/x/.'), true);
  assert.equal(assertsDirectory('/x'), false);
  assert.deepEqual(getRebaseName('/a/link', '/a/target'), ['/a/target', 'link']);
  assert.deepEqual(getRebaseName('/a/link/', '/a/target'), ['/a/target/', 'link']);
  assert.deepEqual(getRebaseName('/a/link/.', '/a/target'), ['/a/target/.', '']);
});

const info = (path: string, exists: boolean, isDir: boolean, rebaseName = '') => ({
  path,
  exists,
  isDir,
  rebaseName,
});

test('the copy lands by docker rules: into an existing dir, as a new name, or refused', () => {
  // existing directory: extract as is, into it
  assert.deepEqual(prepareArchiveCopy(info('/s/dir', true, true), info('/d/x', true, true)), {
    dstDir: '/d/x',
  });
  // a directory onto an existing file
  assert.throws(
    () => prepareArchiveCopy(info('/s/dir', true, true), info('/d/f', true, false)),
    /cannot copy directory/,
  );
  // a file onto an existing file: renamed to the destination's name
  assert.deepEqual(prepareArchiveCopy(info('/s/a', true, false), info('/d/b', true, false)), {
    dstDir: '/d',
    rebase: ['a', 'b'],
  });
  // a directory to a new path: created under the new name
  assert.deepEqual(prepareArchiveCopy(info('/s/dir', true, true), info('/d/new', false, false)), {
    dstDir: '/d',
    rebase: ['dir', 'new'],
  });
  // "dir/." to a new path: the contents under the new name
  assert.deepEqual(prepareArchiveCopy(info('/s/dir/.', true, true), info('/d/new', false, false)), {
    dstDir: '/d',
    rebase: ['.', 'new'],
  });
  // a file to "missing/": the directory must exist
  assert.throws(
    () => prepareArchiveCopy(info('/s/a', true, false), info('/d/missing/', false, false)),
    /no such directory/,
  );
  // a link's rebase name wins over the resolved base
  assert.deepEqual(prepareArchiveCopy(info('/s/target', true, false, 'link'), info('/d/n', false, false)), {
    dstDir: '/d',
    rebase: ['link', 'n'],
  });
});

async function names(tar: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(tar))
    out.push(e.header.type === 'symlink' ? `${e.header.name} -> ${e.header.linkname}` : e.header.name);
  return out;
}

test('a host source archives under its own name; "dir/." as "./…" entries; renames replace the first match', async () => {
  const t = await mkdtemp(join(tmpdir(), 'cp-archive-'));
  try {
    await mkdir(join(t, 'src/sub'), { recursive: true });
    await writeFile(join(t, 'src/a.txt'), 'hello\n');
    await writeFile(join(t, 'src/sub/b'), 'b');
    await symlink('a.txt', join(t, 'src/link'));
    assert.deepEqual(await names(tarResource(join(t, 'src'), '')), [
      'src/',
      'src/a.txt',
      'src/link -> a.txt',
      'src/sub/',
      'src/sub/b',
    ]);
    assert.deepEqual(await names(tarResource(`${join(t, 'src')}/.`, '')), [
      './',
      './a.txt',
      './link -> a.txt',
      './sub/',
      './sub/b',
    ]);
    assert.deepEqual(await names(tarResource(join(t, 'src/a.txt'), 'renamed')), ['renamed']);
    assert.deepEqual(await names(rebaseArchiveEntries(tarResource(`${join(t, 'src')}/.`, ''), '.', 'new')), [
      'new/',
      'new/a.txt',
      'new/link -> a.txt',
      'new/sub/',
      'new/sub/b',
    ]);
  } finally {
    await rm(t, { recursive: true, force: true });
  }
});

test('extraction keeps modes, times and links, merges into directories, and refuses to escape or swap dir/file', async () => {
  const t = await mkdtemp(join(tmpdir(), 'cp-untar-'));
  try {
    const tar = packTar([
      { header: { name: 'd/', type: 'directory', mode: 0o750, mtime: 1_600_000_000 } },
      { header: { name: 'd/f', type: 'file', mode: 0o640, size: 2, mtime: 1_600_000_001 }, body: 'hi' },
      { header: { name: 'd/l', type: 'symlink', linkname: 'f' } },
      { header: { name: 'd/h', type: 'hardlink', linkname: 'd/f' } },
      { header: { name: 'deep/er/x', type: 'file', size: 0, mode: 0o600 } },
    ]);
    await untarInto(tar, t);
    assert.equal(await readFile(join(t, 'd/f'), 'utf8'), 'hi');
    assert.equal(await readFile(join(t, 'd/h'), 'utf8'), 'hi');
    assert.equal(await readlink(join(t, 'd/l')), 'f');
    assert.equal((await stat(join(t, 'd/f'))).mode & 0o777, 0o640);
    assert.equal((await stat(join(t, 'd'))).mode & 0o777, 0o750);
    assert.equal((await stat(join(t, 'd'))).mtimeMs, 1_600_000_000_000);
    assert.equal((await stat(join(t, 'd/f'))).mtimeMs, 1_600_000_001_000);
    assert.equal((await stat(join(t, 'deep/er'))).isDirectory(), true);
    await assert.rejects(
      untarInto(packTar([{ header: { name: '../evil', type: 'file', size: 0 } }]), join(t, 'd')),
      /is outside of/,
    );
    await assert.rejects(
      untarInto(
        packTar([{ header: { name: 'bad', type: 'symlink', linkname: '../../../etc' } }]),
        join(t, 'd'),
      ),
      /invalid symlink/,
    );
    await assert.rejects(
      untarInto(packTar([{ header: { name: 'd', type: 'file', size: 0 } }]), t),
      /cannot overwrite directory/,
    );
    await assert.rejects(
      untarInto(packTar([{ header: { name: 'd/f/', type: 'directory' } }]), t),
      /cannot overwrite non-directory/,
    );
  } finally {
    await rm(t, { recursive: true, force: true });
  }
});

test('a destination symlink is followed; a missing one needs an existing parent', async () => {
  const t = await mkdtemp(join(tmpdir(), 'cp-dst-'));
  try {
    await mkdir(join(t, 'real'));
    await symlink('real', join(t, 'ln'));
    assert.deepEqual(await copyInfoDestinationPath(join(t, 'ln')), info(join(t, 'real'), true, true));
    assert.deepEqual(await copyInfoDestinationPath(join(t, 'new')), info(join(t, 'new'), false, false));
    await assert.rejects(copyInfoDestinationPath(join(t, 'no/such')), /no such file or directory/);
  } finally {
    await rm(t, { recursive: true, force: true });
  }
});
