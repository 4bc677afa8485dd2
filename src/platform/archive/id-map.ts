import { invalidParameter } from '../../common/index.ts';

/** One range of a user namespace's id map, in the OCI runtime spec's shape (LinuxIDMapping). */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** The uid and gid maps of a user namespace (userns-remap): archive ids are container ids. */
export interface IdMap {
  uidMap: IdMapping[];
  gidMap: IdMapping[];
}

function translate(id: number, ranges: IdMapping[], from: 'containerID' | 'hostID', what: string): number {
  const to = from === 'containerID' ? 'hostID' : 'containerID';
  for (const r of ranges) {
    if (id >= r[from] && id < r[from] + r.size) return r[to] + (id - r[from]);
  }
  // Docker's idtools wording: "Container ID %d cannot be mapped to a host ID".
  throw invalidParameter(
    from === 'containerID'
      ? `Container ${what} ${id} cannot be mapped to a host ${what}`
      : `Host ${what} ${id} cannot be mapped to a container ${what}`,
  );
}

/** Archive (container) ids to host ids, for extraction; identity without a map. */
export function toHost(map: IdMap | undefined, uid: number, gid: number): [number, number] {
  if (!map) return [uid, gid];
  return [translate(uid, map.uidMap, 'containerID', 'ID'), translate(gid, map.gidMap, 'containerID', 'ID')];
}

/** Host ids to archive (container) ids, for packing; identity without a map. */
export function toContainer(map: IdMap | undefined, uid: number, gid: number): [number, number] {
  if (!map) return [uid, gid];
  return [translate(uid, map.uidMap, 'hostID', 'ID'), translate(gid, map.gidMap, 'hostID', 'ID')];
}
