/**
 * Resolving a container's `User` ("", "name", "uid", "uid:gid", "name:group", …) against the
 * image's /etc/passwd and /etc/group, with the rules of moby/sys/user GetExecUser (what runc and
 * Docker's getUser use):
 * - numeric ids need no passwd/group entry; names must exist;
 * - "" means uid 0, looked up in passwd for its gid and home;
 * - a matched user name gets its supplementary groups from /etc/group membership, unless a group
 *   is given explicitly;
 * - the first matching line wins; missing files are treated as empty.
 * Docker then puts the primary gid first in the additional gids, followed by the supplementary
 * groups and the `--group-add` groups (daemon/oci_linux.go getUser).
 *
 * The engine reads the two files from the container's rootfs (they may be absent) and calls this
 * at start; the result goes to toOciSpec as `ctx.user`.
 */
import { invalidParameter } from '../../common/index.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Primary gid first, then supplementary groups, then --group-add groups (Docker's order). */
  additionalGids: number[];
  /** The user's home directory from passwd, else "/" (runc sets HOME to this when unset). */
  home: string;
}

const MAX_ID = 2 ** 31 - 1;
const RANGE_ERROR = `uids and gids must be in range 0-${MAX_ID}`;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Go's strconv.Atoi-with-errors-ignored: "12" → 12, anything else → 0. */
function atoi(s: string | undefined): number {
  return s !== undefined && /^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : 0;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((line) => {
    const f = line.split(':');
    return { name: f[0] ?? '', uid: atoi(f[2]), gid: atoi(f[3]), home: f[5] ?? '' };
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text)
    .filter((l) => !l.startsWith('#'))
    .map((line) => {
      const f = line.split(':');
      const list = f[3];
      return {
        name: f[0] ?? '',
        gid: atoi(f[2]),
        members: list === undefined || list === '' ? [] : list.split(','),
      };
    });
}

/** moby/sys/user parseNumeric: '' → not numeric; digits → id (range-checked); else a name. */
function parseNumeric(val: string): { id: number; isNumeric: boolean } {
  if (val === '' || !/^[+-]?\d+$/.test(val)) return { id: 0, isNumeric: false };
  const id = Number(val);
  if (id < 0 || id > MAX_ID) throw invalidParameter(RANGE_ERROR);
  return { id, isNumeric: true };
}

/**
 * Resolves `userSpec` with the image's passwd/group contents (undefined when the file does not
 * exist) and the container's `--group-add` list. Throws InvalidParameter with runc's texts, e.g.
 * `unable to find user x: no matching entries in passwd file`.
 */
export function resolveUser(
  userSpec: string,
  files: { passwd?: string; group?: string },
  groupAdd: string[] = [],
): ResolvedUser {
  const [userArg = '', groupArg = ''] = userSpec.split(':');
  const u = parseNumeric(userArg);
  const g = parseNumeric(groupArg);
  const passwd = files.passwd === undefined ? [] : parsePasswd(files.passwd);
  const groups = files.group === undefined ? [] : parseGroup(files.group);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let sgids: number[] = [];

  const matched = passwd.find((p) => {
    if (userArg === '') return p.uid === 0;
    if (u.isNumeric) return p.uid === u.id;
    return p.name === userArg;
  });
  if (matched) {
    uid = matched.uid;
    gid = matched.gid;
    // runc's default HOME is "/" when the passwd entry has none.
    home = matched.home === '' ? '/' : matched.home;
  } else if (userArg !== '') {
    if (!u.isNumeric) {
      throw invalidParameter(`unable to find user ${userArg}: no matching entries in passwd file`);
    }
    uid = u.id;
  }

  if (groupArg !== '') {
    const found = groups.find((e) => (g.isNumeric ? e.gid === g.id : e.name === groupArg));
    if (found) gid = found.gid;
    else if (g.isNumeric) gid = g.id;
    else throw invalidParameter(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matched) {
    sgids = groups.filter((e) => e.members.includes(matched.name)).map((e) => e.gid);
  }

  const added = resolveAdditionalGroups(groupAdd, groups);
  return { uid, gid, additionalGids: [gid, ...sgids, ...added], home };
}

/** moby/sys/user GetAdditionalGroups: names must exist in /etc/group, numbers need not. Deduplicated. */
function resolveAdditionalGroups(groupAdd: string[], groups: GroupEntry[]): number[] {
  const out: number[] = [];
  for (const name of groupAdd) {
    const n = parseNumeric(name);
    const found = groups.find((e) => e.name === name || (n.isNumeric && e.gid === n.id));
    let gid: number;
    if (found) {
      if (found.gid < 0 || found.gid > MAX_ID) throw invalidParameter(RANGE_ERROR);
      gid = found.gid;
    } else if (n.isNumeric) {
      gid = n.id;
    } else {
      throw invalidParameter(`unable to find group ${name}: no matching entries in group file`);
    }
    if (!out.includes(gid)) out.push(gid);
  }
  return out;
}
