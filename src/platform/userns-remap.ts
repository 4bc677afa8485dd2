/**
 * The daemon's `--userns-remap`, resolved as dockerd resolves it (daemon/daemon_unix.go
 * parseRemappedRoot and setupRemappedRoot, pkg/idtools): the value names a host user and
 * optionally a group (`user`, `user:group`, `uid`, `uid:gid`, or `default` for the `dockremap`
 * user, created when missing); the user's ranges in /etc/subuid and the group's in /etc/subgid,
 * sorted by start, become the container's uid and gid maps, one map entry per range, the container
 * ids running on from 0. Root cannot be remapped onto itself: `root` turns the feature off.
 *
 * Parsing is pure (the file texts are passed in); resolveUsernsRemap reads the files and, for
 * `default`, runs useradd/usermod as dockerd does.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { loadChildProcess, invalidParameter } from '../common/index.ts';
import type { IdMap, IdMapping } from './archive/id-map.ts';

/** dockerd's name for the user `--userns-remap=default` uses. */
export const DEFAULT_REMAP_USER = 'dockremap';
/** Where `default` ranges start and how long they are (pkg/idtools usergroupadd_linux.go). */
const DEFAULT_RANGE_START = 100000;
const DEFAULT_RANGE_LENGTH = 65536;

/** One line of /etc/subuid or /etc/subgid. */
export interface SubIdRange {
  /** The user or group name, or a numeric id, as written. */
  owner: string;
  start: number;
  length: number;
}

/** The remapping in force: who it is for and the maps every user-namespaced container gets. */
export interface UsernsRemap {
  user: string;
  group: string;
  idMap: IdMap;
  /** The host ids of the container's root (uid and gid 0 mapped). */
  root: { uid: number; gid: number };
}

/** The host files the resolution reads (tests point them at fakes). */
export interface RemapFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
}

const HOST_FILES: RemapFiles = {
  passwd: '/etc/passwd',
  group: '/etc/group',
  subuid: '/etc/subuid',
  subgid: '/etc/subgid',
};

/**
 * /etc/subuid or /etc/subgid (`name:start:count` lines; blank lines and `#` comments skipped).
 * A line without three fields is an error, as in dockerd.
 */
export function parseSubIdFile(text: string, path: string): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(':');
    if (parts.length !== 3) {
      throw invalidParameter(`cannot parse subuid/gid information: Format not correct for ${path} file`);
    }
    const [owner = '', start = '', length = ''] = parts;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(length)) {
      throw invalidParameter(`string to int conversion failed during subuid/gid parsing of ${path}: ${line}`);
    }
    out.push({ owner, start: Number(start), length: Number(length) });
  }
  return out;
}

/** The ranges of an owner, matched by name or by numeric id. */
export function rangesOf(ranges: SubIdRange[], name: string, id: number | undefined): SubIdRange[] {
  return ranges.filter((r) => r.owner === name || (id !== undefined && r.owner === String(id)));
}

/** Ranges (sorted by start, as dockerd sorts them) → map entries with container ids from 0. */
export function createIdMap(ranges: SubIdRange[]): IdMapping[] {
  let containerID = 0;
  return [...ranges]
    .sort((a, b) => a.start - b.start)
    .map((r) => {
      const m = { containerID, hostID: r.start, size: r.length };
      containerID += r.length;
      return m;
    });
}

interface Account {
  name: string;
  id: number;
  /** The primary group id (passwd entries only). */
  gid?: number;
}

/** passwd or group text → entries (name, numeric id, and for passwd the primary gid). */
export function parseAccounts(text: string): Account[] {
  const out: Account[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const id = Number(f[2]);
    if (!f[0] || !/^\d+$/.test(f[2] ?? '')) continue;
    const gid = Number(f[3]);
    out.push({ name: f[0], id, ...(/^\d+$/.test(f[3] ?? '') ? { gid } : {}) });
  }
  return out;
}

/**
 * `user`, `user:group`, `uid`, `uid:gid` → user and group names (parseRemappedRoot). A lone user
 * name takes the group of the same name; a lone uid takes the group whose gid is that uid.
 * `default` means `dockremap` (the caller creates it when missing). Returns undefined for `root`.
 */
export function parseRemappedRoot(
  value: string,
  passwd: Account[],
  groups: Account[],
): { user: string; group: string } | 'create-default' | undefined {
  const parts = value.split(':');
  if (parts.length > 2 || value === '') {
    throw invalidParameter(`Invalid user/group specification in --userns-remap: "${value}"`);
  }
  const [first = '', second] = parts;
  let user: string;
  let group: string | undefined;
  if (/^\d+$/.test(first)) {
    const uid = Number(first);
    const u = passwd.find((p) => p.id === uid);
    if (!u) throw invalidParameter(`Uid ${uid} has no entry in /etc/passwd`);
    user = u.name;
    if (second === undefined) {
      const g = groups.find((x) => x.id === uid);
      if (!g) throw invalidParameter(`Gid ${uid} has no entry in /etc/group`);
      group = g.name;
    }
  } else {
    const lookup = first === 'default' ? DEFAULT_REMAP_USER : first;
    const u = passwd.find((p) => p.name === lookup);
    if (!u) {
      if (first === 'default') return 'create-default';
      throw invalidParameter(`Error during uid lookup for "${lookup}": user: unknown user ${lookup}`);
    }
    user = u.name;
    if (second === undefined) {
      const g = groups.find((x) => x.name === lookup);
      if (!g)
        throw invalidParameter(`Error during gid lookup for "${lookup}": group: unknown group ${lookup}`);
      group = g.name;
    }
  }
  if (second !== undefined) {
    if (/^\d+$/.test(second)) {
      const g = groups.find((x) => x.id === Number(second));
      if (!g) throw invalidParameter(`Gid ${second} has no entry in /etc/group`);
      group = g.name;
    } else {
      if (!groups.some((x) => x.name === second)) {
        throw invalidParameter(
          `Error during groupname lookup for "${second}": group: unknown group ${second}`,
        );
      }
      group = second;
    }
  }
  if (user === 'root') return undefined;
  return { user, group: group ?? user };
}

/** The maps of user and group from the subordinate id files (pkg/idtools NewIdentityMapping). */
export function buildRemap(
  names: { user: string; group: string },
  texts: { passwd: string; group: string; subuid: string; subgid: string },
  paths: Pick<RemapFiles, 'subuid' | 'subgid'> = HOST_FILES,
): UsernsRemap {
  const uid = parseAccounts(texts.passwd).find((p) => p.name === names.user)?.id;
  const gid = parseAccounts(texts.group).find((g) => g.name === names.group)?.id;
  const subuid = rangesOf(parseSubIdFile(texts.subuid, paths.subuid), names.user, uid);
  const subgid = rangesOf(parseSubIdFile(texts.subgid, paths.subgid), names.group, gid);
  if (subuid.length === 0) throw invalidParameter(`No subuid ranges found for user "${names.user}"`);
  if (subgid.length === 0) throw invalidParameter(`No subgid ranges found for group "${names.group}"`);
  const idMap = { uidMap: createIdMap(subuid), gidMap: createIdMap(subgid) };
  const rootOf = (m: IdMapping[]) => m.find((r) => r.containerID === 0)?.hostID ?? 0;
  return { ...names, idMap, root: { uid: rootOf(idMap.uidMap), gid: rootOf(idMap.gidMap) } };
}

/**
 * Where `dockremap`'s range starts: 100000, moved past every range in the file that it would
 * overlap (idtools findNextRangeStart, ranges sorted by start).
 */
export function nextRangeStart(all: SubIdRange[]): number {
  let start = DEFAULT_RANGE_START;
  for (const r of [...all].sort((a, b) => a.start - b.start)) {
    const overlaps = start >= r.start && start < r.start + r.length;
    const covers = start < r.start && start + DEFAULT_RANGE_LENGTH > r.start;
    if (overlaps || covers) start = r.start + r.length;
  }
  return start;
}

/**
 * The remapping for the daemon's `--userns-remap` value, from the host's files; `default`
 * creates the `dockremap` system user and group (useradd -r -U -s /bin/false) and gives it
 * 65536 subordinate uids and gids (usermod -v/-w) when it has none. Undefined for `root`.
 */
export async function resolveUsernsRemap(
  value: string,
  files: RemapFiles = HOST_FILES,
): Promise<UsernsRemap | undefined> {
  const read = async (p: string) => readFile(p, 'utf8').catch(() => '');
  let [passwd, group] = await Promise.all([read(files.passwd), read(files.group)]);
  let names = parseRemappedRoot(value, parseAccounts(passwd), parseAccounts(group));
  if (names === 'create-default') {
    await createDefaultUser(files);
    [passwd, group] = await Promise.all([read(files.passwd), read(files.group)]);
    names = { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER };
  }
  if (names === undefined) return undefined;
  const [subuid, subgid] = await Promise.all([read(files.subuid), read(files.subgid)]);
  return buildRemap(names, { passwd, group, subuid, subgid }, files);
}

async function createDefaultUser(files: RemapFiles): Promise<void> {
  const run = async (cmd: string, args: string[]) => {
    try {
      await promisify(loadChildProcess().execFile)(cmd, args);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw invalidParameter(
        `Error during "${DEFAULT_REMAP_USER}" user creation: ${cmd}: ${(e.stderr || e.message).trim()}`,
      );
    }
  };
  await run('useradd', ['-r', '-U', '-s', '/bin/false', DEFAULT_REMAP_USER]);
  for (const [file, flag] of [
    [files.subuid, '-v'],
    [files.subgid, '-w'],
  ] as const) {
    const all = parseSubIdFile(await readFile(file, 'utf8').catch(() => ''), file);
    if (all.some((r) => r.owner === DEFAULT_REMAP_USER)) continue;
    const start = nextRangeStart(all);
    await run('usermod', [flag, `${start}-${start + DEFAULT_RANGE_LENGTH - 1}`, DEFAULT_REMAP_USER]);
  }
}
