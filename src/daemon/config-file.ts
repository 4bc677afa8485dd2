/**
 * The daemon configuration file (dockerd's daemon.json; berth's default /etc/berth/daemon.json,
 * `--config-file` to choose another). Docker's keys and rules:
 * - an unknown key is an error ("the following directives don't match any configuration option");
 * - a key also given as a flag is an error ("specified both as a flag and in the configuration file");
 * - a missing default file is fine, a missing file named with --config-file is not.
 * Docker keys berth does not implement yet are refused by name rather than ignored.
 */
import { readFile } from 'node:fs/promises';
import { errnoCode, invalidParameter } from '../common/index.ts';

export interface DaemonFileConfig {
  hosts?: string[];
  'data-root'?: string;
  'exec-root'?: string;
  'log-level'?: string;
  debug?: boolean;
  pidfile?: string;
  group?: string;
  'cgroup-parent'?: string;
  'log-driver'?: string;
  'log-opts'?: Record<string, string>;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  'shutdown-timeout'?: number;
  'live-restore'?: boolean;
  'storage-driver'?: string;
  'default-runtime'?: string;
  runtimes?: Record<string, { path: string; runtimeArgs?: string[] }>;
  bridge?: string;
  bip?: string;
  mtu?: number;
  icc?: boolean;
  'ip-masq'?: boolean;
  iptables?: boolean;
  'ip-forward'?: boolean;
  'fixed-cidr'?: string;
  'default-gateway'?: string;
  ipv6?: boolean;
  'fixed-cidr-v6'?: string;
  ip?: string;
  'default-address-pools'?: Array<{ base: string; size: number }>;
  'userns-remap'?: string;
  'insecure-registries'?: string[];
  'registry-mirrors'?: string[];
  init?: boolean;
  'no-new-privileges'?: boolean;
  'seccomp-profile'?: string;
  'default-ulimits'?: Record<string, { Name?: string; Soft: number; Hard: number }>;
  dns?: string[];
  'dns-search'?: string[];
  'dns-opts'?: string[];
  labels?: string[];
  'max-concurrent-downloads'?: number;
  'max-concurrent-uploads'?: number;
  'default-cgroupns-mode'?: string;
  'default-ipc-mode'?: string;
  'default-shm-size'?: string;
  'storage-opts'?: string[];
  'exec-opts'?: string[];
  features?: Record<string, boolean>;
  builder?: BuilderFileConfig;
  experimental?: boolean;
  'selinux-enabled'?: boolean;
  'log-format'?: string;
  'metrics-addr'?: string;
}

/** daemon.json "builder" (moby daemon/config/builder.go); checked in builder-config.ts. */
export type BuilderFileConfig = Record<string, unknown>;

type Kind =
  | 'string'
  | 'boolean'
  | 'number'
  | 'string[]'
  | 'map'
  | 'pools'
  | 'ulimits'
  | 'runtimes'
  | 'bool-map'
  | 'object';

const KEYS: Record<keyof DaemonFileConfig, Kind> = {
  hosts: 'string[]',
  'data-root': 'string',
  'exec-root': 'string',
  'log-level': 'string',
  debug: 'boolean',
  pidfile: 'string',
  group: 'string',
  'cgroup-parent': 'string',
  'log-driver': 'string',
  'log-opts': 'map',
  tls: 'boolean',
  tlsverify: 'boolean',
  tlscacert: 'string',
  tlscert: 'string',
  tlskey: 'string',
  'shutdown-timeout': 'number',
  'live-restore': 'boolean',
  'storage-driver': 'string',
  'default-runtime': 'string',
  runtimes: 'runtimes',
  bridge: 'string',
  bip: 'string',
  mtu: 'number',
  icc: 'boolean',
  'ip-masq': 'boolean',
  iptables: 'boolean',
  'ip-forward': 'boolean',
  'fixed-cidr': 'string',
  'default-gateway': 'string',
  ipv6: 'boolean',
  'fixed-cidr-v6': 'string',
  ip: 'string',
  'default-address-pools': 'pools',
  'userns-remap': 'string',
  'insecure-registries': 'string[]',
  'registry-mirrors': 'string[]',
  init: 'boolean',
  'no-new-privileges': 'boolean',
  'seccomp-profile': 'string',
  'default-ulimits': 'ulimits',
  dns: 'string[]',
  'dns-search': 'string[]',
  'dns-opts': 'string[]',
  labels: 'string[]',
  'max-concurrent-downloads': 'number',
  'max-concurrent-uploads': 'number',
  'default-cgroupns-mode': 'string',
  'default-ipc-mode': 'string',
  'default-shm-size': 'string',
  'storage-opts': 'string[]',
  'exec-opts': 'string[]',
  features: 'bool-map',
  builder: 'object',
  experimental: 'boolean',
  'selinux-enabled': 'boolean',
  'log-format': 'string',
  'metrics-addr': 'string',
};

/** dockerd keys berth does not implement yet: refused with a clear message, never ignored. */
const NOT_YET = new Set(['default-gateway-v6', 'ip6tables', 'userland-proxy', 'bip6']);

/** The flag that sets each key (dockerd's names). */
const FLAG_OF: Partial<Record<keyof DaemonFileConfig, string>> = {
  hosts: 'host',
  'log-opts': 'log-opt',
  'default-address-pools': 'default-address-pool',
  'insecure-registries': 'insecure-registry',
  'registry-mirrors': 'registry-mirror',
  'default-ulimits': 'default-ulimit',
  'dns-opts': 'dns-opt',
  labels: 'label',
  'storage-opts': 'storage-opt',
  'exec-opts': 'exec-opt',
};

const KIND_NAMES: Partial<Record<Kind, string>> = {
  'bool-map': 'a map of names to booleans',
  object: 'an object',
};

/** dockerd merges these with their flags instead of refusing both (its skipValidateOptions). */
const NO_CONFLICT = new Set(['features', 'builder']);

/** Reads and checks the file. `explicit`: named with --config-file (then it must exist). */
export async function readDaemonConfig(path: string, explicit: boolean): Promise<DaemonFileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !explicit) return {};
    throw invalidParameter(`unable to configure the daemon with file ${path}: ${(err as Error).message}`);
  }
  if (!text.trim()) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalidParameter(`unable to configure the daemon with file ${path}: ${(err as Error).message}`);
  }
  return checkDaemonConfig(raw, path);
}

export function checkDaemonConfig(raw: unknown, path = 'daemon.json'): DaemonFileConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidParameter(`unable to configure the daemon with file ${path}: not a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(k in KEYS) && !NOT_YET.has(k));
  if (unknown.length) {
    throw invalidParameter(
      `the following directives don't match any configuration option: ${unknown.join(', ')}`,
    );
  }
  const notYet = Object.keys(obj).filter((k) => NOT_YET.has(k));
  if (notYet.length) {
    throw invalidParameter(`${path}: ${notYet.join(', ')}: not supported by berth yet`);
  }
  for (const [k, v] of Object.entries(obj)) {
    const kind = KEYS[k as keyof DaemonFileConfig];
    const ok =
      kind === 'string[]'
        ? Array.isArray(v) && v.every((x) => typeof x === 'string')
        : kind === 'pools'
          ? Array.isArray(v) && v.every((x) => x && typeof x.base === 'string' && typeof x.size === 'number')
          : kind === 'ulimits'
            ? !!v &&
              typeof v === 'object' &&
              !Array.isArray(v) &&
              Object.values(v).every(
                (x) => x && typeof x === 'object' && typeof x.Soft === 'number' && typeof x.Hard === 'number',
              )
            : kind === 'runtimes'
              ? isRuntimes(v)
              : kind === 'bool-map'
                ? isPlainObject(v) && Object.values(v).every((x) => typeof x === 'boolean')
                : kind === 'object'
                  ? isPlainObject(v)
                  : kind === 'map'
                    ? !!v &&
                      typeof v === 'object' &&
                      !Array.isArray(v) &&
                      Object.values(v).every((x) => typeof x === 'string')
                    : typeof v === kind;
    if (!ok && kind === 'runtimes')
      throw invalidParameter(`${path}: runtimes must map names to {"path": …, "runtimeArgs": […]}`);
    if (!ok) throw invalidParameter(`${path}: ${k} must be ${KIND_NAMES[kind] ?? `a ${kind}`}`);
  }
  const c = obj as DaemonFileConfig;
  if (c['storage-driver'] !== undefined && c['storage-driver'] !== 'overlay2') {
    throw invalidParameter(`${path}: storage-driver ${c['storage-driver']}: berth supports overlay2 only`);
  }
  return c;
}

/** dockerd refuses a setting given both as a flag and in the file. */
export function flagConflicts(givenFlags: Set<string>, file: DaemonFileConfig): void {
  const both = Object.keys(file)
    .filter((k) => !NO_CONFLICT.has(k) && givenFlags.has(FLAG_OF[k as keyof DaemonFileConfig] ?? k))
    .map((k) => `${k}`);
  if (both.length) {
    throw invalidParameter(
      `the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`,
    );
  }
}

/** The `--config-file` value in argv, if any (read before the full parse, which needs the file). */
export function configFileArg(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--config-file') return argv[i + 1];
    if (a.startsWith('--config-file=')) return a.slice('--config-file='.length);
  }
  return undefined;
}

/** What SIGHUP reloads (dockerd reloads these among others): the log level, shutdown-timeout, live-restore. */
export function reloadable(
  c: DaemonFileConfig,
): Pick<DaemonFileConfig, 'debug' | 'log-level' | 'shutdown-timeout' | 'live-restore'> {
  return {
    debug: c.debug,
    'log-level': c['log-level'],
    'shutdown-timeout': c['shutdown-timeout'],
    'live-restore': c['live-restore'],
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** daemon.json "runtimes": {"name": {"path": "/usr/bin/x", "runtimeArgs": ["--flag"]}}. */
function isRuntimes(v: unknown): boolean {
  return (
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.values(v).every(
      (r) =>
        !!r &&
        typeof r === 'object' &&
        typeof (r as { path?: unknown }).path === 'string' &&
        ((r as { runtimeArgs?: unknown }).runtimeArgs === undefined ||
          (Array.isArray((r as { runtimeArgs?: unknown }).runtimeArgs) &&
            (r as { runtimeArgs: unknown[] }).runtimeArgs.every((a) => typeof a === 'string'))),
    )
  );
}
