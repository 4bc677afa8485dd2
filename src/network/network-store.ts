/**
 * Persistent network state under <data-root>/networks: one file per network (its config and
 * IPAM) and one per started container (its endpoints and published ports), each written
 * atomically. Address allocations are derived from the endpoint files, so they cannot drift.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../common/index.ts';
import { writeJsonAtomic } from '../platform/index.ts';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface IpamPool {
  subnet: string;
  gateway: string;
  ipRange?: string;
  auxAddresses?: Record<string, string>;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: NetworkDriver;
  created: string;
  internal: boolean;
  attachable: boolean;
  /** True for the daemon's predefined networks (bridge, host, none): they cannot be removed. */
  predefined: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipam: { driver: string; options: Record<string, string>; config: IpamPool[] };
  /** The Linux bridge (bridge driver only). */
  bridge?: string;
  mtu: number;
  icc: boolean;
  masquerade: boolean;
  /** IPv6 on (the default bridge with --ipv6): ipam.config[1] is the IPv6 pool. */
  enableIPv6?: boolean;
}

export interface EndpointRecord {
  networkId: string;
  endpointId: string;
  address: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  hostIf: string;
  ifName: string;
  aliases: string[];
  links: string[];
  /** The IPAMConfig the user asked for (--ip), shown back in inspect. */
  ipv4Requested?: string;
  macRequested?: string;
  /** On an IPv6 network: the endpoint's IPv6 address, prefix length and gateway. */
  ipv6Address?: string;
  ipv6PrefixLen?: number;
  /** --ip6 as asked (IPAMConfig.IPv6Address in inspect). */
  ipv6Requested?: string;
  ipv6Gateway?: string;
  driverOpts: Record<string, string>;
}

export interface PublishedPort {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

export interface SandboxRecord {
  containerId: string;
  endpoints: EndpointRecord[];
  ports: PublishedPort[];
}

export class NetworkStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async init(): Promise<{ networks: NetworkRecord[]; sandboxes: SandboxRecord[] }> {
    await mkdir(join(this.#root, 'sandboxes'), { recursive: true, mode: 0o700 });
    const networks: NetworkRecord[] = [];
    for (const f of await readdir(this.#root)) {
      if (!f.endsWith('.json')) continue;
      networks.push(JSON.parse(await readFile(join(this.#root, f), 'utf8')) as NetworkRecord);
    }
    const sandboxes: SandboxRecord[] = [];
    for (const f of await readdir(join(this.#root, 'sandboxes'))) {
      if (!f.endsWith('.json')) continue;
      sandboxes.push(JSON.parse(await readFile(join(this.#root, 'sandboxes', f), 'utf8')) as SandboxRecord);
    }
    return { networks, sandboxes };
  }

  async saveNetwork(n: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.#root, `${n.id}.json`), n, 0o600);
  }

  async removeNetwork(id: string): Promise<void> {
    await rm(join(this.#root, `${id}.json`), { force: true });
  }

  async saveSandbox(s: SandboxRecord): Promise<void> {
    await writeJsonAtomic(join(this.#root, 'sandboxes', `${s.containerId}.json`), s, 0o600);
  }

  async removeSandbox(containerId: string): Promise<void> {
    try {
      await rm(join(this.#root, 'sandboxes', `${containerId}.json`));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
}
