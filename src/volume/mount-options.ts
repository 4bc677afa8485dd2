/**
 * A mount(8)-style option string (`ro,bind,size=64m`) split into mount(2) flags and the data
 * string the filesystem receives, as moby/sys/mount parseOptions does for the local volume
 * driver's `o=` option.
 */
import { MS } from '../platform/index.ts';

/** Options that set (true) or clear (false) a flag; the rest go to the filesystem as data. */
const FLAGS: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [true, MS.RDONLY],
  rw: [false, MS.RDONLY],
  suid: [false, MS.NOSUID],
  nosuid: [true, MS.NOSUID],
  dev: [false, MS.NODEV],
  nodev: [true, MS.NODEV],
  exec: [false, MS.NOEXEC],
  noexec: [true, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS],
  async: [false, MS.SYNCHRONOUS],
  dirsync: [true, MS.DIRSYNC],
  remount: [true, MS.REMOUNT],
  mand: [true, MS.MANDLOCK],
  nomand: [false, MS.MANDLOCK],
  atime: [false, MS.NOATIME],
  noatime: [true, MS.NOATIME],
  diratime: [false, MS.NODIRATIME],
  nodiratime: [true, MS.NODIRATIME],
  bind: [true, MS.BIND],
  rbind: [true, MS.BIND | MS.REC],
  relatime: [true, MS.RELATIME],
  norelatime: [false, MS.RELATIME],
  strictatime: [true, MS.STRICTATIME],
  nostrictatime: [false, MS.STRICTATIME],
};

export function parseMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options.split(',')) {
    if (o === '') continue;
    const f = FLAGS[o];
    if (f === undefined) data.push(o);
    else if (f[0]) flags |= f[1];
    else flags &= ~f[1];
  }
  return { flags, data: data.join(',') };
}
