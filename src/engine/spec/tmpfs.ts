/**
 * tmpfs mount options as Docker builds them for `--tmpfs /dst:opts` (HostConfig.Tmpfs) and
 * `--mount type=tmpfs` (HostConfig.Mounts[].TmpfsOptions): defaults `noexec,nosuid,nodev,rprivate`
 * first, then the user's options, merged so that the last of each kind wins (moby/sys/mount
 * MergeTmpfsOptions: `exec` cancels `noexec`, `rw` cancels `ro`, one propagation flag, one value
 * per `size=`/`mode=`/… key).
 */
import type { MountSpec } from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';

/** Flag options and the mount flag bit they set or clear (names only matter for collisions). */
const FLAG_KEYS: Record<string, string> = {
  ro: 'rdonly',
  rw: 'rdonly',
  suid: 'nosuid',
  nosuid: 'nosuid',
  dev: 'nodev',
  nodev: 'nodev',
  exec: 'noexec',
  noexec: 'noexec',
  sync: 'sync',
  async: 'sync',
  dirsync: 'dirsync',
  remount: 'remount',
  mand: 'mand',
  nomand: 'mand',
  atime: 'noatime',
  noatime: 'noatime',
  diratime: 'nodiratime',
  nodiratime: 'nodiratime',
  relatime: 'relatime',
  norelatime: 'relatime',
  strictatime: 'strictatime',
  nostrictatime: 'strictatime',
  // Propagation and bind flags all collide with each other: only the last one is kept.
  bind: 'propagation',
  rbind: 'propagation',
  unbindable: 'propagation',
  runbindable: 'propagation',
  private: 'propagation',
  rprivate: 'propagation',
  shared: 'propagation',
  rshared: 'propagation',
  slave: 'propagation',
  rslave: 'propagation',
};

/** `key=value` options tmpfs accepts. */
const DATA_KEYS = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** Docker's defaults for a user tmpfs mount, before the user's own options. */
export const DEFAULT_TMPFS_OPTIONS: readonly string[] = ['noexec', 'nosuid', 'nodev', 'rprivate'];

/**
 * Merges options so the last one of each kind wins, keeping their relative order.
 * Throws InvalidParameter `invalid tmpfs option "x"` for anything unknown.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i] ?? '';
    if (option === 'defaults') continue;
    const flagKey = FLAG_KEYS[option];
    if (flagKey !== undefined) {
      if (!seenFlags.has(flagKey)) {
        out.unshift(option);
        seenFlags.add(flagKey);
      }
      continue;
    }
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 || !DATA_KEYS.has(key)) throw invalidParameter(`invalid tmpfs option "${key}"`);
    if (!seenData.has(key)) {
      out.unshift(option);
      seenData.add(key);
    }
  }
  return out;
}

/**
 * `--tmpfs /run:rw,noexec,size=65536k` data (the part after the colon) → the OCI mount options:
 * `['nosuid','nodev','rprivate','rw','noexec','size=65536k']`.
 */
export function parseTmpfsOptions(data: string): string[] {
  return mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, ...(data === '' ? [] : data.split(','))]);
}

/**
 * HostConfig.Mounts[] tmpfs options → the `--tmpfs` style data string (volume/mounts
 * ConvertTmpfsOptions): `ro`, `mode=<octal>`, `size=<n>[kmg]`, then extra `[key, value]` options.
 */
export function convertTmpfsOptions(opts: MountSpec['TmpfsOptions'] | undefined, readOnly: boolean): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (opts?.Mode) raw.push(`mode=${opts.Mode.toString(8)}`);
  if (opts?.SizeBytes) {
    let size = opts.SizeBytes;
    let suffix = '';
    for (const [s, div] of [
      ['g', 2 ** 30],
      ['m', 2 ** 20],
      ['k', 2 ** 10],
    ] as const) {
      if (size % div === 0) {
        size /= div;
        suffix = s;
        break;
      }
    }
    raw.push(`size=${size}${suffix}`);
  }
  for (const opt of opts?.Options ?? []) {
    if (opt.length === 0 || opt.length > 2) throw invalidParameter('invalid option array length');
    const [key = '', value] = opt;
    // Docker accepts only these two here (volume/mounts validateTmpfsOptions).
    if (key !== 'exec' && key !== 'noexec') throw invalidParameter(`invalid option: ${key}`);
    raw.push(value === undefined ? key : `${key}=${value}`);
  }
  return raw.join(',');
}
