/**
 * Docker's resolver address inside a container: containers on user-defined networks are told
 * `nameserver 127.0.0.11`, as Docker tells them (configurations such as nginx's
 * `resolver 127.0.0.11` rely on it). Docker listens on that address inside each network
 * namespace; berth's embedded DNS servers listen on the network gateways in the host's
 * namespace, so an nftables table inside the container's namespace rewrites 127.0.0.11:53 to
 * the gateway (and the loopback source to the container's address, which the server uses to
 * know who asks). route_localnet lets the rewritten packets, whose source was chosen for a
 * loopback destination, leave through eth0.
 */
import { internal } from '../common/index.ts';
import { runCommand } from './ip-command.ts';

export const CONTAINER_RESOLVER = '127.0.0.11';

/** The nftables script for a container namespace whose DNS server is `gateway`. */
export function resolverRedirectScript(gateway: string, address: string): string {
  return [
    'table ip berth_resolver',
    'delete table ip berth_resolver',
    'table ip berth_resolver {',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr ${CONTAINER_RESOLVER} meta l4proto { tcp, udp } th dport 53 dnat to ${gateway}:53`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    ip saddr 127.0.0.0/8 ip daddr ${gateway} meta l4proto { tcp, udp } th dport 53 snat to ${address}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Installs the redirect in the network namespace at `netns` (e.g. /proc/<pid>/ns/net). */
export async function redirectResolver(netns: string, gateway: string, address: string): Promise<void> {
  const sysctl = await runCommand('nsenter', [
    `--net=${netns}`,
    'sh',
    '-c',
    'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet',
  ]);
  if (sysctl.code !== 0) throw internal(`route_localnet: ${sysctl.stderr.trim() || `exit ${sysctl.code}`}`);
  const r = await runCommand(
    'nsenter',
    [`--net=${netns}`, 'nft', '-f', '-'],
    resolverRedirectScript(gateway, address),
  );
  if (r.code !== 0) throw internal(`nft (container resolver): ${r.stderr.trim() || `exit ${r.code}`}`);
}
