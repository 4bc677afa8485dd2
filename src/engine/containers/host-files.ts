/**
 * The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf files the engine writes into
 * the container's folder and the runtime bind-mounts (Docker's behaviour: they are files of the
 * container, not of the image, and survive restarts of the container).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { errnoCode } from '../../common/index.ts';

/** Docker's default /etc/hosts lines (libnetwork/etchosts). */
export function hostsFile(entries: Array<{ ip: string; names: string[] }>): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...entries.map((e) => `${e.ip}\t${e.names.join(' ')}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The container's resolv.conf from the host's, as Docker does (libnetwork/resolvconf): keep
 * search/options, drop loopback nameservers (they would point into the container itself), and
 * fall back to Google's public resolvers when none remain. `dns`/`search`/`options` override.
 */
export function resolvConf(
  host: string,
  overrides: { dns?: string[]; search?: string[]; options?: string[] } = {},
): string {
  const lines = host.split('\n').map((l) => l.trim());
  const field = (key: string) =>
    lines
      .filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`))
      .map((l) => l.slice(key.length).trim());
  let nameservers = overrides.dns?.length
    ? overrides.dns
    : field('nameserver').filter((ns) => !/^(127\.|::1$|0\.0\.0\.0$)/.test(ns));
  if (nameservers.length === 0) nameservers = ['8.8.8.8', '8.8.4.4'];
  const search = overrides.search?.length ? overrides.search : field('search').flatMap((s) => s.split(/\s+/));
  const options = overrides.options?.length
    ? overrides.options
    : field('options').flatMap((s) => s.split(/\s+/));
  const out = nameservers.map((ns) => `nameserver ${ns}`);
  if (search.length) out.push(`search ${search.join(' ')}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return `${out.join('\n')}\n`;
}

export async function readHostResolvConf(path = '/etc/resolv.conf'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return '';
    throw err;
  }
}

export async function writeHostFiles(
  paths: { hostname: string; hosts: string; resolvConf: string },
  content: { hostname: string; hosts: string; resolvConf: string },
): Promise<void> {
  await Promise.all([
    writeFile(paths.hostname, `${content.hostname}\n`, { mode: 0o644 }),
    writeFile(paths.hosts, content.hosts, { mode: 0o644 }),
    writeFile(paths.resolvConf, content.resolvConf, { mode: 0o644 }),
  ]);
}
