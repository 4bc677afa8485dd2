/** `berth port CONTAINER [PRIVATE_PORT[/PROTO]]` (docker/cli cli/command/container/port.go). */
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';

type Opts = Record<string, unknown>;

/** net.JoinHostPort: an IPv6 host goes in brackets. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const isDigit = (c: string) => c >= '0' && c <= '9';

/** fvbommel/sortorder NaturalLess: runs of digits compare as numbers, the rest bytewise. */
export function naturalLess(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c1 = a[i] as string;
    const c2 = b[j] as string;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i++;
      j++;
      continue;
    }
    while (i < a.length && a[i] === '0') i++;
    while (j < b.length && b[j] === '0') j++;
    const n1 = i;
    const n2 = j;
    while (i < a.length && isDigit(a[i] as string)) i++;
    while (j < b.length && isDigit(b[j] as string)) j++;
    if (i - n1 !== j - n2) return i - n1 < j - n2;
    const s1 = a.slice(n1, i);
    const s2 = b.slice(n2, j);
    if (s1 !== s2) return s1 < s2;
    if (n1 !== n2) return n1 < n2;
  }
  return a.length < b.length;
}

export type PortMap = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

/** The lines docker port prints, or an ExitError with docker's text. */
export function portLines(ports: PortMap, container: string, privatePort?: string): string[] {
  const out: string[] = [];
  if (privatePort) {
    const slash = privatePort.indexOf('/');
    const port = slash < 0 ? privatePort : privatePort.slice(0, slash);
    const proto = slash < 0 ? 'tcp' : privatePort.slice(slash + 1) || 'tcp';
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      const why = /^\d+$/.test(port) ? 'value out of range' : 'invalid syntax';
      throw new ExitError(1, `Error: invalid port (${port}): strconv.ParseUint: parsing "${port}": ${why}`);
    }
    const frontends = ports[`${port}/${proto}`];
    if (!frontends || frontends.length === 0) {
      throw new ExitError(1, `Error: No public port '${privatePort}' published for ${container}`);
    }
    for (const f of frontends) out.push(joinHostPort(f.HostIp, f.HostPort));
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp, f.HostPort)}`);
    }
  }
  return out.sort((x, y) => (naturalLess(x, y) ? -1 : naturalLess(y, x) ? 1 : 0));
}

export async function portCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const [container = '', privatePort] = args;
  const client = await ctx.client();
  const c = await client.containerInspect(container);
  const lines = portLines((c.NetworkSettings?.Ports ?? {}) as PortMap, container, privatePort);
  if (lines.length > 0) ctx.out(lines.join('\n'));
  return 0;
}
