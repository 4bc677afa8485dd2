/**
 * An overlay upper dir made into a layer directory in place (build steps commit this way instead
 * of packing the upper dir and unpacking the tar into a new directory, which wrote every byte a
 * second time; containerd's overlay snapshotter commits the same way).
 *
 * An upper dir already holds a layer in the snapshot store's format: whiteouts are 0/0 character
 * devices and opaque directories carry `trusted.overlay.opaque=y`. What differs from a layer
 * unpacked from the step's diff is cleaned here:
 * - overlay's own bookkeeping xattrs (`trusted.overlay.origin`, `impure`, `nlink`, …) are removed:
 *   they describe the mount the directory came from, and the diff never carries them;
 * - times are cut to whole seconds (atime = mtime), as a tar entry carries them (moby truncates
 *   ModTime to the second), so the layer looks the same as one pulled or loaded.
 */
import { type BigIntStats, lstatSync, lutimesSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { errnoCode } from '../common/index.ts';
import { listXattrs, removeXattr } from '../platform/index.ts';

const OVERLAY_PREFIX = 'trusted.overlay.';
const KEEP = 'trusted.overlay.opaque';

/** Cleans the tree under `dir` (not `dir` itself) as described above. */
export function normalizeUpperDir(dir: string, signal?: AbortSignal): void {
  const visit = (path: string): void => {
    for (const name of readdirSync(path)) {
      signal?.throwIfAborted();
      const child = posix.join(path, name);
      const st = lstatSync(child, { bigint: true });
      cleanXattrs(child);
      cutTimes(child, st);
      if (st.isDirectory()) visit(child);
    }
  };
  visit(dir);
}

function cleanXattrs(path: string): void {
  let names: string[];
  try {
    names = listXattrs(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') return;
    throw err;
  }
  for (const n of names) if (n.startsWith(OVERLAY_PREFIX) && n !== KEEP) removeXattr(path, n);
}

function cutTimes(path: string, st: BigIntStats): void {
  const sec = st.mtimeNs / 1_000_000_000n;
  if (st.mtimeNs % 1_000_000_000n === 0n && st.atimeNs === st.mtimeNs) return;
  const t = Number(sec);
  lutimesSync(path, t, t);
}
