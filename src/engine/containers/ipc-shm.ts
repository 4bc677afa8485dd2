/**
 * /dev/shm for the IPC modes (daemon/container_operations_unix.go setupIpcDirs):
 *   private (default) the runtime's own tmpfs from the base spec's mounts;
 *   shareable         a tmpfs berthd mounts at containers/<id>/mounts/shm, bind-mounted to
 *                     /dev/shm, so `--ipc container:<id>` can share it;
 *   container:<x>     x's shm directory (x must be running and shareable or host);
 *   host              the host's /dev/shm;
 *   none              no /dev/shm at all.
 * Lifecycle: start calls prepareShm (which registers its unmount on the start's CleanupStack);
 * the exit cleanup calls releaseShm.
 */
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CleanupStack, conflict, errnoCode, invalidParameter } from '../../common/index.ts';
import { MS, mount, umount } from '../../platform/index.ts';

export function shmDir(containerDir: string): string {
  return join(containerDir, 'mounts', 'shm');
}

export interface IpcDonor {
  id: string;
  running: boolean;
  ipcMode: string;
  dir: string;
}

/**
 * The host directory to bind at /dev/shm, or undefined when the runtime's default applies.
 * `donor` looks up `container:<x>`.
 */
export async function prepareShm(
  ipcMode: string,
  opts: {
    containerDir: string;
    shmSize: number;
    undo: CleanupStack;
    donor: (ref: string) => IpcDonor;
    /** The daemon's remapped root (--userns-remap) owns the shm, as dockerd's setupIpcDirs does. */
    owner?: { uid: number; gid: number };
  },
): Promise<string | undefined> {
  if (ipcMode === 'host') return '/dev/shm';
  if (ipcMode === 'shareable') {
    const dir = shmDir(opts.containerDir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    mount('shm', dir, 'tmpfs', {
      flags: MS.NOSUID | MS.NODEV | MS.NOEXEC,
      data: `mode=1777,size=${opts.shmSize}`,
    });
    if (opts.owner) {
      await chown(join(opts.containerDir, 'mounts'), opts.owner.uid, opts.owner.gid);
      await chown(dir, opts.owner.uid, opts.owner.gid);
    }
    opts.undo.defer(async () => releaseShm(opts.containerDir));
    return dir;
  }
  if (ipcMode.startsWith('container:')) {
    const d = opts.donor(ipcMode.slice('container:'.length));
    if (!d.running) throw conflict(`cannot join IPC of a non running container: ${d.id}`);
    if (d.ipcMode === 'host') return '/dev/shm';
    // daemon/container_operations_unix.go getIpcContainer, word for word.
    if (d.ipcMode !== 'shareable') {
      throw invalidParameter('non-shareable IPC (hint: use IpcMode:shareable for the donor container)');
    }
    return shmDir(d.dir);
  }
  return undefined;
}

/** Unmounts a shareable container's shm (no-op when it is not mounted). */
export function releaseShm(containerDir: string): void {
  try {
    umount(shmDir(containerDir), { detach: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
}
