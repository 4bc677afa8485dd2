/**
 * dockerd --ip-forward (default true): net.ipv4.ip_forward is set to 1 at startup unless it
 * already is (libnetwork's setupIPForwarding); with IPv6 on the default bridge,
 * net.ipv6.conf.all.forwarding too. The settings belong to berthd's network namespace.
 */
import { readSysctl, writeSysctl } from '../platform/index.ts';

export const IPV4_FORWARD = 'net.ipv4.ip_forward';
export const IPV6_FORWARD = 'net.ipv6.conf.all.forwarding';

/** Turns forwarding on (IPv4 unless another sysctl is named); true when it was off (berthd changed it). */
export async function enableIpForward(name = IPV4_FORWARD): Promise<boolean> {
  if ((await readSysctl(name)) === '1') return false;
  await writeSysctl(name, '1');
  return true;
}

/** Whether IPv4 forwarding is on (docker info's IPv4Forwarding). */
export async function ipForwardEnabled(): Promise<boolean> {
  return (await readSysctl(IPV4_FORWARD)) === '1';
}

/** Whether bridged IPv4/IPv6 traffic passes the netfilter hooks (docker info's BridgeNfIptables). */
export async function bridgeNfCall(family: 'iptables' | 'ip6tables'): Promise<boolean> {
  return (await readSysctl(`net.bridge.bridge-nf-call-${family}`)) === '1';
}
