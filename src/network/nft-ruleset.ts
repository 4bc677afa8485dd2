/**
 * berth's whole nftables table, rendered from the desired state (pure). The firewall applies it
 * as one transaction that replaces the previous table, so a change is atomic and removing
 * berth's rules is `delete table inet <name>`: no other table or rule is ever touched.
 *
 * - postrouting: masquerade traffic leaving a (non-internal) bridge's subnet through another
 *   interface (Docker's MASQUERADE rule), and hairpin traffic DNATed back into its own bridge.
 * - forward: containers on different bridges cannot reach each other (Docker's isolation
 *   stages); an internal network's bridge forwards nowhere but to itself.
 * - prerouting/output: published ports are DNATed to the container for traffic addressed to a
 *   local address (output: all but loopback, which the userland proxy serves, as Docker does).
 * - icc=false: traffic between two ports of the bridge is dropped, except what legacy links open
 *   (the linked container's exposed ports, both directions, as libnetwork's link rules).
 * - forwardDrop: dockerd sets the FORWARD policy to DROP when it had to turn ip_forward on; berth's
 *   forward chain then drops by policy and accepts only its bridges' traffic.
 */

export interface NftBridge {
  name: string;
  subnet: string;
  internal: boolean;
  /** Masquerade outgoing traffic (com.docker.network.bridge.enable_ip_masquerade). */
  masquerade: boolean;
  /** Inter-container communication on this bridge (com.docker.network.bridge.enable_icc). */
  icc: boolean;
  /** The IPv6 subnet of an IPv6 network (masqueraded like the IPv4 one). */
  subnet6?: string;
}

export interface NftPort {
  proto: 'tcp' | 'udp';
  /** '' or 0.0.0.0 = every local address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** A legacy link on an icc=false bridge: `from` (the linking container) may reach `to`:port. */
export interface NftLink {
  bridge: string;
  from: string;
  to: string;
  proto: 'tcp' | 'udp';
  port: number;
}

export interface NftState {
  table: string;
  bridges: NftBridge[];
  ports: NftPort[];
  links?: NftLink[];
  /** Drop forwarded traffic that is not the bridges' (set when berthd turned ip_forward on). */
  forwardDrop?: boolean;
}

const q = (s: string) => JSON.stringify(s);

export function renderRuleset(s: NftState): string {
  const lines: string[] = [];
  const t = `inet ${s.table}`;
  // Create-then-delete makes the script valid whether or not the table exists.
  lines.push(`table ${t} {}`, `delete table ${t}`, `table ${t} {`);

  lines.push('  chain publish {');
  for (const p of s.ports) {
    const daddr = p.hostIp && p.hostIp !== '0.0.0.0' ? `ip daddr ${p.hostIp} ` : '';
    lines.push(`    ${daddr}${p.proto} dport ${p.hostPort} dnat ip to ${p.containerIp}:${p.containerPort}`);
  }
  lines.push('  }');

  lines.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;');
  // From an icc=false bridge, published ports are served by the userland proxy (dockerd's DNAT
  // rules skip the bridge itself): DNAT back into the bridge would be dropped as inter-container.
  for (const b of s.bridges) if (!b.icc) lines.push(`    iifname ${q(b.name)} return`);
  lines.push('    fib daddr type local jump publish', '  }');
  lines.push('  chain output {', '    type nat hook output priority -100; policy accept;');
  lines.push('    ip daddr != 127.0.0.0/8 fib daddr type local jump publish', '  }');

  lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const b of s.bridges) {
    if (b.internal || !b.masquerade) continue;
    lines.push(`    ip saddr ${b.subnet} oifname != ${q(b.name)} masquerade`);
    lines.push(`    ip saddr ${b.subnet} oifname ${q(b.name)} ct status dnat masquerade`);
    if (b.subnet6) lines.push(`    ip6 saddr ${b.subnet6} oifname != ${q(b.name)} masquerade`);
  }
  lines.push('  }');

  const policy = s.forwardDrop ? 'drop' : 'accept';
  lines.push('  chain forward {', `    type filter hook forward priority filter; policy ${policy};`);
  for (const b of s.bridges) {
    const others = s.bridges.filter((o) => o.name !== b.name).map((o) => q(o.name));
    if (b.internal) {
      lines.push(`    iifname ${q(b.name)} oifname != ${q(b.name)} drop`);
      lines.push(`    oifname ${q(b.name)} iifname != ${q(b.name)} drop`);
    } else if (others.length > 0) {
      lines.push(`    iifname ${q(b.name)} oifname { ${others.join(', ')} } drop`);
    }
    if (!b.icc) {
      const same = `iifname ${q(b.name)} oifname ${q(b.name)}`;
      for (const l of (s.links ?? []).filter((x) => x.bridge === b.name)) {
        lines.push(`    ${same} ip saddr ${l.from} ip daddr ${l.to} ${l.proto} dport ${l.port} accept`);
        lines.push(`    ${same} ip saddr ${l.to} ip daddr ${l.from} ${l.proto} sport ${l.port} accept`);
      }
      lines.push(`    ${same} drop`);
    }
  }
  if (s.forwardDrop) {
    // dockerd's FORWARD rules under its DROP policy: replies and published ports into a bridge,
    // everything out of a bridge (what was not dropped above).
    for (const b of s.bridges) {
      lines.push(`    oifname ${q(b.name)} ct state related,established accept`);
      lines.push(`    oifname ${q(b.name)} ct status dnat accept`);
      lines.push(`    iifname ${q(b.name)} accept`);
    }
  }
  lines.push('  }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
