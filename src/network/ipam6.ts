/**
 * IPv6 address management for the default bridge's fixed-cidr-v6 (pure): addresses as BigInt,
 * printed in RFC 5952 form (as Go's net.IP.String prints them), sequential allocation from the
 * subnet's first address after the gateway, as libnetwork's default IPAM hands them out.
 */
import { isIPv6 } from 'node:net';
import { forbidden, invalidParameter } from '../common/index.ts';
import type { IpamPool } from './network-store.ts';

export interface Cidr6 {
  base: bigint;
  prefix: number;
}

const ALL = (1n << 128n) - 1n;

export function ip6ToBig(ip: string): bigint {
  if (!isIPv6(ip) || ip.includes('.') || ip.includes('%'))
    throw invalidParameter(`invalid IPv6 address: ${ip}`);
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

export function bigToIp6(n: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // The longest run of two or more zero groups (the first of equal ones) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function isIpv6(s: string): boolean {
  try {
    ip6ToBig(s);
    return true;
  } catch {
    return false;
  }
}

function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

/** Parses `addr/n` (host bits cleared). */
export function parseCidr6(s: string): Cidr6 {
  const i = s.lastIndexOf('/');
  const prefix = Number(s.slice(i + 1));
  if (i < 0 || !/^\d{1,3}$/.test(s.slice(i + 1)) || prefix > 128)
    throw invalidParameter(`invalid CIDR address: ${s}`);
  let base: bigint;
  try {
    base = ip6ToBig(s.slice(0, i));
  } catch {
    throw invalidParameter(`invalid CIDR address: ${s}`);
  }
  return { base: base & mask6(prefix), prefix };
}

export function formatCidr6(c: Cidr6): string {
  return `${bigToIp6(c.base)}/${c.prefix}`;
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.prefix)) === c.base;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  const m = mask6(Math.min(a.prefix, b.prefix));
  return (a.base & m) === (b.base & m);
}

/**
 * The lowest free address of `range` (default: the subnet), never the subnet's first (the
 * subnet-router anycast) address. Looks at most 65536 addresses far.
 */
export function allocateAddress6(subnet: Cidr6, used: Set<string>, range?: Cidr6): string {
  const r = range ?? subnet;
  const first = r.base > subnet.base ? r.base : subnet.base + 1n;
  const end = r.base + (1n << BigInt(128 - r.prefix));
  const last = end - first > 65536n ? first + 65536n : end;
  for (let n = first; n < last; n++) {
    const ip = bigToIp6(n);
    if (!used.has(ip)) return ip;
  }
  throw invalidParameter(
    `no available IPv6 addresses on this network's address pools: ${formatCidr6(subnet)}`,
  );
}

/**
 * The IPv6 pool of a user-defined network from its IPAM config entry (docker network create
 * --ipv6 --subnet … [--gateway …] [--ip-range …] [--aux-address …]), checked as libnetwork's
 * default IPAM checks it. `others`: the IPv6 subnets of the other networks.
 */
export function userPool6(
  p: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> },
  others: Cidr6[],
): IpamPool {
  const subnet = parseCidr6(p.Subnet ?? '');
  const canonical = formatCidr6(subnet);
  if (canonical !== p.Subnet) {
    // Equal addresses written differently (fd00:0::/64) are fine; host bits are not.
    if (ip6ToBig(p.Subnet?.split('/')[0] ?? '') !== subnet.base)
      throw invalidParameter(`invalid subnet ${p.Subnet} : it should be ${canonical}`);
  }
  if (others.some((o) => overlaps6(o, subnet)))
    throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
  const inside = (ip: string, what: string) => {
    if (!isIpv6(ip) || !contains6(subnet, ip6ToBig(ip)))
      throw invalidParameter(`no matching subnet for ${what}`);
    return bigToIp6(ip6ToBig(ip));
  };
  const gateway = p.Gateway ? inside(p.Gateway, `gateway ${p.Gateway}`) : bigToIp6(subnet.base + 1n);
  let ipRange: string | undefined;
  if (p.IPRange) {
    const r = parseCidr6(p.IPRange);
    if (r.prefix < subnet.prefix || !contains6(subnet, r.base))
      throw invalidParameter(`no matching subnet for range ${p.IPRange}`);
    ipRange = formatCidr6(r);
  }
  const aux: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.AuxiliaryAddresses ?? {}))
    aux[k] = inside(v, `aux-address ${k}=${v}`);
  return {
    subnet: canonical,
    gateway,
    ...(ipRange ? { ipRange } : {}),
    ...(Object.keys(aux).length ? { auxAddresses: aux } : {}),
  };
}
