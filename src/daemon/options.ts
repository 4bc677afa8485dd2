/**
 * berthd's command line (a subset of dockerd's flags, same names and defaults where they apply)
 * merged with the daemon configuration file (daemon.json, Docker's keys; see config-file.ts).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { invalidParameter } from '../common/index.ts';
import type { LogLevel } from '../common/index.ts';
import { type DaemonFileConfig, flagConflicts } from './config-file.ts';
import { MORE_FLAG_OPTIONS, MORE_USAGE, type MoreDaemonOptions, moreOptions } from './more-options.ts';

export type HostAddress = { unix: string } | { host: string; port: number };

export interface TlsOptions {
  /** Require and verify client certificates against `ca` (--tlsverify). */
  verify: boolean;
  ca: string;
  cert: string;
  key: string;
}
import {
  type BridgeDaemonConfig,
  DEFAULT_POOLS,
  bridgeDaemonConfig,
  ipToInt,
  parseAddressPool,
  parseCidr,
} from '../network/index.ts';

export interface DaemonOptions {
  hosts: HostAddress[];
  dataRoot: string;
  execRoot: string;
  logLevel: LogLevel;
  pidfile: string;
  group: string;
  /** True when -G was given: then the group must exist. */
  groupGiven: boolean;
  cgroupParent: string;
  /** The configuration file read (undefined: none). */
  configFile?: string;
  /** Default log driver and options of new containers. */
  logDriver: string;
  logOpts: Record<string, string>;
  /** TLS for tcp hosts; undefined: none. */
  tls?: TlsOptions;
  /** `--tls=false` was given: plain TCP was asked for explicitly. */
  tlsDisabled: boolean;
  /** Seconds to wait for containers to stop at shutdown (live-restore off). */
  shutdownTimeout: number;
  /** Keep containers running when berthd stops (berth's default; dockerd's is false). */
  liveRestore: boolean;
  /** --insecure-registry (host[:port] or CIDR) and --registry-mirror (Docker Hub mirror URLs). */
  registry: { insecure: string[]; mirrors: string[] };
  /** Defaults for containers: --init, --no-new-privileges, --seccomp-profile, --default-ulimit, --dns*. */
  containers: {
    init: boolean;
    noNewPrivileges: boolean;
    /** `builtin` (Docker's default profile), `unconfined`, or a profile file's path. */
    seccompProfile: string;
    ulimits: Array<{ name: string; soft: number; hard: number }>;
    dns: string[];
    dnsSearch: string[];
    dnsOptions: string[];
    cgroupnsMode?: 'host' | 'private';
    ipcMode?: 'private' | 'shareable';
    shmSize?: number;
  };
  /** --label: the daemon's labels (info). */
  labels: string[];
  /** Layers pulled and pushed at once (--max-concurrent-downloads/-uploads; dockerd's 3 and 5). */
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** --add-runtime name=path and daemon.json "runtimes" (engine/containers/runtimes.ts). */
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  /** --default-runtime / "default-runtime"; undefined: berth's own. */
  defaultRuntime?: string;
  network: {
    defaultBridge: string;
    bip?: string;
    pools: Array<{ base: string; size: number }>;
    nftTable: string;
    ifacePrefix: string;
    mtu: number;
  } & BridgeDaemonConfig;
  /** `--userns-remap` (user, user:group, uid, uid:gid or `default`); undefined: off. */
  usernsRemap?: string;
  /** --experimental, --log-format, --exec-opt, --storage-opt, --feature, "builder", --selinux-enabled, --metrics-addr. */
  more: MoreDaemonOptions;
}

export const DEFAULT_SOCKET = '/run/berth/berth.sock';
export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

const FLAG_OPTIONS = {
  host: { type: 'string', short: 'H', multiple: true },
  'data-root': { type: 'string' },
  'exec-root': { type: 'string' },
  'log-level': { type: 'string', short: 'l' },
  debug: { type: 'boolean', short: 'D' },
  pidfile: { type: 'string', short: 'p' },
  group: { type: 'string', short: 'G' },
  'cgroup-parent': { type: 'string' },
  'add-runtime': { type: 'string', multiple: true },
  'default-runtime': { type: 'string' },
  'config-file': { type: 'string' },
  'log-driver': { type: 'string' },
  'log-opt': { type: 'string', multiple: true },
  tls: { type: 'boolean' },
  tlsverify: { type: 'boolean' },
  tlscacert: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  'live-restore': { type: 'boolean' },
  bridge: { type: 'string', short: 'b' },
  bip: { type: 'string' },
  'default-address-pool': { type: 'string', multiple: true },
  'nft-table': { type: 'string' },
  icc: { type: 'boolean' },
  'ip-masq': { type: 'boolean' },
  iptables: { type: 'boolean' },
  'ip-forward': { type: 'boolean' },
  'fixed-cidr': { type: 'string' },
  'default-gateway': { type: 'string' },
  ipv6: { type: 'boolean' },
  'fixed-cidr-v6': { type: 'string' },
  ip: { type: 'string' },
  'iface-prefix': { type: 'string' },
  mtu: { type: 'string' },
  'userns-remap': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  'registry-mirror': { type: 'string', multiple: true },
  init: { type: 'boolean' },
  'no-new-privileges': { type: 'boolean' },
  'seccomp-profile': { type: 'string' },
  'default-ulimit': { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  'dns-search': { type: 'string', multiple: true },
  'dns-opt': { type: 'string', multiple: true },
  label: { type: 'string', multiple: true },
  'max-concurrent-downloads': { type: 'string' },
  'max-concurrent-uploads': { type: 'string' },
  'default-cgroupns-mode': { type: 'string' },
  'default-ipc-mode': { type: 'string' },
  'default-shm-size': { type: 'string' },
  ...MORE_FLAG_OPTIONS,
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  /** Flags given as `--x=false` (Go's bool flag syntax). */
  falseFlags: Set<string>;
}

/** Parses the command line only (no file): Go's `--flag=false` is accepted for booleans. */
export function parseDaemonFlags(argv: string[]): ParsedFlags {
  const falseFlags = new Set<string>();
  const args: string[] = [];
  for (const a of argv) {
    const m = /^--([a-z-]+)=(true|false|1|0)$/.exec(a);
    const name = m?.[1];
    if (m && name && (FLAG_OPTIONS as Record<string, { type: string }>)[name]?.type === 'boolean') {
      if (m[2] === 'true' || m[2] === '1') args.push(`--${name}`);
      else falseFlags.add(name);
      continue;
    }
    args.push(a);
  }
  const { values } = parseArgs({ args, options: FLAG_OPTIONS, strict: true, allowPositionals: false });
  return { values: values as ParsedFlags['values'], falseFlags };
}

export function parseDaemonArgs(
  argv: string[],
  file: DaemonFileConfig = {},
  configFile?: string,
): DaemonOptions | 'help' | 'version' {
  const { values: v, falseFlags } = parseDaemonFlags(argv);
  if (v.help) return 'help';
  if (v.version) return 'version';
  const given = new Set([...Object.keys(v).filter((k) => v[k] !== undefined), ...falseFlags]);
  flagConflicts(given, file);
  const str = (flag: string, key: keyof DaemonFileConfig): string | undefined =>
    (v[flag] as string | undefined) ?? (file[key] as string | undefined);
  const bool = (flag: string, key: keyof DaemonFileConfig): boolean | undefined =>
    falseFlags.has(flag) ? false : ((v[flag] as boolean | undefined) ?? (file[key] as boolean | undefined));

  const list = (flag: string, key: keyof DaemonFileConfig): string[] =>
    (v[flag] as string[] | undefined) ?? (file[key] as string[] | undefined) ?? [];
  const positive = (flag: string, fromFile: number | undefined, fallback: number): number => {
    const text = (v[flag] as string | undefined) ?? (fromFile !== undefined ? String(fromFile) : undefined);
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < 1)
      throw invalidParameter(`invalid ${flag}: ${text}: a positive whole number`);
    return n;
  };
  const execRoot = str('exec-root', 'exec-root') ?? '/run/berth';
  const debug = bool('debug', 'debug');
  const level = debug ? 'debug' : (str('log-level', 'log-level') ?? 'info');
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
  const logLevel = level === 'fatal' ? 'error' : (level as LogLevel);
  if (!levels.includes(logLevel)) throw invalidParameter(`invalid log level: ${level}`);
  const hostList = (v.host as string[] | undefined) ?? file.hosts ?? [];
  const hosts = (hostList.length ? hostList : [`unix://${DEFAULT_SOCKET}`]).map(parseHost);

  const logOpts: Record<string, string> = { ...(file['log-opts'] ?? {}) };
  for (const kv of (v['log-opt'] as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw invalidParameter(`invalid log-opt: ${kv}: use key=value`);
    logOpts[kv.slice(0, i)] = kv.slice(i + 1);
  }

  const tlsverify = bool('tlsverify', 'tlsverify') ?? false;
  const tlsFlag = bool('tls', 'tls');
  const tlsDisabled = tlsFlag === false;
  if (tlsDisabled && tlsverify) throw invalidParameter('--tls=false conflicts with --tlsverify');
  const certDir = process.env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const tls: TlsOptions | undefined =
    tlsverify || tlsFlag
      ? {
          verify: tlsverify,
          ca: str('tlscacert', 'tlscacert') ?? join(certDir, 'ca.pem'),
          cert: str('tlscert', 'tlscert') ?? join(certDir, 'cert.pem'),
          key: str('tlskey', 'tlskey') ?? join(certDir, 'key.pem'),
        }
      : undefined;

  const shutdownText = str('shutdown-timeout', 'shutdown-timeout');
  const shutdownTimeout = shutdownText === undefined ? 15 : Number(shutdownText);
  if (!Number.isInteger(shutdownTimeout) || shutdownTimeout < -1) {
    throw invalidParameter(
      `invalid shutdown-timeout: ${shutdownText}: a number of seconds (-1: wait forever)`,
    );
  }
  return {
    hosts,
    dataRoot: str('data-root', 'data-root') ?? '/var/lib/berth',
    execRoot,
    logLevel,
    pidfile: str('pidfile', 'pidfile') ?? `${execRoot}/berthd.pid`,
    group: str('group', 'group') ?? 'berth',
    groupGiven: v.group !== undefined || file.group !== undefined,
    cgroupParent: (str('cgroup-parent', 'cgroup-parent') ?? 'berth').replace(/^\/+|\/+$/g, ''),
    ...(configFile ? { configFile } : {}),
    logDriver: str('log-driver', 'log-driver') ?? 'json-file',
    logOpts,
    ...(tls ? { tls } : {}),
    tlsDisabled,
    shutdownTimeout,
    liveRestore: bool('live-restore', 'live-restore') ?? true,
    ...usernsRemapOption(str('userns-remap', 'userns-remap')),
    containers: {
      init: bool('init', 'init') ?? false,
      noNewPrivileges: bool('no-new-privileges', 'no-new-privileges') ?? false,
      seccompProfile: str('seccomp-profile', 'seccomp-profile') || 'builtin',
      ulimits: defaultUlimits(v['default-ulimit'] as string[] | undefined, file['default-ulimits']),
      dns: list('dns', 'dns'),
      dnsSearch: list('dns-search', 'dns-search'),
      dnsOptions: list('dns-opt', 'dns-opts'),
      ...namespaceDefaults(
        str('default-cgroupns-mode', 'default-cgroupns-mode'),
        str('default-ipc-mode', 'default-ipc-mode'),
        str('default-shm-size', 'default-shm-size'),
      ),
    },
    labels: list('label', 'labels'),
    maxConcurrentDownloads: positive('max-concurrent-downloads', file['max-concurrent-downloads'], 3),
    maxConcurrentUploads: positive('max-concurrent-uploads', file['max-concurrent-uploads'], 5),
    registry: registryOptions(
      (v['insecure-registry'] as string[] | undefined) ?? file['insecure-registries'] ?? [],
      (v['registry-mirror'] as string[] | undefined) ?? file['registry-mirrors'] ?? [],
    ),
    runtimes: runtimeOptions(v['add-runtime'] as string[] | undefined, file.runtimes),
    ...(str('default-runtime', 'default-runtime')
      ? { defaultRuntime: str('default-runtime', 'default-runtime') }
      : {}),
    more: moreOptions(v, falseFlags, file),
    network: networkOptions({
      bridge: str('bridge', 'bridge'),
      bip: str('bip', 'bip'),
      'default-address-pool':
        (v['default-address-pool'] as string[] | undefined) ??
        file['default-address-pools']?.map((p) => `base=${p.base},size=${p.size}`),
      'nft-table': v['nft-table'] as string | undefined,
      'iface-prefix': v['iface-prefix'] as string | undefined,
      mtu: (v.mtu as string | undefined) ?? (file.mtu !== undefined ? String(file.mtu) : undefined),
      ...bridgeDaemonConfig({
        icc: bool('icc', 'icc'),
        ipMasq: bool('ip-masq', 'ip-masq'),
        iptables: bool('iptables', 'iptables'),
        ipForward: bool('ip-forward', 'ip-forward'),
        fixedCidr: str('fixed-cidr', 'fixed-cidr'),
        defaultGateway: str('default-gateway', 'default-gateway'),
        ipv6: bool('ipv6', 'ipv6'),
        fixedCidrV6: str('fixed-cidr-v6', 'fixed-cidr-v6'),
        bip: str('bip', 'bip'),
        ip: str('ip', 'ip'),
      }),
    }),
  };
}

/** dockerd ignores an empty --userns-remap (feature off). */
function usernsRemapOption(value: string | undefined): { usernsRemap?: string } {
  return value ? { usernsRemap: value } : {};
}

/** --default-cgroupns-mode, --default-ipc-mode and --default-shm-size, checked as dockerd does. */
function namespaceDefaults(
  cgroupns: string | undefined,
  ipc: string | undefined,
  shm: string | undefined,
): Pick<DaemonOptions['containers'], 'cgroupnsMode' | 'ipcMode' | 'shmSize'> {
  if (cgroupns !== undefined && cgroupns !== 'host' && cgroupns !== 'private') {
    throw invalidParameter(`default cgroup namespace mode (${cgroupns}) is invalid`);
  }
  if (ipc !== undefined && ipc !== 'private' && ipc !== 'shareable') {
    throw invalidParameter(`invalid default IPC mode: ${ipc}`);
  }
  let shmSize: number | undefined;
  if (shm !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(shm.trim());
    const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
    shmSize = m ? Math.floor(Number(m[1]) * mult[m[2]!.toLowerCase() as keyof typeof mult]) : Number.NaN;
    if (!(shmSize > 0)) throw invalidParameter(`invalid default-shm-size: ${shm}`);
  }
  return {
    ...(cgroupns ? { cgroupnsMode: cgroupns as 'host' | 'private' } : {}),
    ...(ipc ? { ipcMode: ipc as 'private' | 'shareable' } : {}),
    ...(shmSize ? { shmSize } : {}),
  };
}

/** The rlimit names Docker knows (go-units ulimit.go). */
const ULIMIT_NAMES = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/** --default-ulimit name=soft[:hard] (hard defaults to soft), or daemon.json's default-ulimits map. */
function defaultUlimits(
  flags: string[] | undefined,
  file: DaemonFileConfig['default-ulimits'],
): DaemonOptions['containers']['ulimits'] {
  const out = new Map<string, { name: string; soft: number; hard: number }>();
  const add = (name: string, soft: number, hard: number) => {
    if (!ULIMIT_NAMES.has(name)) throw invalidParameter(`invalid ulimit type: ${name}`);
    if (soft > hard) {
      throw invalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    }
    out.set(name, { name, soft, hard });
  };
  if (flags) {
    for (const f of flags) {
      const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(f);
      if (!m) throw invalidParameter(`invalid ulimit argument: ${f}`);
      add(m[1]!, Number(m[2]), Number(m[3] ?? m[2]));
    }
  } else {
    for (const [name, u] of Object.entries(file ?? {})) add(u.Name ?? name, u.Soft, u.Hard);
  }
  return [...out.values()];
}

/**
 * dockerd's registry service options: insecure entries are `host[:port]` or a CIDR (a scheme is
 * refused); mirrors are http(s) URLs without a path (registry.ValidateMirror's words).
 */
function registryOptions(insecure: string[], mirrors: string[]): DaemonOptions['registry'] {
  for (const entry of insecure) {
    if (/^[a-z]+:\/\//i.test(entry))
      throw invalidParameter(`insecure registry ${entry} should not contain '://'`);
  }
  const normalized = mirrors.map((m) => {
    let u: URL;
    try {
      u = new URL(m);
    } catch {
      throw invalidParameter(`invalid mirror: "${m}" is not a valid URI`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw invalidParameter(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${m}"`);
    }
    if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
      throw invalidParameter(`invalid mirror: path, query, or fragment at end of the URI "${m}"`);
    }
    return `${u.protocol}//${u.host}/`;
  });
  return { insecure: [...new Set(insecure)], mirrors: [...new Set(normalized)] };
}

function networkOptions(
  values: {
    bridge?: string;
    bip?: string;
    'default-address-pool'?: string[];
    'nft-table'?: string;
    'iface-prefix'?: string;
    mtu?: string;
  } & BridgeDaemonConfig,
): DaemonOptions['network'] {
  const bridge = values.bridge ?? 'berth0';
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw invalidParameter(`invalid bridge name: ${bridge}`);
  if (bridge === 'none')
    throw invalidParameter('--bridge=none (no default bridge) is not supported by berth');
  if (values.bip !== undefined) {
    parseCidr(values.bip);
    const ip = values.bip.split('/')[0] ?? '';
    if (ipToInt(ip) === parseCidr(values.bip).base) throw invalidParameter(`invalid --bip: ${values.bip}`);
  }
  const table = values['nft-table'] ?? 'berth';
  if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,31}$/.test(table))
    throw invalidParameter(`invalid nftables table name: ${table}`);
  const prefix = values['iface-prefix'] ?? '';
  if (!/^[a-zA-Z0-9]{0,8}$/.test(prefix))
    throw invalidParameter(`invalid --iface-prefix (up to 8 letters or digits): ${prefix}`);
  const mtu = Number(values.mtu ?? 1500);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
    throw invalidParameter(`invalid --mtu: ${values.mtu}`);
  const pools = values['default-address-pool']?.length
    ? values['default-address-pool'].map(parseAddressPool)
    : DEFAULT_POOLS;
  return {
    defaultBridge: bridge,
    ...(values.bip ? { bip: values.bip } : {}),
    pools,
    nftTable: table,
    ifacePrefix: prefix,
    mtu,
    icc: values.icc,
    ipMasq: values.ipMasq,
    iptables: values.iptables,
    ipForward: values.ipForward,
    ...(values.fixedCidr ? { fixedCidr: values.fixedCidr } : {}),
    ...(values.defaultGateway ? { defaultGateway: values.defaultGateway } : {}),
    ...(values.bindIp ? { bindIp: values.bindIp } : {}),
    ...(values.ipv6Subnet ? { ipv6Subnet: values.ipv6Subnet } : {}),
  };
}

/** `-H` values as dockerd accepts them: unix:///path, /path, tcp://host:port, fd:// is not supported. */
export function parseHost(h: string): HostAddress {
  if (h.startsWith('unix://')) return { unix: h.slice('unix://'.length) || DEFAULT_SOCKET };
  if (h.startsWith('/')) return { unix: h };
  if (h.startsWith('tcp://')) {
    const u = new URL(h.replace(/^tcp:/, 'http:'));
    return { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || 2375) };
  }
  throw invalidParameter(`invalid host: ${h}: use unix:///path or tcp://host:port`);
}

export const USAGE = `Usage:	berthd [OPTIONS]

A container engine that serves the Docker Engine API

Options:
  -H, --host list          Daemon socket(s) to connect to (default unix://${DEFAULT_SOCKET})
      --config-file string Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")
      --data-root string   Root directory of persistent state (default "/var/lib/berth")
      --exec-root string   Root directory for execution state files (default "/run/berth")
  -l, --log-level string   Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -D, --debug              Enable debug mode
  -p, --pidfile string     Path to use for daemon PID file (default "/run/berth/berthd.pid")
  -G, --group string       Group for the unix socket (default "berth")
      --cgroup-parent string  Parent cgroup for all containers (default "berth")
      --add-runtime name=path  Register a runc-compatible OCI runtime (repeatable; "runc" is predefined)
      --default-runtime string  Default OCI runtime for containers (default "berth", berth's own)
      --log-driver string  Default driver for container logs (default "json-file")
      --log-opt map        Default log driver options for containers
      --tls                Use TLS; implied by --tlsverify (--tls=false: serve tcp hosts without TLS)
      --tlsverify          Use TLS and verify the remote (clients must present a certificate)
      --tlscacert string   Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string     Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string      Path to TLS key file (default "~/.docker/key.pem")
      --shutdown-timeout int  Seconds to wait for containers to stop at shutdown (default 15)
      --live-restore       Keep containers running when berthd stops (default true; false stops them)
  -b, --bridge string      Linux bridge of the default "bridge" network (default "berth0")
      --bip string         Address and prefix of the default bridge (default: the first free pool)
      --default-address-pool base=CIDR,size=N  Pool user networks take subnets from (repeatable)
      --mtu int            MTU of the containers' interfaces (default 1500)
      --icc                Inter-container communication on the default bridge (default true)
      --ip-masq            Masquerade traffic leaving the default bridge's subnet (default true)
      --iptables           Program berth's nftables table (default true; false: published ports through the userland proxy only)
      --ip-forward         Turn net.ipv4.ip_forward on at startup (default true)
      --fixed-cidr string  IPv4 sub-range of the default bridge's subnet containers get addresses from
      --default-gateway string  Default route (IPv4) of containers on the default bridge
      --ip ip              Default IP when binding container ports on the default bridge (default 0.0.0.0)
      --ipv6               IPv6 on the default bridge (needs --fixed-cidr-v6)
      --fixed-cidr-v6 string  IPv6 subnet of the default bridge
      --nft-table string   berth's nftables table, family inet (default "berth")
      --iface-prefix string  Prefix of the bridges and veths berth names (default: Docker's br-/veth)
      --userns-remap string  User/Group setting for user namespaces ("default", user, user:group, uid, uid:gid)
      --init               Run an init inside containers to forward signals and reap processes
      --no-new-privileges  Set no-new-privileges by default for new containers
      --seccomp-profile string  Path to a seccomp profile, "unconfined" or "builtin" (default "builtin")
      --default-ulimit ulimit  Default ulimits for containers (name=soft[:hard], repeatable)
      --default-cgroupns-mode string  Cgroup namespace of new containers: host or private (default: host on v1, private on v2)
      --default-ipc-mode string  IPC mode of new containers: private or shareable (default "private")
      --default-shm-size bytes  Size of /dev/shm of new containers (default 64MiB)
      --dns list           DNS servers for containers that set none
      --dns-search list    DNS search domains for containers that set none
      --dns-opt list       DNS options for containers that set none
      --label list         The daemon's labels (key=value)
      --max-concurrent-downloads int  Layers pulled at once (default 3)
      --max-concurrent-uploads int  Layers pushed at once (default 5)
      --insecure-registry list  Registries (host[:port] or CIDR) reached over HTTP or unverified TLS
      --registry-mirror list  Preferred Docker Hub mirrors (http(s) URLs)
${MORE_USAGE}  -v, --version            Print version information and quit
`;

/** dockerd's --add-runtime name=path (repeatable) and daemon.json's runtimes; both may be given. */
function runtimeOptions(
  flags: string[] | undefined,
  file: DaemonFileConfig['runtimes'],
): Record<string, { path: string; runtimeArgs?: string[] }> {
  const out: Record<string, { path: string; runtimeArgs?: string[] }> = {};
  for (const [name, r] of Object.entries(file ?? {}))
    out[name] = { path: r.path, ...(r.runtimeArgs ? { runtimeArgs: r.runtimeArgs } : {}) };
  for (const kv of flags ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || i === kv.length - 1) throw invalidParameter(`invalid runtime: ${kv}: use name=path`);
    const name = kv.slice(0, i);
    if (out[name])
      throw invalidParameter(`runtime ${name} is defined both as a flag and in the configuration file`);
    out[name] = { path: kv.slice(i + 1) };
  }
  return out;
}
