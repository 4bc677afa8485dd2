/**
 * Where the daemon listens. Docker's rules (docker/cli opts/hosts.go): `-H` wins, then the
 * environment, then the default socket. We read BERTH_HOST before DOCKER_HOST so a shell set up
 * for Docker can still point berth elsewhere.
 */

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type DaemonAddress =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

/** The daemon URL to use: the `-H` value, else BERTH_HOST, else DOCKER_HOST, else the default. */
export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

/**
 * Parses `unix:///path`, `tcp://host:port`, `http://host:port` or a bare `/path` (taken as a
 * socket). A tcp address without a port gets Docker's 2375.
 */
export function parseHost(host: string): DaemonAddress {
  if (host.startsWith('/')) return { kind: 'unix', socketPath: host, url: `unix://${host}` };
  const m = /^([a-z]+):\/\/(.*)$/.exec(host);
  if (!m) throw new Error(`invalid host: ${host}`);
  const [, scheme, rest = ''] = m;
  if (scheme === 'unix') {
    if (!rest) throw new Error(`invalid host: ${host}`);
    return { kind: 'unix', socketPath: rest, url: host };
  }
  if (scheme === 'tcp' || scheme === 'http') {
    const hostPort = rest.replace(/\/.*$/, '');
    const pm = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
    if (!pm) throw new Error(`invalid host: ${host}`);
    const name = (pm[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
    const port = pm[2] ? Number(pm[2]) : 2375;
    return { kind: 'tcp', host: name, port, url: `tcp://${pm[1] || '127.0.0.1'}:${port}` };
  }
  throw new Error(`invalid host: ${host}: unsupported protocol ${scheme}`);
}
