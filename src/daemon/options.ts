/**
 * berthd's command line (a subset of dockerd's flags, same names and defaults where they apply).
 */
import { parseArgs } from 'node:util';
import { invalidParameter } from '../common/index.ts';
import type { LogLevel } from '../common/index.ts';

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
  -v, --version            Print version information and quit
`;
