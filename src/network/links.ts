/**
 * Bridges and veth pairs. A network's bridge is created with its gateway address when the network
 * is created (or berthd starts) and deleted with the network. An endpoint is a veth pair: the host
 * end joins the bridge, the other end is created directly inside the container's network namespace
 * (given as a path, e.g. /proc/<pid>/ns/net) and renamed to eth0, ethN. When the namespace dies the
 * kernel removes the pair, so a crashed container leaves no veth behind.
 */
import { ipBatch, ipJson } from './ip-command.ts';
import { type Cidr, formatCidr, overlaps, parseCidr } from './ipam.ts';

export interface BridgeConfig {
  name: string;
  /** Gateway address with the subnet's prefix, e.g. 172.17.0.1/16; none for an internal network without gateway. */
  gatewayCidr?: string;
  /** IPv6 gateway address with its prefix (an IPv6 network), e.g. fd00:1::1/64. */
  gateway6Cidr?: string;
  mtu: number;
}

export async function linkExists(name: string): Promise<boolean> {
  const links = await ipJson<Array<{ ifname: string }>>(['link', 'show']);
  return links.some((l) => l.ifname === name);
}

/**
 * Creates the bridge (or takes over an existing one of that name) and gives it the gateway
 * address(es). Other global addresses of the family it manages (IPv4 when it has a gateway, IPv6
 * always) are removed, as libnetwork replaces a bridge's addresses when --bip or IPv6 changed.
 */
export async function ensureBridge(b: BridgeConfig): Promise<void> {
  const lines: string[] = [];
  if (!(await linkExists(b.name))) lines.push(`link add name ${b.name} type bridge`);
  lines.push(`link set dev ${b.name} mtu ${b.mtu}`);
  const addrs = await ipJson<
    Array<{
      ifname: string;
      addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
    }>
  >(['addr', 'show', 'dev', b.name]).catch(() => []);
  const global = addrs.flatMap((a) => a.addr_info).filter((i) => i.scope === 'global');
  for (const i of global) {
    const cidr = `${i.local}/${i.prefixlen}`;
    const stale =
      (i.family === 'inet' && b.gatewayCidr && cidr !== b.gatewayCidr) ||
      (i.family === 'inet6' && cidr !== b.gateway6Cidr);
    if (stale) lines.push(`addr del ${cidr} dev ${b.name}`);
  }
  const has = (cidr: string) => global.some((i) => `${i.local}/${i.prefixlen}` === cidr);
  if (b.gatewayCidr && !has(b.gatewayCidr)) lines.push(`addr add ${b.gatewayCidr} dev ${b.name}`);
  if (b.gateway6Cidr && !has(b.gateway6Cidr)) lines.push(`addr add ${b.gateway6Cidr} dev ${b.name} nodad`);
  lines.push(`link set dev ${b.name} up`);
  await ipBatch(lines);
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await ipBatch([`link del dev ${name}`]);
}

/** The IPv4 routes of the host's main table (to keep new subnets from overlapping them). */
export async function hostRoutes(): Promise<Cidr[]> {
  const routes = await ipJson<Array<{ dst: string }>>(['-4', 'route', 'show']);
  return routes
    .filter((r) => r.dst && r.dst !== 'default')
    .map((r) => parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`));
}

export function routeOverlap(subnet: Cidr, routes: Cidr[]): Cidr | undefined {
  return routes.find((r) => overlaps(r, subnet) && r.prefix > 0);
}

export interface VethConfig {
  /** Network namespace of the container (path). */
  netns: string;
  hostIf: string;
  /** Temporary name of the container end until it is renamed inside the namespace (unique on the host). */
  peerIf: string;
  /** Name inside the container (eth0…). */
  ifName: string;
  bridge: string;
  address: string;
  prefixLen: number;
  /** Default route via this gateway (only for the first network). */
  gateway?: string;
  /** IPv6 address, prefix and default route (an IPv6 network). */
  ipv6?: { address: string; prefixLen: number; gateway?: string };
  mac: string;
  mtu: number;
}

/** Creates the veth pair, plugs it into the bridge and configures the container end. */
export async function addVeth(v: VethConfig): Promise<void> {
  const tmp = v.peerIf;
  await ipBatch([
    `link add name ${v.hostIf} mtu ${v.mtu} type veth peer name ${tmp} mtu ${v.mtu} netns ${v.netns}`,
    `link set dev ${v.hostIf} master ${v.bridge}`,
    `link set dev ${v.hostIf} up`,
  ]);
  try {
    await ipBatch(
      [
        `link set dev ${tmp} name ${v.ifName}`,
        `link set dev ${v.ifName} address ${v.mac}`,
        `addr add ${v.address}/${v.prefixLen} dev ${v.ifName}`,
        `link set dev ${v.ifName} up`,
        ...(v.gateway ? [`route replace default via ${v.gateway} dev ${v.ifName}`] : []),
        ...(v.ipv6 ? [`addr add ${v.ipv6.address}/${v.ipv6.prefixLen} dev ${v.ifName} nodad`] : []),
        ...(v.ipv6?.gateway ? [`route replace default via ${v.ipv6.gateway} dev ${v.ifName}`] : []),
      ],
      { netns: v.netns },
    );
  } catch (err) {
    await deleteLink(v.hostIf).catch(() => {});
    throw err;
  }
}

/** Removes an endpoint's pair from the host side (the namespace may already be gone). */
export async function removeVeth(hostIf: string): Promise<void> {
  await ipBatch([`link del dev ${hostIf}`], { force: true }).catch(() => {});
}

export { formatCidr };
