// Tar extraction and packing on the real filesystem as root: ownership, devices, trusted.* and
// security.* xattrs, overlay whiteouts checked through a real overlay mount, and the addon's
// mount/umount. Every temp dir and mount is removed in after() even when a test fails.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packTar, readTar } from '../../src/common/index.ts';
import { extractTar, packDir } from '../../src/platform/archive/index.ts';
import {
  getXattr,
  hasNativeAddon,
  listXattrs,
  MS,
  mknod,
  mount,
  setXattr,
  umount,
} from '../../src/platform/syscalls.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root' : !hasNativeAddon() ? 'native addon not built (make -C native)' : false;
const hasGnuTar = spawnSync('tar', ['--version']).stdout?.toString().includes('GNU tar') ?? false;

/** security.capability v2 for cap_net_bind_service (bit 10), effective: binary, with NULs. */
const CAP = Buffer.alloc(20);
CAP.writeUInt32LE(0x02000001, 0);
CAP.writeUInt32LE(1 << 10, 4);
const BINARY = Buffer.from([0x00, 0x80, 0xff, 0x0a, 0x3d, 0xc3]);

/** Everything observable about a tree, normalised so two copies compare equal. */
async function describeTree(root: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const inodes = new Map<bigint, string>();
  async function walk(rel: string) {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = await lstat(p, { bigint: true });
      const rec: Record<string, unknown> = {
        name: r,
        mode: (st.mode & 0o177777n).toString(8),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: Number(st.mtimeNs / 1_000_000_000n),
        xattrs: Object.fromEntries(
          listXattrs(p)
            .sort()
            .map((x) => [x, getXattr(p, x)?.toString('hex')]),
        ),
      };
      if (!st.isDirectory() && st.nlink > 1n) {
        const first = inodes.get(st.ino);
        if (first) rec.hardlinkOf = first;
        else inodes.set(st.ino, r);
      }
      if (st.isFile())
        rec.sha = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
      if (st.isSymbolicLink()) rec.link = await readlink(p);
      if (st.isCharacterDevice() || st.isBlockDevice()) rec.rdev = Number(st.rdev);
      out.push(rec);
      if (st.isDirectory()) await walk(r);
    }
  }
  await walk('');
  return out;
}

describe('archive on the real filesystem', { skip }, () => {
  let tmp: string;
  const mounts: string[] = [];
  const dir = (name: string) => join(tmp, name);

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'berth-archive-it-'));
  });
  after(() => {
    for (const m of mounts.reverse()) {
      try {
        umount(m, { detach: true });
      } catch {
        // already unmounted by its test
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A tree with every kind of entry and every piece of metadata we promise to keep. */
  async function makeTree(src: string): Promise<void> {
    await mkdir(join(src, 'dir/sub'), { recursive: true });
    await mkdir(join(src, 'sticky'), { mode: 0o700 });
    await chmod(join(src, 'sticky'), 0o1777);
    await writeFile(join(src, 'dir/setuid'), 'suid');
    await lchown(join(src, 'dir/setuid'), 1234, 5678);
    await chmod(join(src, 'dir/setuid'), 0o4755);
    await writeFile(join(src, 'dir/setgid'), 'sgid');
    await chmod(join(src, 'dir/setgid'), 0o2750);
    await writeFile(join(src, 'big'), Buffer.alloc(300_000, 0x5a));
    await writeFile(join(src, 'empty'), '');
    await writeFile(join(src, 'caps'), '#!/bin/true');
    setXattr(join(src, 'caps'), 'security.capability', CAP);
    setXattr(join(src, 'caps'), 'user.binary', BINARY);
    setXattr(join(src, 'dir'), 'trusted.berth', BINARY);
    await link(join(src, 'dir/setuid'), join(src, 'hardlink'));
    await symlink('dir/setuid', join(src, 'symlink'));
    await symlink('/nonexistent/absolute', join(src, 'dangling'));
    await lchown(join(src, 'symlink'), 42, 43);
    mknod(join(src, 'fifo'), 'fifo', 0o640);
    mknod(join(src, 'null'), 'char', 0o666, 1, 3);
    mknod(join(src, 'sda'), 'block', 0o660, 8, 1);
    await chmod(join(src, 'null'), 0o666);
    await chmod(join(src, 'fifo'), 0o640);
    await writeFile(join(src, `dir/sub/${'long'.repeat(40)}`), 'long name');
    await writeFile(join(src, 'dir/sub/ünï'), 'unicode');
    await lchown(join(src, 'dir/sub'), 100000, 100000);
    // Times last, deepest first, so creating children does not move them.
    let t = 1_600_000_000;
    for (const p of [
      'dir/sub/ünï',
      `dir/sub/${'long'.repeat(40)}`,
      'dir/sub',
      'dir/setuid',
      'dir/setgid',
      'dir',
    ]) {
      await utimes(join(src, p), t, t++);
    }
    await lutimes(join(src, 'symlink'), 1_500_000_000, 1_500_000_000);
  }

  test('pack then extract keeps modes, owners, times, links, devices and xattrs byte for byte', async () => {
    const src = dir('rt-src');
    const dest = dir('rt-dest');
    await mkdir(src);
    await makeTree(src);
    const summary = await extractTar(packDir(src), dest, { whiteouts: 'none', sameOwner: true });
    // Regular files, plus the symlinks' target lengths as Docker counts a layer's size.
    assert.equal(
      summary.size,
      4 + 4 + 300_000 + 11 + 9 + 7 + 'dir/setuid'.length + '/nonexistent/absolute'.length,
    );
    const want = await describeTree(src);
    assert.deepEqual(await describeTree(dest), want);
    const caps = want.find((r) => r.name === 'caps')!.xattrs as Record<string, string>;
    assert.equal(caps['security.capability'], CAP.toString('hex'));
    assert.equal(
      (want.find((r) => r.name === 'dir')!.xattrs as Record<string, string>)['trusted.berth'],
      BINARY.toString('hex'),
    );
  });

  test('GNU tar --xattrs archives extract identically (long names, PAX, xattrs)', {
    skip: !hasGnuTar && 'no GNU tar',
  }, async () => {
    const src = dir('gnu-src');
    const dest = dir('gnu-dest');
    await mkdir(src);
    await makeTree(src);
    const file = dir('gnu.tar');
    execFileSync('tar', [
      '--xattrs',
      '--xattrs-include=*',
      '--format=pax',
      '--numeric-owner',
      '-C',
      src,
      '-cf',
      file,
      '.',
    ]);
    const { createReadStream } = await import('node:fs');
    await extractTar(createReadStream(file), dest, { whiteouts: 'none', sameOwner: true });
    assert.deepEqual(await describeTree(dest), await describeTree(src));
  });

  test('GNU tar extracts what packDir writes identically', { skip: !hasGnuTar && 'no GNU tar' }, async () => {
    const src = dir('gnu2-src');
    const dest = dir('gnu2-dest');
    await mkdir(src);
    await mkdir(dest);
    await makeTree(src);
    const file = dir('ours.tar');
    await writeFile(file, packDir(src));
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', file, '-C', dest]);
    assert.deepEqual(await describeTree(dest), await describeTree(src));
  });

  test('an id map shifts owners on extraction and back on packing', async () => {
    const dest = dir('idmap');
    const idMap = {
      uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMap: [{ containerID: 0, hostID: 200000, size: 65536 }],
    };
    await extractTar(
      packTar([
        { header: { name: 'd/', type: 'directory', uid: 0, gid: 0 } },
        { header: { name: 'd/f', type: 'file', uid: 1000, gid: 50, mode: 0o4755 }, body: 'x' },
        { header: { name: '.wh.gone', type: 'file', uid: 3, gid: 4 }, body: '' },
      ]),
      dest,
      { whiteouts: 'overlay', sameOwner: true, idMap },
    );
    const f = await lstat(join(dest, 'd/f'));
    assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [101000, 200050, 0o4755]);
    const wh = await lstat(join(dest, 'gone'));
    assert.deepEqual([wh.uid, wh.gid], [100003, 200004]);
    const owners: string[] = [];
    for await (const e of readTar(packDir(dest, { idMap })))
      owners.push(`${e.header.name}:${e.header.uid}:${e.header.gid}`);
    assert.deepEqual(owners, ['d/:0:0', 'd/f:1000:50', 'gone:3:4']);
  });

  test('a symlink to / followed by a write lands inside the root, not on the host', async () => {
    const dest = dir('escape');
    const name = `berth-escape-${process.pid}`;
    await extractTar(
      packTar([
        { header: { name: 'slash', type: 'symlink', linkname: '/' } },
        { header: { name: `slash/tmp/${name}`, type: 'file' }, body: 'x' },
        { header: { name: 'hostetc', type: 'symlink', linkname: '/etc' } },
        { header: { name: `hostetc/${name}`, type: 'file' }, body: 'x' },
      ]),
      dest,
      { whiteouts: 'none', sameOwner: true },
    );
    assert.equal(existsSync(`/tmp/${name}`), false);
    assert.equal(existsSync(`/etc/${name}`), false);
    assert.equal(await readFile(join(dest, 'tmp', name), 'utf8'), 'x');
    assert.equal(await readFile(join(dest, 'etc', name), 'utf8'), 'x');
  });

  test("'overlay' whiteouts become 0/0 char devices and opaque xattrs that a real overlay mount honours", async () => {
    const lower1 = dir('ov-lower1');
    const lower2 = dir('ov-lower2');
    await extractTar(
      packTar([
        { header: { name: 'keep', type: 'file' }, body: 'keep' },
        { header: { name: 'deleted', type: 'file' }, body: 'deleted' },
        { header: { name: 'opaque/', type: 'directory' } },
        { header: { name: 'opaque/hidden', type: 'file' }, body: 'hidden' },
      ]),
      lower1,
      { whiteouts: 'overlay', sameOwner: true },
    );
    await extractTar(
      packTar([
        { header: { name: '.wh.deleted', type: 'file', uid: 7, gid: 8 }, body: '' },
        { header: { name: 'opaque/', type: 'directory' } },
        { header: { name: 'opaque/.wh..wh..opq', type: 'file' }, body: '' },
        { header: { name: 'opaque/visible', type: 'file' }, body: 'visible' },
      ]),
      lower2,
      { whiteouts: 'overlay', sameOwner: true },
    );
    const wh = await lstat(join(lower2, 'deleted'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(wh.uid, 7);
    assert.equal(existsSync(join(lower2, '.wh.deleted')), false);
    assert.deepEqual(getXattr(join(lower2, 'opaque'), 'trusted.overlay.opaque'), Buffer.from('y'));
    assert.equal(existsSync(join(lower2, 'opaque/.wh..wh..opq')), false);

    const upper = dir('ov-upper');
    const work = dir('ov-work');
    const merged = dir('ov-merged');
    await Promise.all([mkdir(upper), mkdir(work), mkdir(merged)]);
    mount('overlay', merged, 'overlay', {
      data: `lowerdir=${lower2}:${lower1},upperdir=${upper},workdir=${work}`,
    });
    mounts.push(merged);
    try {
      assert.deepEqual((await readdir(merged)).sort(), ['keep', 'opaque']);
      assert.deepEqual(await readdir(join(merged, 'opaque')), ['visible']);

      // Changes in the merged view show up in the upper dir as overlay whiteouts, and
      // packDir(overlayWhiteouts) turns them back into Docker's .wh. entries.
      await rm(join(merged, 'keep'));
      await rm(join(merged, 'opaque'), { recursive: true });
      await mkdir(join(merged, 'opaque'));
      await writeFile(join(merged, 'opaque/new'), 'new');
    } finally {
      umount(merged);
      mounts.pop();
    }
    const entries: string[] = [];
    for await (const e of readTar(packDir(upper, { overlayWhiteouts: true }))) {
      entries.push(`${e.header.type}:${e.header.name}`);
      assert.equal([...e.header.xattrs.keys()].filter((k) => k.startsWith('trusted.overlay.')).length, 0);
    }
    assert.deepEqual(entries, [
      'file:.wh.keep',
      'directory:opaque/',
      'file:opaque/.wh..wh..opq',
      'file:opaque/new',
    ]);
  });

  test("the addon's mount and umount work on a tmpfs", async () => {
    const target = dir('tmpfs');
    await mkdir(target);
    mount('tmpfs', target, 'tmpfs', { flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: 'size=4m,mode=0700' });
    mounts.push(target);
    await writeFile(join(target, 'f'), 'x');
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    const line = mountinfo.split('\n').find((l) => l.split(' ')[4] === target);
    assert.ok(line, 'the tmpfs is in mountinfo');
    assert.match(line, /nosuid,nodev,noexec/);
    mount(null, target, null, { flags: MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC });
    await assert.rejects(writeFile(join(target, 'g'), 'x'), { code: 'EROFS' });
    umount(target);
    mounts.pop();
    assert.equal(existsSync(join(target, 'f')), false);
    assert.throws(() => umount(target), { code: 'EINVAL' });
  });
});
