/**
 * Layer copies for user-namespaced containers where the kernel or filesystem has no idmapped
 * mounts: each layer a remapped container uses is copied once per remapping (cp -a keeps modes,
 * times, xattrs such as overlay's opaque marks, hard links and whiteout devices) and every
 * entry's owner shifted into the remapped ids, the way dockerd's graph drivers keep layers under
 * a remapped data root.
 *
 * Layout under the snapshot root: `shifted/<root uid>.<root gid>/<layer key>/`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, lchown, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from '../common/index.ts';
import { type IdMap, toHost } from '../platform/index.ts';

const execFileP = promisify(execFile);

/** The folder of the copies for one remapping. */
export function shiftedRoot(snapshotRoot: string, idMap: IdMap): string {
  const [uid, gid] = toHost(idMap, 0, 0);
  return join(snapshotRoot, 'shifted', `${uid}.${gid}`);
}

/**
 * The shifted copy of `layerDir` (made now when missing) at `shiftedRoot/<key>`. Built in
 * `tmpDir` and renamed into place, so a copy is never seen half made; a concurrent maker's copy
 * wins and ours is dropped.
 */
export async function ensureShiftedLayer(
  layerDir: string,
  root: string,
  key: string,
  tmpDir: string,
  idMap: IdMap,
): Promise<string> {
  const dest = join(root, key);
  try {
    await lstat(dest);
    return dest;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  await mkdir(root, { recursive: true });
  const tmp = join(tmpDir, `shift-${randomBytes(8).toString('hex')}`);
  try {
    // `dir/.` follows the l/ link and copies the contents into the new directory.
    await execFileP('cp', ['-a', '--reflink=auto', '-T', `${layerDir}/.`, tmp]);
    await shiftOwners(tmp, idMap);
    try {
      await rename(tmp, dest);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    return dest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Every entry under `dir` (and `dir` itself) owned by the host ids its container ids map to. */
export async function shiftOwners(dir: string, idMap: IdMap): Promise<void> {
  // A hard-linked inode is shifted once, however many names it has.
  const seen = new Set<string>();
  const shift = async (path: string) => {
    const st = await lstat(path);
    const inode = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(inode)) return;
      seen.add(inode);
    }
    await lchown(path, ...toHost(idMap, st.uid, st.gid));
    if (!st.isDirectory()) return;
    for (const name of await readdir(path)) await shift(join(path, name));
  };
  await shift(dir);
}

/** Removes the copies of one layer under every remapping (the layer itself is being removed). */
export async function removeShiftedLayer(snapshotRoot: string, key: string): Promise<void> {
  let roots: string[];
  try {
    roots = await readdir(join(snapshotRoot, 'shifted'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const r of roots) await rm(join(snapshotRoot, 'shifted', r, key), { recursive: true, force: true });
}
