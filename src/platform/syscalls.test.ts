import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  getXattr,
  hasNativeAddon,
  listXattrs,
  MNT,
  MS,
  mknod,
  mount,
  nativeConstants,
  removeXattr,
  S_IF,
  setXattr,
  umount,
  XATTR,
} from './syscalls.ts';

const skip = !hasNativeAddon() && 'native addon not built (make -C native)';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-syscalls-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the TS constant tables match the C headers', { skip }, () => {
  const c = nativeConstants();
  for (const [k, v] of Object.entries(MS)) assert.equal(v, c[`MS_${k}`], `MS_${k}`);
  assert.equal(MNT.DETACH, c.MNT_DETACH);
  assert.equal(MNT.FORCE, c.MNT_FORCE);
  assert.equal(MNT.EXPIRE, c.MNT_EXPIRE);
  assert.equal(MNT.UMOUNT_NOFOLLOW, c.UMOUNT_NOFOLLOW);
  assert.equal(S_IF.CHR, c.S_IFCHR);
  assert.equal(S_IF.BLK, c.S_IFBLK);
  assert.equal(S_IF.IFO, c.S_IFIFO);
  assert.equal(S_IF.LNK, c.S_IFLNK);
  assert.equal(XATTR.CREATE, c.XATTR_CREATE);
  assert.equal(XATTR.REPLACE, c.XATTR_REPLACE);
});

test('user xattrs round-trip binary values byte for byte', { skip }, async () => {
  await withTempDir(async (dir) => {
    const f = join(dir, 'f');
    await writeFile(f, 'x');
    const value = Buffer.from([0x80, 0xff, 0x00, 0x01, 0xfe]);
    try {
      setXattr(f, 'user.bin', value);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return; // tmpfs without user xattrs
      throw err;
    }
    setXattr(f, 'user.empty', Buffer.alloc(0));
    assert.deepEqual(getXattr(f, 'user.bin'), value);
    assert.deepEqual(getXattr(f, 'user.empty'), Buffer.alloc(0));
    assert.equal(getXattr(f, 'user.missing'), null);
    assert.deepEqual(listXattrs(f).sort(), ['user.bin', 'user.empty']);
    removeXattr(f, 'user.bin');
    assert.deepEqual(listXattrs(f), ['user.empty']);
  });
});

test('a failing call throws a system error with the errno name as code', { skip }, () => {
  assert.throws(
    () => getXattr('/nonexistent/berth/x', 'user.a'),
    (err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' &&
      err.syscall === 'lgetxattr' &&
      err.message === 'lgetxattr /nonexistent/berth/x: No such file or directory',
  );
  assert.throws(() => umount('/nonexistent/berth/x'), { code: 'ENOENT' });
});

test('xattr calls do not follow symlinks', { skip }, async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'target'), 'x');
    await symlink('target', join(dir, 'link'));
    assert.deepEqual(listXattrs(join(dir, 'link')), []);
    assert.equal(getXattr(join(dir, 'link'), 'user.a'), null);
  });
});

test('mknod creates a fifo', { skip }, async () => {
  await withTempDir(async (dir) => {
    mknod(join(dir, 'p'), 'fifo', 0o600);
    assert.ok((await stat(join(dir, 'p'))).isFIFO());
    assert.throws(() => mknod(join(dir, 'p'), 'fifo', 0o600), { code: 'EEXIST' });
  });
});

const isRoot = process.getuid?.() === 0;

test('mount and umount a tmpfs', { skip: skip || (!isRoot && 'needs root') }, async () => {
  await withTempDir(async (dir) => {
    mount('tmpfs', dir, 'tmpfs', { flags: MS.NOSUID | MS.NODEV, data: 'size=1m,mode=0710' });
    try {
      assert.equal((await stat(dir)).mode & 0o7777, 0o710);
      mknod(join(dir, 'null'), 'char', 0o666, 1, 3);
      const st = await stat(join(dir, 'null'));
      assert.ok(st.isCharacterDevice());
      assert.equal(st.rdev, (1 << 8) | 3);
    } finally {
      umount(dir, { detach: true });
    }
    assert.notEqual((await stat(dir)).mode & 0o7777, 0o710);
  });
});
