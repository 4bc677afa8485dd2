/**
 * The daemon-wide bridge settings (dockerd --icc, --ip-masq, --iptables, --ip-forward,
 * --fixed-cidr, --default-gateway) and how they shape the default `bridge` network (pure).
 *
 * - icc / ip-masq become the default bridge's enable_icc / enable_ip_masquerade options.
 * - iptables=false: berthd programs no nftables rules; dockerd then turns ip-masq off and refuses
 *   icc=false (verifyDaemonSettings).
 * - fixed-cidr is the sub-pool containers on the default bridge get addresses from (inspect:
 *   IPRange); without --bip it is also the subnet, unless the subnet the bridge already had
 *   contains it (dockerd's getDefaultBridgeIPAMConf/selectBIP).
 * - ip (dockerd --ip) is the default bridge's host_binding_ipv4: where ports published without a
 *   host address are bound.
 * - ipv6 with fixed-cidr-v6: the default bridge also has that IPv6 subnet (gateway: its first
 *   address); dockerd would pick one from IPv6 default-address-pools, which berth does not have.
 * - default-gateway is recorded as the pool's DefaultGatewayIPv4 auxiliary address; libnetwork's
 *   bridge driver gives endpoints that gateway instead of the bridge's address (for any bridge
 *   network that has the auxiliary address, user-defined ones included).
 */
import { invalidParameter } from '../common/index.ts';
import { type Cidr, contains, formatCidr, intToIp, ipToInt, isIpv4, parseCidr } from './ipam.ts';
import { bigToIp6, formatCidr6, parseCidr6 } from './ipam6.ts';
import type { IpamPool } from './network-store.ts';

/** libnetwork's bridge.DefaultGatewayV4AuxKey. */
export const DEFAULT_GATEWAY_AUX = 'DefaultGatewayIPv4';

export interface BridgeDaemonConfig {
  icc: boolean;
  ipMasq: boolean;
  iptables: boolean;
  ipForward: boolean;
  /** Canonical CIDR. */
  fixedCidr?: string;
  defaultGateway?: string;
  /** dockerd --ip: the host address of ports published without one (default bridge's host_binding_ipv4). */
  bindIp?: string;
  /** dockerd --ipv6 with --fixed-cidr-v6 (canonical): the default bridge's IPv6 subnet. */
  ipv6Subnet?: string;
}

/** Checks and completes the daemon's bridge flags as dockerd does (defaults: all true). */
export function bridgeDaemonConfig(values: {
  icc?: boolean;
  ipMasq?: boolean;
  iptables?: boolean;
  ipForward?: boolean;
  fixedCidr?: string;
  defaultGateway?: string;
  ipv6?: boolean;
  fixedCidrV6?: string;
  bip?: string;
  ip?: string;
}): BridgeDaemonConfig {
  const icc = values.icc ?? true;
  const iptables = values.iptables ?? true;
  if (!iptables && !icc) {
    throw invalidParameter(
      'You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true',
    );
  }
  let ipv6Subnet: string | undefined;
  if (values.fixedCidrV6 !== undefined) {
    const c = parseCidr6(values.fixedCidrV6);
    if (c.prefix > 124)
      throw invalidParameter(`fixed-cidr-v6 ${values.fixedCidrV6}: the prefix is too long (at most /124)`);
    // dockerd uses fixed-cidr-v6 only with --ipv6.
    if (values.ipv6) ipv6Subnet = formatCidr6(c);
  }
  if (values.ipv6 && !ipv6Subnet) {
    throw invalidParameter(
      "--ipv6 needs --fixed-cidr-v6: berth has no IPv6 address pools to pick the default bridge's subnet from",
    );
  }
  let fixedCidr: string | undefined;
  if (values.fixedCidr !== undefined) {
    if (!/^[\d.]+\/\d+$/.test(values.fixedCidr) || !isIpv4(values.fixedCidr.split('/')[0] ?? ''))
      throw invalidParameter(`parse fixed-cidr failed: invalid CIDR address: ${values.fixedCidr}`);
    fixedCidr = formatCidr(parseCidr(values.fixedCidr));
    if (values.bip) {
      const subnet = parseCidr(values.bip);
      if (!containsCidr(subnet, parseCidr(fixedCidr)))
        throw invalidParameter(
          `container subnet must be a subset of bridge network: fixed-cidr ${fixedCidr} is not inside bip ${values.bip}`,
        );
    }
  }
  if (values.defaultGateway !== undefined && !isIpv4(values.defaultGateway)) {
    throw invalidParameter(`invalid default-gateway: ${values.defaultGateway}: an IPv4 address`);
  }
  if (values.ip !== undefined && !isIpv4(values.ip)) {
    throw invalidParameter(
      values.ip.includes(':')
        ? `--ip ${values.ip}: berth publishes ports on IPv4 addresses only`
        : `invalid argument "${values.ip}" for "--ip" flag: invalid string being converted to IP address`,
    );
  }
  return {
    icc,
    // dockerd: "if !EnableIPTables && EnableIPMasq { EnableIPMasq = false }".
    ipMasq: iptables && (values.ipMasq ?? true),
    iptables,
    ipForward: values.ipForward ?? true,
    ...(fixedCidr ? { fixedCidr } : {}),
    ...(values.defaultGateway ? { defaultGateway: values.defaultGateway } : {}),
    ...(values.ip ? { bindIp: values.ip } : {}),
    ...(ipv6Subnet ? { ipv6Subnet } : {}),
  };
}

/** Whether `inner` lies wholly inside `outer`. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.base);
}

/**
 * The subnet and gateway of the default bridge before the options: from --bip; else, with
 * fixed-cidr, the previous subnet if it contains fixed-cidr (widened to fixed-cidr's size if it
 * is smaller), or fixed-cidr itself (gateway: its first address); else the previous pool.
 * undefined: a free subnet must be picked.
 */
export function defaultBridgeBase(
  bip: string | undefined,
  fixedCidr: string | undefined,
  previous: { subnet: string; gateway: string } | undefined,
): { subnet: string; gateway: string } | undefined {
  if (bip) return { subnet: formatCidr(parseCidr(bip)), gateway: bip.split('/')[0] as string };
  if (fixedCidr) {
    const fixed = parseCidr(fixedCidr);
    if (previous) {
      const prev = parseCidr(previous.subnet);
      if (contains(prev, fixed.base)) {
        if (fixed.prefix >= prev.prefix) return previous;
        return { subnet: fixedCidr, gateway: previous.gateway };
      }
    }
    return { subnet: fixedCidr, gateway: intToIp(fixed.base + 1) };
  }
  return previous;
}

/** The default bridge's IPAM pool: the base plus fixed-cidr (IPRange) and default-gateway (aux). */
export function defaultBridgePool(
  base: { subnet: string; gateway: string },
  config: Pick<BridgeDaemonConfig, 'fixedCidr' | 'defaultGateway'>,
): IpamPool {
  const subnet = parseCidr(base.subnet);
  if (config.fixedCidr && !containsCidr(subnet, parseCidr(config.fixedCidr)))
    throw invalidParameter(
      `container subnet must be a subset of bridge network: ${config.fixedCidr} is not inside ${base.subnet}`,
    );
  if (config.defaultGateway && !contains(subnet, ipToInt(config.defaultGateway)))
    throw invalidParameter('default gateway ip must be part of the network');
  return {
    subnet: base.subnet,
    gateway: base.gateway,
    ...(config.fixedCidr ? { ipRange: config.fixedCidr } : {}),
    ...(config.defaultGateway ? { auxAddresses: { [DEFAULT_GATEWAY_AUX]: config.defaultGateway } } : {}),
  };
}

/** The default bridge's IPv6 pool: the subnet, its first address as gateway, fixed-cidr-v6 as the range. */
export function defaultBridgePool6(subnet: string): IpamPool {
  const c = parseCidr6(subnet);
  return { subnet, gateway: bigToIp6(c.base + 1n), ipRange: subnet };
}

/** The gateway endpoints on a pool get: its DefaultGatewayIPv4 auxiliary address, else the bridge's. */
export function endpointGateway(pool: IpamPool): string {
  return pool.auxAddresses?.[DEFAULT_GATEWAY_AUX] ?? pool.gateway;
}

/** Go's strconv.ParseBool, which libnetwork's bridge driver uses for its boolean options. */
export function parseBoolOption(key: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw invalidParameter(
    `failed to parse ${key} value: strconv.ParseBool: parsing "${value}": invalid syntax`,
  );
}
