/** `berth network create|ls|inspect|connect|disconnect|rm` (docker/cli network/*.go, formatter/network.go). */
import type { IpamConfig, NetworkResource } from '../../api/types/index.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { goTimeString, truncateId } from '../formatters.ts';
import { renderList, write } from '../output.ts';
import { errorLine } from './lifecycle.ts';
import { parseFilters } from './ps.ts';
import { inspectEach, keyValueMap } from './volume.ts';

type Opts = Record<string, unknown>;

export const NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
export const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
  Label: 'LABEL',
};

export function networkRow(n: NetworkResource, trunc: boolean) {
  const labels = n.Labels ?? {};
  return {
    ID: trunc ? truncateId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    CreatedAt: goTimeString(new Date(n.Created)),
    Label: (name: string) => labels[name] ?? '',
  };
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  return m.slice(1).reduce((n, o) => n * 256 + Number(o), 0);
}

/** Whether `addr` (an IP or a CIDR) lies in `subnet` (IPv4; IPv6 is left to the daemon). */
function inSubnet(addr: string, subnet: string): boolean {
  const [base = '', bits = '32'] = subnet.split('/');
  const a = ipv4ToInt(addr.split('/')[0] ?? '');
  const b = ipv4ToInt(base);
  if (a === undefined || b === undefined) return addr.includes(':') && subnet.includes(':');
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** docker's createIPAMConfig: each --ip-range/--gateway/--aux-address goes to the subnet containing it. */
export function ipamConfigs(o: {
  subnets: string[];
  ranges: string[];
  gateways: string[];
  aux: Record<string, string>;
}): IpamConfig[] {
  const configs: IpamConfig[] = o.subnets.map((s) => ({ Subnet: s }));
  for (const r of o.ranges) {
    const c = configs.find((x) => x.Subnet && inSubnet(r, x.Subnet));
    if (!c) throw new ExitError(1, `no matching subnet for range ${r}`);
    if (c.IPRange)
      throw new ExitError(
        1,
        `cannot configure multiple ranges (${r}, ${c.IPRange}) on the same subnet (${c.Subnet})`,
      );
    c.IPRange = r;
  }
  for (const g of o.gateways) {
    const c = configs.find((x) => x.Subnet && inSubnet(g, x.Subnet));
    if (!c) throw new ExitError(1, `no matching subnet for gateway ${g}`);
    if (c.Gateway)
      throw new ExitError(
        1,
        `cannot configure multiple gateways (${g}, ${c.Gateway}) for the same subnet (${c.Subnet})`,
      );
    c.Gateway = g;
  }
  for (const [k, ip] of Object.entries(o.aux)) {
    const c = configs.find((x) => x.Subnet && inSubnet(ip, x.Subnet));
    if (!c) throw new ExitError(1, `no matching subnet for aux-address ${ip}`);
    c.AuxiliaryAddresses = { ...c.AuxiliaryAddresses, [k]: ip };
  }
  return configs;
}

export async function networkCreateCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const list = (k: string) => (opts[k] as string[] | undefined) ?? [];
  const config = ipamConfigs({
    subnets: list('subnet'),
    ranges: list('ipRange'),
    gateways: list('gateway'),
    aux: keyValueMap(list('auxAddress')),
  });
  const client = await ctx.client();
  const r = await client.networkCreate({
    Name: args[0] ?? '',
    Driver: (opts.driver as string | undefined) ?? 'bridge',
    Options: keyValueMap(list('opt')),
    IPAM: {
      Driver: (opts.ipamDriver as string | undefined) ?? 'default',
      Config: config,
      Options: keyValueMap(list('ipamOpt')),
    },
    Internal: !!opts.internal,
    Attachable: !!opts.attachable,
    ...(opts.ipv6 ? { EnableIPv6: true } : {}),
    Labels: keyValueMap(list('label')),
  });
  if (r.Warning) ctx.err(`WARNING: ${r.Warning}`);
  ctx.out(r.Id);
  return 0;
}

export async function networkLsCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const client = await ctx.client();
  const nets = await client.networkList({ filters: parseFilters(opts.filter as string[] | undefined) });
  nets.sort((a, b) => a.Name.localeCompare(b.Name));
  let format = opts.format as string | undefined;
  if (opts.quiet && (!format || format === 'table')) format = '{{.ID}}';
  const rows = nets.map((n) => networkRow(n, opts.trunc !== false));
  write(ctx, await renderList(rows, { format, defaultTable: NETWORK_TABLE, headers: NETWORK_HEADERS }));
  return 0;
}

export async function networkInspectCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  return inspectEach(ctx, opts.format as string | undefined, args, (n) =>
    client.networkInspect(n, { verbose: !!opts.verbose }),
  );
}

export async function networkConnectCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const [network = '', container = ''] = args;
  const list = (k: string) => (opts[k] as string[] | undefined) ?? [];
  const ip = opts.ip as string | undefined;
  const ip6 = opts.ip6 as string | undefined;
  const linkLocal = list('linkLocalIp');
  const client = await ctx.client();
  await client.networkConnect(network, {
    Container: container,
    EndpointConfig: {
      ...(ip || ip6 || linkLocal.length
        ? {
            IPAMConfig: {
              ...(ip ? { IPv4Address: ip } : {}),
              ...(ip6 ? { IPv6Address: ip6 } : {}),
              ...(linkLocal.length ? { LinkLocalIPs: linkLocal } : {}),
            },
          }
        : {}),
      ...(list('alias').length ? { Aliases: list('alias') } : {}),
      ...(list('link').length ? { Links: list('link') } : {}),
      ...(list('driverOpt').length ? { DriverOpts: keyValueMap(list('driverOpt')) } : {}),
    } as never,
  });
  return 0;
}

export async function networkDisconnectCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const [network = '', container = ''] = args;
  const client = await ctx.client();
  await client.networkDisconnect(network, container, !!opts.force);
  return 0;
}

export async function networkRmCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  const errors: string[] = [];
  for (const name of args) {
    try {
      await client.networkRemove(name);
      ctx.out(name);
    } catch (err) {
      // -f: a network that does not exist is not an error.
      if (opts.force && (err as { kind?: string }).kind === 'NotFound') continue;
      errors.push(errorLine(err));
    }
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}
