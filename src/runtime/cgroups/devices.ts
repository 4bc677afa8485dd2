import type { LinuxDeviceCgroup } from './resources.ts';

/**
 * Device rules that count as "the default set": Docker's base spec (deny all, allow the
 * standard character devices, deny 10:229 /dev/fuse) and the rules runc appends to every
 * container (mknod of any c/b device, /dev/pts/*, /dev/ptmx, /dev/net/tun, …). See
 * shared/reference/docker-defaults.json "deviceCgroupRules".
 */
const defaultAllows: ReadonlyArray<Pick<LinuxDeviceCgroup, 'type' | 'major' | 'minor' | 'access'>> = [
  { type: 'c', major: 1, minor: 3, access: 'rwm' },
  { type: 'c', major: 1, minor: 5, access: 'rwm' },
  { type: 'c', major: 1, minor: 7, access: 'rwm' },
  { type: 'c', major: 1, minor: 8, access: 'rwm' },
  { type: 'c', major: 1, minor: 9, access: 'rwm' },
  { type: 'c', major: 5, minor: 0, access: 'rwm' },
  { type: 'c', major: 5, minor: 1, access: 'rwm' },
  { type: 'c', major: 5, minor: 2, access: 'rwm' },
  { type: 'c', major: 136, access: 'rwm' },
  { type: 'c', major: 10, minor: 200, access: 'rwm' },
  { type: 'c', access: 'm' },
  { type: 'b', access: 'm' },
];
const defaultDenies: ReadonlyArray<Pick<LinuxDeviceCgroup, 'type' | 'major' | 'minor'>> = [
  { type: 'c', major: 10, minor: 229 },
];

const norm = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? null : n);
const isAll = (r: LinuxDeviceCgroup) =>
  (r.type ?? 'a') === 'a' && norm(r.major) === null && norm(r.minor) === null;
const sameDevice = (r: LinuxDeviceCgroup, d: Pick<LinuxDeviceCgroup, 'type' | 'major' | 'minor'>) =>
  (r.type ?? 'a') === d.type && norm(r.major) === norm(d.major) && norm(r.minor) === norm(d.minor);

/**
 * Whether a rule list asks for nothing beyond "everything allowed" or the default container
 * set. Those are the lists cgroup v2 (which enforces device rules only through an eBPF program
 * berth does not load) can accept without silently weakening what was asked for; see v2.ts.
 */
export function isDefaultDeviceRuleSet(rules: readonly LinuxDeviceCgroup[]): boolean {
  if (rules.length === 0) return true;
  if (rules.length === 1 && rules[0]!.allow && isAll(rules[0]!)) return true; // privileged
  return rules.every((r) => {
    if (isAll(r)) return !r.allow; // "deny all" is the default starting point
    if (r.allow) {
      return defaultAllows.some((d) => sameDevice(r, d) && (r.access ?? 'rwm') === d.access);
    }
    return defaultDenies.some((d) => sameDevice(r, d));
  });
}
