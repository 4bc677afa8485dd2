/**
 * User namespaces (berthd --userns-remap, docker run --userns): which containers get one, what
 * Docker refuses with it, and the data-root permissions the remapped root needs.
 *
 * berth keeps one data root for remapped and unremapped containers (Docker keeps a separate
 * `<data-root>/<uid>.<gid>/` tree with layers unpacked under shifted ids): image layers stay in
 * container ids and are idmapped into a remapped container's overlay (SnapshotStore.mount with
 * idMap), so images are shared and need no re-pull. Where the kernel or filesystem has no
 * idmapped mounts, a remapped container's layers are chowned copies made once per layer and
 * remapping (image/shifted-layers.ts). What a remapped container writes (its upper dir, its
 * volumes) is owned by the remapped host ids, as with Docker.
 */
import { chmod, chown, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HostConfig } from '../../api/types/index.ts';
import { type Logger, conflict, invalidParameter } from '../../common/index.ts';
import { type UsernsRemap, idmapMounts, umount } from '../../platform/index.ts';

/** The remapping a container runs with: the daemon's, unless the container asked for --userns=host. */
export function containerRemap(
  remap: UsernsRemap | undefined,
  hostConfig: Pick<HostConfig, 'UsernsMode'>,
): UsernsRemap | undefined {
  return remap && (hostConfig.UsernsMode ?? '') !== 'host' ? remap : undefined;
}

/**
 * A container's files belong to the remapping it was created with (its upper dir and volumes hold
 * those host ids). Started under another one it would find them foreign: refused. (dockerd keeps
 * a data root per remapping, so such a container is not even listed there.)
 */
export function checkSameRemap(
  record: { id: string; remappedRoot?: { uid: number; gid: number } },
  remap: UsernsRemap | undefined,
): void {
  const was = record.remappedRoot;
  const now = remap?.root;
  if (was?.uid === now?.uid && was?.gid === now?.gid) return;
  const describe = (r?: { uid: number; gid: number }) =>
    r ? `user namespace remapping to ${r.uid}:${r.gid}` : 'no user namespace remapping';
  throw conflict(
    `container ${record.id} was created with ${describe(was)} and berthd now runs it with ${describe(now)}: remove it and create it again`,
  );
}

/** dockerd's verifyPlatformContainerSettings checks for user-namespaced containers, word for word. */
export function checkUsernsConflicts(
  hostConfig: Pick<HostConfig, 'UsernsMode' | 'Privileged' | 'NetworkMode' | 'PidMode'>,
  remapOn: boolean,
): void {
  if (!remapOn || (hostConfig.UsernsMode ?? '') === 'host') return;
  if (hostConfig.Privileged) {
    throw invalidParameter(
      'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode',
    );
  }
  if (hostConfig.NetworkMode === 'host') {
    throw invalidParameter("cannot share the host's network namespace when user namespaces are enabled");
  }
  if (hostConfig.PidMode === 'host') {
    throw invalidParameter('cannot share the host PID namespace when user namespaces are enabled');
  }
}

/**
 * The data root as dockerd's setupDaemonRoot leaves it with --userns-remap: 0711, and every
 * directory above it searchable by the remapped root (it must reach the container's rootfs and
 * files), else the daemon refuses to start. The containers folder (0710) gets the remapped root's
 * group, so the container can reach its hostname, hosts and resolv.conf. Returns whether
 * idmapped mounts work here (else the layers are given as chowned copies).
 */
export async function prepareRemappedRoot(
  dataRoot: string,
  remap: UsernsRemap,
  log?: Logger,
): Promise<{ idmappedMounts: boolean }> {
  await chmod(dataRoot, 0o711);
  for (let dir = dirname(dataRoot); dir !== dirname(dir); dir = dirname(dir)) {
    const st = await stat(dir);
    const perm = st.mode & 0o777;
    const ok =
      (st.uid === remap.root.uid && (perm & 0o100) !== 0) ||
      (st.gid === remap.root.gid && (perm & 0o010) !== 0) ||
      (perm & 0o001) !== 0;
    if (!ok) {
      throw invalidParameter(
        `a subdirectory in your graphroot path (${dataRoot}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`,
      );
    }
  }
  const containers = join(dataRoot, 'containers');
  await mkdir(containers, { recursive: true, mode: 0o710 });
  await chown(containers, 0, remap.root.gid);
  // BERTH_NO_IDMAPPED_MOUNTS=1 takes the copy path on purpose (tests; hosts where they misbehave).
  const problem =
    process.env.BERTH_NO_IDMAPPED_MOUNTS === '1'
      ? 'BERTH_NO_IDMAPPED_MOUNTS=1'
      : await probeIdmappedMounts(dataRoot, remap);
  if (problem) {
    log?.warn('no idmapped mounts: remapped containers get chowned copies of their layers', { problem });
  }
  return { idmappedMounts: problem === undefined };
}

/**
 * Remapped containers see the image layers through idmapped mounts (Linux 5.12+, and overlay
 * over idmapped layers since 5.19, on a filesystem that supports them): tried once at daemon
 * start. Returns what is missing, or undefined when they work.
 */
async function probeIdmappedMounts(dataRoot: string, remap: UsernsRemap): Promise<string | undefined> {
  const dir = await mkdtemp(join(dataRoot, '.idmap-probe-'));
  const source = join(dir, 'source');
  const target = join(dir, 'target');
  try {
    await mkdir(source);
    await mkdir(target);
    try {
      idmapMounts([{ source, target }], remap.idMap);
    } catch (err) {
      return (err as Error).message;
    }
    const st = await stat(target);
    umount(target, { detach: true });
    return st.uid === remap.root.uid ? undefined : `an idmapped mount shows root as ${st.uid}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A container's folder (0710) readable for its remapped root, as dockerd creates it. */
export async function shareContainerDir(dir: string, remap: UsernsRemap): Promise<void> {
  await chown(dir, 0, remap.root.gid);
}

/** Files the engine writes for a remapped container (hostname, hosts, resolv.conf): its root's. */
export async function chownToRemappedRoot(paths: string[], remap: UsernsRemap): Promise<void> {
  for (const p of paths) await chown(p, remap.root.uid, remap.root.gid);
}
