/**
 * IPv6 address management for the default bridge's fixed-cidr-v6 (pure): addresses as BigInt,
 * printed in RFC 5952 form (as Go's net.IP.String prints them), sequential allocation from the
 * subnet's first address after the gateway, as libnetwork's default IPAM hands them out.
 */
import { isIPv6 } from 'node:net';
import { invalidParameter } from '../common/index.ts';

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

/** The lowest free address of the subnet after its first (the subnet-router anycast) address. */
export function allocateAddress6(subnet: Cidr6, used: Set<string>): string {
  const size = 1n << BigInt(128 - subnet.prefix);
  const limit = size > 65536n ? 65536n : size;
  for (let k = 1n; k < limit; k++) {
    const ip = bigToIp6(subnet.base + k);
    if (!used.has(ip)) return ip;
  }
  throw invalidParameter(
    `no available IPv6 addresses on this network's address pools: ${formatCidr6(subnet)}`,
  );
}
