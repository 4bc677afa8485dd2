/**
 * IPv4 address management, pure: subnets as CIDR strings, pools to carve subnets from
 * (dockerd's --default-address-pool), and address allocation inside a subnet (gateway first,
 * then the lowest free address of the ip-range, as libnetwork's default IPAM hands them out).
 */
import { invalidParameter } from '../common/index.ts';

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw invalidParameter(`invalid IP address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw invalidParameter(`invalid IP address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIpv4(s: string): boolean {
  try {
    ipToInt(s);
    return true;
  } catch {
    return false;
  }
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `a.b.c.d/n`; the host bits are cleared (`10.1.2.3/24` → 10.1.2.0/24), keepHost keeps them. */
export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw invalidParameter(`invalid CIDR address: ${s}`);
  const prefix = Number(m[2]);
  return { base: (ipToInt(m[1] as string) & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.prefix)) >>> 0 === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/** Docker's default address pools (libnetwork/ipamutils): 172.17-31.0.0/16, then 192.168.x.0/20. */
export const DEFAULT_POOLS: Array<{ base: string; size: number }> = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** `base=10.10.0.0/16,size=24` (dockerd's --default-address-pool). */
export function parseAddressPool(s: string): { base: string; size: number } {
  const fields = Object.fromEntries(
    s.split(',').map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
    }),
  );
  if (!fields.base || !fields.size) throw invalidParameter(`invalid default address pool: ${s}`);
  const base = parseCidr(fields.base);
  const size = Number(fields.size);
  if (!Number.isInteger(size) || size < base.prefix || size > 30) {
    throw invalidParameter(`invalid default address pool: ${s}: size must be between ${base.prefix} and 30`);
  }
  return { base: formatCidr(base), size };
}

/** The first subnet of the pools that overlaps none of `used` (Docker: "all predefined address pools have been fully subnetted"). */
export function pickSubnet(pools: Array<{ base: string; size: number }>, used: Cidr[]): Cidr {
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    const step = 2 ** (32 - pool.size);
    for (let n = base.base; n < base.base + cidrSize(base); n += step) {
      const candidate = { base: n >>> 0, prefix: pool.size };
      if (!used.some((u) => overlaps(u, candidate))) return candidate;
    }
  }
  throw invalidParameter('all predefined address pools have been fully subnetted');
}

/**
 * The lowest free host address in `range` (default: the subnet), skipping the network and
 * broadcast addresses and everything in `used`.
 */
export function allocateAddress(subnet: Cidr, used: Set<string>, range?: Cidr): string {
  const r = range ?? subnet;
  const first = Math.max(r.base, subnet.base + 1);
  const last = Math.min(r.base + cidrSize(r) - 1, subnet.base + cidrSize(subnet) - 2);
  for (let n = first; n <= last; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  throw invalidParameter(
    `no available IPv4 addresses on this network's address pools: ${formatCidr(subnet)}`,
  );
}

/** A MAC from the IPv4 address, as libnetwork generates them: 02:42:<ip bytes>. */
export function macFromIp(ip: string): string {
  const n = ipToInt(ip);
  return ['02', '42', n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
    .map((b) => (typeof b === 'string' ? b : b.toString(16).padStart(2, '0')))
    .join(':');
}

export function isMac(s: string): boolean {
  return /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s);
}
