/**
 * Kernel parameters under /proc/sys of berthd's own namespaces (net.ipv4.ip_forward…), by their
 * dotted names as sysctl(8) writes them.
 */
import { readFile, writeFile } from 'node:fs/promises';

function sysctlPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

/** The value, trimmed; undefined when the parameter does not exist (e.g. no br_netfilter). */
export async function readSysctl(name: string): Promise<string | undefined> {
  return readFile(sysctlPath(name), 'utf8').then(
    (v) => v.trim(),
    () => undefined,
  );
}

export async function writeSysctl(name: string, value: string): Promise<void> {
  await writeFile(sysctlPath(name), `${value}\n`);
}
