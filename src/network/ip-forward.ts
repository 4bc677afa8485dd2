/**
 * dockerd --ip-forward (default true): net.ipv4.ip_forward is set to 1 at startup unless it
 * already is (libnetwork's setupIPForwarding). The setting belongs to berthd's network namespace.
 */
import { readFile, writeFile } from 'node:fs/promises';

export const IPV4_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** dockerd turns this on too when the default bridge has IPv6. */
export const IPV6_FORWARD = '/proc/sys/net/ipv6/conf/all/forwarding';

/** Turns forwarding on (IPv4 unless another sysctl is given); true when it was off (berthd changed it). */
export async function enableIpForward(path = IPV4_FORWARD): Promise<boolean> {
  const now = (await readFile(path, 'utf8')).trim();
  if (now === '1') return false;
  await writeFile(path, '1\n');
  return true;
}

/** Whether IPv4 forwarding is on (docker info's IPv4Forwarding). */
export async function ipForwardEnabled(path = IPV4_FORWARD): Promise<boolean> {
  return (await readFile(path, 'utf8').catch(() => '0')).trim() === '1';
}

/** Whether bridged IPv4/IPv6 traffic passes the netfilter hooks (docker info's BridgeNfIptables). */
export async function bridgeNfCall(family: 'iptables' | 'ip6tables'): Promise<boolean> {
  const path = `/proc/sys/net/bridge/bridge-nf-call-${family}`;
  return (await readFile(path, 'utf8').catch(() => '0')).trim() === '1';
}
