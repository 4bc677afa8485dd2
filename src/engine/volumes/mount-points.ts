/**
 * A container's mount points, decided once at create as Docker's registerMountPoints does
 * (moby daemon/volumes.go) and stored with the container record:
 *   1. `--volumes-from c[:ro|rw]`: the other container's mount points (RW only when both allow)
 *   2. `-v` binds and volumes, replacing a volumes-from mount at the same destination
 *   3. `--mount` entries (a destination already given by `-v` is "Duplicate mount point")
 *   4. the image's and the container's VOLUMEs not mounted otherwise: anonymous volumes
 * `--tmpfs` destinations are left to the spec (they are not mount points in inspect).
 */
import { invalidParameter } from '../../common/index.ts';
import { type ContainerSpec, normalizePath, parseBind, parseVolumesFrom } from '../spec/index.ts';

export interface MountPointRecord {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name; '' for binds and tmpfs. For an anonymous volume, '' until created. */
  name: string;
  /** Bind: the host path. Volumes: '' (their path comes from the volume store). */
  source: string;
  destination: string;
  driver: string;
  /** Docker's Mode field as inspect shows it. */
  mode: string;
  rw: boolean;
  propagation: string;
  /** Copy the image's files at the destination into the volume when it is new and empty. */
  copyData: boolean;
  /** The volume was created by the engine for this container (rm -v removes it). */
  anonymous?: boolean;
  /** `-v /host:/ctr`: create the host directory at start when missing. */
  createSource?: boolean;
  nonRecursive?: boolean;
  subpath?: string;
  /** --mount volume options for a volume created by this mount. */
  volumeLabels?: Record<string, string>;
  volumeOptions?: Record<string, string>;
}

/** The other containers' mount points, for --volumes-from. Throws NotFound for an unknown one. */
export type MountPointsOf = (containerRef: string) => MountPointRecord[];

/** Docker: `Duplicate mount point: /data`. */
const duplicate = (dest: string) => invalidParameter(`Duplicate mount point: ${dest}`);

export function planMountPoints(spec: ContainerSpec, mountPointsOf: MountPointsOf): MountPointRecord[] {
  const byDest = new Map<string, MountPointRecord>();
  const storage = spec.storage;

  for (const raw of storage.volumesFrom) {
    const { container, mode } = parseVolumesFrom(raw);
    const rw = !mode.split(',').includes('ro');
    for (const m of mountPointsOf(container)) {
      if (m.type === 'tmpfs') continue;
      byDest.set(m.destination, {
        ...m,
        rw: m.rw && rw,
        copyData: false,
        anonymous: false,
        createSource: false,
      });
    }
  }

  const fromBinds = new Set<string>();
  for (const raw of storage.binds) {
    const b = parseBind(raw, storage.volumeDriver);
    if (fromBinds.has(b.destination)) throw duplicate(b.destination);
    fromBinds.add(b.destination);
    const isVolume = b.type === 'volume';
    byDest.set(b.destination, {
      type: b.type,
      name: isVolume ? b.source : '',
      source: isVolume ? '' : b.source,
      destination: b.destination,
      driver: isVolume ? b.driver || 'local' : '',
      mode: isVolume && b.mode === '' ? 'z' : b.mode,
      rw: !b.readOnly,
      propagation: b.propagation,
      copyData: isVolume && !b.noCopy,
      ...(isVolume && b.source === '' ? { anonymous: true } : {}),
      ...(isVolume ? {} : { createSource: true }),
    });
  }

  for (const m of storage.mounts) {
    const dest = normalizePath(m.target);
    if (fromBinds.has(dest)) throw duplicate(dest);
    if (m.type === 'npipe' || m.type === 'cluster') {
      throw invalidParameter(`invalid mount config for type "${m.type}": mount type unknown`);
    }
    if (m.type === 'tmpfs') {
      byDest.set(dest, {
        type: 'tmpfs',
        name: '',
        source: '',
        destination: dest,
        driver: '',
        mode: '',
        rw: !m.readOnly,
        propagation: '',
        copyData: false,
      });
      continue;
    }
    if (m.type === 'bind') {
      byDest.set(dest, {
        type: 'bind',
        name: '',
        source: normalizePath(m.source),
        destination: dest,
        driver: '',
        mode: '',
        rw: !m.readOnly,
        propagation: m.bindOptions?.propagation || 'rprivate',
        copyData: false,
        ...(m.bindOptions?.nonRecursive ? { nonRecursive: true } : {}),
        ...(m.bindOptions?.createMountpoint ? { createSource: true } : {}),
      });
      continue;
    }
    const v = m.volumeOptions;
    byDest.set(dest, {
      type: 'volume',
      name: m.source,
      source: '',
      destination: dest,
      driver: v?.driver?.name || storage.volumeDriver || 'local',
      mode: 'z',
      rw: !m.readOnly,
      propagation: '',
      copyData: !v?.noCopy,
      ...(m.source === '' ? { anonymous: true } : {}),
      ...(v?.subpath ? { subpath: v.subpath } : {}),
      ...(v?.labels ? { volumeLabels: { ...v.labels } } : {}),
      ...(v?.driver?.options ? { volumeOptions: { ...v.driver.options } } : {}),
    });
  }

  for (const raw of spec.volumes) {
    const dest = normalizePath(raw);
    if (byDest.has(dest) || storage.tmpfs[dest] !== undefined) continue;
    byDest.set(dest, {
      type: 'volume',
      name: '',
      source: '',
      destination: dest,
      driver: storage.volumeDriver || 'local',
      mode: '',
      rw: true,
      propagation: '',
      copyData: true,
      anonymous: true,
    });
  }
  return [...byDest.values()];
}
