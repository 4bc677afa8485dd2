/**
 * berthd's command line (a subset of dockerd's flags, same names and defaults where they apply).
 */
import { parseArgs } from 'node:util';
import { invalidParameter } from '../common/index.ts';
import type { LogLevel } from '../common/index.ts';
import { DEFAULT_POOLS, ipToInt, parseAddressPool, parseCidr } from '../network/index.ts';

export interface DaemonOptions {
  hosts: Array<{ unix: string } | { host: string; port: number }>;
  dataRoot: string;
  execRoot: string;
  logLevel: LogLevel;
  pidfile: string;
  group: string;
  /** True when -G was given: then the group must exist. */
  groupGiven: boolean;
  cgroupParent: string;
  network: {
    defaultBridge: string;
    bip?: string;
    pools: Array<{ base: string; size: number }>;
    nftTable: string;
    ifacePrefix: string;
    mtu: number;
  };
}

export const DEFAULT_SOCKET = '/run/berth/berth.sock';

export function parseDaemonArgs(argv: string[]): DaemonOptions | 'help' | 'version' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', short: 'H', multiple: true },
      'data-root': { type: 'string' },
      'exec-root': { type: 'string' },
      'log-level': { type: 'string', short: 'l' },
      debug: { type: 'boolean', short: 'D' },
      pidfile: { type: 'string', short: 'p' },
      group: { type: 'string', short: 'G' },
      'cgroup-parent': { type: 'string' },
      bridge: { type: 'string', short: 'b' },
      bip: { type: 'string' },
      'default-address-pool': { type: 'string', multiple: true },
      'nft-table': { type: 'string' },
      'iface-prefix': { type: 'string' },
      mtu: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  const execRoot = values['exec-root'] ?? '/run/berth';
  const level = values.debug ? 'debug' : (values['log-level'] ?? 'info');
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
  const logLevel = level === 'fatal' ? 'error' : (level as LogLevel);
  if (!levels.includes(logLevel)) throw invalidParameter(`invalid log level: ${level}`);
  return {
    hosts: (values.host?.length ? values.host : [`unix://${DEFAULT_SOCKET}`]).map(parseHost),
    dataRoot: values['data-root'] ?? '/var/lib/berth',
    execRoot,
    logLevel,
    pidfile: values.pidfile ?? `${execRoot}/berthd.pid`,
    group: values.group ?? 'berth',
    groupGiven: values.group !== undefined,
    cgroupParent: (values['cgroup-parent'] ?? 'berth').replace(/^\/+|\/+$/g, ''),
    network: networkOptions(values),
  };
}

function networkOptions(values: {
  bridge?: string;
  bip?: string;
  'default-address-pool'?: string[];
  'nft-table'?: string;
  'iface-prefix'?: string;
  mtu?: string;
}): DaemonOptions['network'] {
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
  };
}

/** `-H` values as dockerd accepts them: unix:///path, /path, tcp://host:port, fd:// is not supported. */
export function parseHost(h: string): { unix: string } | { host: string; port: number } {
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
      --data-root string   Root directory of persistent state (default "/var/lib/berth")
      --exec-root string   Root directory for execution state files (default "/run/berth")
  -l, --log-level string   Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -D, --debug              Enable debug mode
  -p, --pidfile string     Path to use for daemon PID file (default "/run/berth/berthd.pid")
  -G, --group string       Group for the unix socket (default "berth")
      --cgroup-parent string  Parent cgroup for all containers (default "berth")
  -b, --bridge string      Linux bridge of the default "bridge" network (default "berth0")
      --bip string         Address and prefix of the default bridge (default: the first free pool)
      --default-address-pool base=CIDR,size=N  Pool user networks take subnets from (repeatable)
      --mtu int            MTU of the containers' interfaces (default 1500)
      --nft-table string   berth's nftables table, family inet (default "berth")
      --iface-prefix string  Prefix of the bridges and veths berth names (default: Docker's br-/veth)
  -v, --version            Print version information and quit
`;
