/**
 * Networks: Docker's network verbs (create/ls/inspect/rm/prune/connect/disconnect) and the glue
 * between containers and the network domain.
 *
 * Lifecycle:
 * - init(): load the records, create the predefined networks (bridge, host, none) on first
 *   start, bring up every bridge and the DNS server of every user-defined network, then apply
 *   berth's nftables table.
 * - container start: the lifecycle calls attach(c, pid, files) after the runtime created the
 *   container (its network namespace exists, the process waits before execve). attach allocates
 *   addresses, plugs a veth per network, opens the published ports' proxies, writes /etc/hosts and
 *   /etc/resolv.conf, records the sandbox and re-applies the firewall. A failure undoes all of it.
 * - container exit: release(id) closes the proxies, removes the veths and the sandbox record.
 * - restore(): after the containers were re-adopted, sandboxes of running containers get their
 *   proxies back; those of containers that are gone are released.
 * - shutdown(): closes DNS servers and proxies (bridges and rules stay, as dockerd leaves them).
 *
 * The daemon's bridge flags (network/default-bridge.ts) shape the default bridge at init: --icc,
 * --ip-masq, --ip (its options), --fixed-cidr, --default-gateway, --ipv6/--fixed-cidr-v6 (its IPAM);
 * --ip-forward turns forwarding on; --iptables=false leaves berth's nftables table out entirely
 * (published ports then work through the userland proxy alone, as with dockerd).
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkCreateResponse,
  NetworkDisconnectRequest,
  NetworkResource,
  NetworkSettings,
} from '../../api/types/index.ts';
import {
  BerthError,
  CleanupStack,
  type Logger,
  conflict,
  errnoCode,
  forbidden,
  internal,
  invalidParameter,
  newId,
  notFound,
} from '../../common/index.ts';
import {
  EmbeddedDns,
  type Cidr,
  type EndpointRecord,
  type NetworkRecord,
  type NftLink,
  NetworkStore,
  type PortProxy,
  type PublishedPort,
  type SandboxRecord,
  addVeth,
  CONTAINER_RESOLVER,
  allocateAddress,
  contains,
  defaultBridgeBase,
  defaultBridgePool,
  defaultBridgePool6,
  allocateAddress6,
  parseCidr6,
  userPool6,
  ip6ToBig,
  bigToIp6,
  contains6,
  isIpv6,
  IPV6_FORWARD,
  deleteLink,
  enableIpForward,
  endpointGateway,
  ensureBridge,
  formatCidr,
  hostRoutes,
  processInterfaceCounters,
  ipToInt,
  isIpv4,
  isMac,
  macFromIp,
  nftApply,
  nftDeleteTable,
  openProxy,
  overlaps,
  parseBoolOption,
  parseCidr,
  pickSubnet,
  redirectResolver,
  removeVeth,
  renderRuleset,
} from '../../network/index.ts';
import type { Container, ContainerStore } from '../containers/container-store.ts';
import { dnsSettings, type ContainerDefaults } from '../containers/container-defaults.ts';
import { hostsFile, readHostResolvConf, resolvConf } from '../containers/host-files.ts';
import { isRunning } from '../containers/state.ts';
import type { Filters } from '../engine.ts';
import type { EventBus } from '../events.ts';
import { makeNetworkFilter, networkSettingsView, networkView } from './network-view.ts';

export interface NetworkOptions {
  /** <data-root>/networks */
  root: string;
  /** Linux bridge of the default `bridge` network (dockerd --bridge, default berth0). */
  defaultBridge: string;
  /** Gateway address and prefix of the default bridge (dockerd --bip); default: the first free pool. */
  bip?: string;
  /** Pools user networks (and the default bridge without --bip) take subnets from. */
  pools: Array<{ base: string; size: number }>;
  /** berth's nftables table (family inet), default `berth`. */
  nftTable: string;
  /** Prefix of the interfaces berth names (bridges of user networks, veths); '' = Docker's br-/veth names. */
  ifacePrefix: string;
  mtu: number;
  events: EventBus;
  log: Logger;
  /** The daemon's --dns, --dns-search and --dns-opt, for containers that set none. */
  containerDefaults?: ContainerDefaults;
  /** dockerd --icc and --ip-masq: the default bridge's enable_icc and enable_ip_masquerade (default true). */
  icc?: boolean;
  ipMasq?: boolean;
  /** dockerd --iptables (default true): false = berthd programs no nftables rules at all. */
  iptables?: boolean;
  /** dockerd --ip-forward (default true): net.ipv4.ip_forward is turned on at startup. */
  ipForward?: boolean;
  /** dockerd --fixed-cidr: the sub-range containers on the default bridge get addresses from. */
  fixedCidr?: string;
  /** dockerd --default-gateway: the default route of containers on the default bridge. */
  defaultGateway?: string;
  /** dockerd --ip: the host address of ports published on the default bridge without one. */
  bindIp?: string;
  /** dockerd --ipv6 with --fixed-cidr-v6: the default bridge's IPv6 subnet. */
  ipv6Subnet?: string;
}

/** Marks that berthd turned ip_forward on: its forward chain then drops by policy (dockerd's FORWARD DROP). */
const FORWARD_DROP_MARK = 'forward-drop';

const DEFAULT_BRIDGE_OPTIONS = (
  bridge: string,
  mtu: number,
  icc: boolean,
  masquerade: boolean,
  bindIp: string,
) => ({
  'com.docker.network.bridge.default_bridge': 'true',
  'com.docker.network.bridge.enable_icc': String(icc),
  'com.docker.network.bridge.enable_ip_masquerade': String(masquerade),
  'com.docker.network.bridge.host_binding_ipv4': bindIp,
  'com.docker.network.bridge.name': bridge,
  'com.docker.network.driver.mtu': String(mtu),
});
const BRIDGE_OPTIONS = new Set([
  'com.docker.network.bridge.name',
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
  'com.docker.network.driver.mtu',
  'com.docker.network.bridge.default_bridge',
  'com.docker.network.bridge.host_binding_ipv4',
]);

/** The files of a container the network side rewrites in place (they are bind-mounted). */
export interface SandboxFiles {
  hosts: string;
  resolvConf: string;
}

export class Networks {
  readonly #o: NetworkOptions;
  readonly #store: NetworkStore;
  readonly #networks = new Map<string, NetworkRecord>();
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #proxies = new Map<string, PortProxy[]>();
  readonly #dns = new Map<string, EmbeddedDns>();
  #containers?: ContainerStore;
  #hostResolv = '';
  /** berthd turned ip_forward on (now or on an earlier start): dockerd's FORWARD policy DROP. */
  #forwardDrop = false;
  /** Serialises every change (allocation, plumbing, records, firewall). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: NetworkOptions) {
    this.#o = options;
    this.#store = new NetworkStore(options.root);
  }

  /** The containers (set once by createEngine: the two services know each other). */
  setContainers(store: ContainerStore): void {
    this.#containers = store;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.catch(() => {}).then(fn);
    this.#queue = next;
    return next;
  }

  async init(): Promise<void> {
    const { networks, sandboxes } = await this.#store.init();
    for (const n of networks) this.#networks.set(n.id, n);
    for (const s of sandboxes) this.#sandboxes.set(s.containerId, s);
    this.#hostResolv = await readHostResolvConf();
    await this.#setupForwarding();
    await this.#ensurePredefined();
    for (const n of this.#networks.values()) {
      if (n.driver !== 'bridge' || !n.bridge) continue;
      await ensureBridge({
        name: n.bridge,
        gatewayCidr: gatewayCidr(n),
        ...(n.enableIPv6 ? { gateway6Cidr: gateway6Cidr(n) } : {}),
        mtu: n.mtu,
      });
      if (!n.predefined) await this.#startDns(n);
    }
    await this.#applyFirewall();
  }

  /**
   * --ip-forward: turn net.ipv4.ip_forward on; when berthd is the one who turned it on and
   * programs rules, its forward chain drops other forwarded traffic from then on (dockerd sets
   * the FORWARD policy to DROP then, and the policy outlives dockerd restarts: the mark does here).
   * --iptables=false: berth's table is removed (a previous run may have left it) and not made again.
   */
  async #setupForwarding(): Promise<void> {
    const mark = join(this.#o.root, FORWARD_DROP_MARK);
    this.#forwardDrop = await readFile(mark, 'utf8').then(
      () => true,
      () => false,
    );
    let turnedOn = false;
    if (this.#o.ipForward !== false && (await enableIpForward())) {
      this.#o.log.info('IPv4 forwarding was off: turned on (net.ipv4.ip_forward=1)');
      turnedOn = true;
    }
    if (this.#o.ipForward !== false && this.#o.ipv6Subnet && (await enableIpForward(IPV6_FORWARD))) {
      this.#o.log.info('IPv6 forwarding was off: turned on (net.ipv6.conf.all.forwarding=1)');
      turnedOn = true;
    }
    if (turnedOn && this.#o.iptables !== false) {
      this.#forwardDrop = true;
      await writeFile(mark, '');
    }
    if (this.#o.iptables === false) await nftDeleteTable('inet', this.#o.nftTable);
  }

  /** After the containers were re-adopted: proxies back for running ones, the rest released. */
  async restore(): Promise<void> {
    for (const s of [...this.#sandboxes.values()]) {
      const c = this.#containers?.find(s.containerId);
      if (c && isRunning(c.state)) {
        const primary = s.endpoints[0];
        const proxies: PortProxy[] = [];
        for (const p of primary ? s.ports : []) {
          try {
            const containerIp = p.hostIp.includes(':') ? primary?.ipv6Address : primary?.address;
            proxies.push(await openProxy({ ...p, containerIp: containerIp ?? '' }));
          } catch (err) {
            this.#o.log.warn('reopening a published port failed', { id: s.containerId, port: p, err });
          }
        }
        this.#proxies.set(s.containerId, proxies);
      } else {
        await this.release(s.containerId);
      }
    }
    await this.#applyFirewall();
  }

  async shutdown(): Promise<void> {
    for (const dns of this.#dns.values()) await dns.close();
    this.#dns.clear();
    for (const list of this.#proxies.values()) for (const p of list) await p.close();
    this.#proxies.clear();
  }

  /** Removes everything berth created on the host for networks (for tests and uninstall). */
  async destroyAll(): Promise<void> {
    await this.shutdown();
    for (const n of this.#networks.values()) if (n.bridge) await deleteLink(n.bridge).catch(() => {});
    await nftDeleteTable('inet', this.#o.nftTable);
  }

  async #ensurePredefined(): Promise<void> {
    const byName = (name: string) => [...this.#networks.values()].find((n) => n.name === name);
    const base = (name: string, driver: NetworkRecord['driver']): NetworkRecord => ({
      id: newId(),
      name,
      driver,
      created: new Date().toISOString(),
      internal: false,
      attachable: false,
      predefined: true,
      labels: {},
      options: {},
      ipam: { driver: 'default', options: {}, config: [] },
      mtu: this.#o.mtu,
      icc: true,
      masquerade: true,
    });
    for (const [name, driver] of [
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (!byName(name)) {
        const n = base(name, driver);
        this.#networks.set(n.id, n);
        await this.#store.saveNetwork(n);
      }
    }
    const bridge = byName('bridge');
    const icc = this.#o.icc ?? true;
    const masquerade = this.#o.ipMasq ?? true;
    const previous = bridge?.bridge === this.#o.defaultBridge ? bridge.ipam.config[0] : undefined;
    let start = defaultBridgeBase(
      this.#o.bip,
      this.#o.fixedCidr,
      previous && { subnet: previous.subnet, gateway: previous.gateway },
    );
    if (!start) {
      const used = [...(await hostRoutes()), ...this.#subnetsExcept(bridge?.id)];
      const subnet = pickSubnet(this.#o.pools, used);
      start = { subnet: formatCidr(subnet), gateway: formatIp(subnet.base + 1) };
    }
    const pool = defaultBridgePool(start, this.#o);
    const pools = [pool, ...(this.#o.ipv6Subnet ? [defaultBridgePool6(this.#o.ipv6Subnet)] : [])];
    const options = DEFAULT_BRIDGE_OPTIONS(
      this.#o.defaultBridge,
      this.#o.mtu,
      icc,
      masquerade,
      this.#o.bindIp ?? '0.0.0.0',
    );
    if (
      bridge?.bridge === this.#o.defaultBridge &&
      JSON.stringify(bridge.ipam.config) === JSON.stringify(pools) &&
      (bridge.enableIPv6 ?? false) === !!this.#o.ipv6Subnet &&
      JSON.stringify(bridge.options) === JSON.stringify(options) &&
      bridge.icc === icc &&
      bridge.masquerade === masquerade
    )
      return;
    // First start, or the daemon's flags changed: the default bridge follows them (an old bridge goes).
    if (bridge?.bridge && bridge.bridge !== this.#o.defaultBridge)
      await deleteLink(bridge.bridge).catch(() => {});
    const n: NetworkRecord = bridge ?? base('bridge', 'bridge');
    n.bridge = this.#o.defaultBridge;
    n.options = options;
    n.icc = icc;
    n.masquerade = masquerade;
    n.ipam = { driver: 'default', options: {}, config: pools };
    if (this.#o.ipv6Subnet) n.enableIPv6 = true;
    else delete n.enableIPv6;
    this.#networks.set(n.id, n);
    await this.#store.saveNetwork(n);
  }

  #subnetsExcept(id?: string) {
    return [...this.#networks.values()]
      .filter((n) => n.id !== id)
      .flatMap((n) => n.ipam.config.filter((p) => !p.subnet.includes(':')).map((p) => parseCidr(p.subnet)));
  }

  // ---- lookups ----

  /** Docker's FindNetwork: full id, then exact name, then unique id prefix. */
  find(ref: string): NetworkRecord {
    const all = [...this.#networks.values()];
    const hit =
      this.#networks.get(ref) ??
      all.find((n) => n.name === ref) ??
      (() => {
        const byPrefix = all.filter((n) => n.id.startsWith(ref));
        if (byPrefix.length > 1)
          throw invalidParameter(
            `network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`,
          );
        return byPrefix[0];
      })();
    if (!hit || ref === '') throw notFound(`network ${ref} not found`);
    return hit;
  }

  #endpointsOf(networkId: string): Array<{ containerId: string; endpoint: EndpointRecord }> {
    const out: Array<{ containerId: string; endpoint: EndpointRecord }> = [];
    for (const s of this.#sandboxes.values()) {
      for (const e of s.endpoints)
        if (e.networkId === networkId) out.push({ containerId: s.containerId, endpoint: e });
    }
    return out;
  }

  #containerName(id: string): string {
    return this.#containers?.find(id)?.record.name ?? id.slice(0, 12);
  }

  // ---- API verbs ----

  async list(options: { filters: Filters }): Promise<NetworkResource[]> {
    const keep = makeNetworkFilter(options.filters, (id) => this.#endpointsOf(id).length > 0);
    return [...this.#networks.values()].filter(keep).map((n) => this.#view(n, false));
  }

  async inspect(ref: string): Promise<NetworkResource> {
    return this.#view(this.find(ref), true);
  }

  #view(n: NetworkRecord, withContainers: boolean): NetworkResource {
    return networkView(
      n,
      this.#endpointsOf(n.id).map((e) => ({
        id: e.containerId,
        name: this.#containerName(e.containerId),
        endpoint: e.endpoint,
      })),
      withContainers,
    );
  }

  create(body: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.#serial(() => this.#create(body));
  }

  async #create(body: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    const name = body.Name ?? '';
    if (!name) throw invalidParameter('network name must not be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidParameter(`invalid network name: ${name}`);
    if ([...this.#networks.values()].some((n) => n.name === name)) {
      throw conflict(`network with name ${name} already exists`);
    }
    const driver = body.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') {
      throw forbidden(`only one instance of "${driver}" network is allowed`);
    }
    if (driver !== 'bridge') {
      throw notFound(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
    }
    if (body.EnableIPv4 === false)
      throw invalidParameter('berth networks always have IPv4: EnableIPv4=false is not supported');
    if (body.Ingress) throw forbidden('berth has no swarm mode: ingress networks are not supported');
    if (body.ConfigOnly || body.ConfigFrom?.Network) {
      throw invalidParameter(
        'config-only networks (--config-only, --config-from) are not supported by berth',
      );
    }
    if (body.Scope && body.Scope !== 'local')
      throw invalidParameter(`scope ${body.Scope} is not supported: only local`);
    if (body.IPAM?.Driver && body.IPAM.Driver !== 'default') {
      throw notFound(`could not find plugin ${body.IPAM.Driver} in v1 plugin registry: plugin not found`);
    }
    const options = { ...(body.Options ?? {}) };
    for (const key of Object.keys(options)) {
      if (
        (key.startsWith('com.docker.network.bridge.') || key.startsWith('com.docker.network.driver.')) &&
        !BRIDGE_OPTIONS.has(key)
      ) {
        throw invalidParameter(`berth does not support the bridge option ${key}`);
      }
    }
    const id = newId();
    const bridge = options['com.docker.network.bridge.name'] || this.#bridgeName(id);
    if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge))
      throw invalidParameter(`invalid bridge name: ${bridge}`);
    if ([...this.#networks.values()].some((n) => n.bridge === bridge)) {
      throw conflict(`bridge name ${bridge} is already used by another network`);
    }
    const mtu = options['com.docker.network.driver.mtu']
      ? Number(options['com.docker.network.driver.mtu'])
      : this.#o.mtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      throw invalidParameter(`invalid MTU: ${options['com.docker.network.driver.mtu']}`);
    const pools = (body.IPAM?.Config ?? []).filter((p) => !p.Subnet?.includes(':'));
    const pools6 = (body.IPAM?.Config ?? []).filter((p) => p.Subnet?.includes(':'));
    if (pools.length > 1) throw invalidParameter('berth supports one IPv4 subnet per network');
    if (pools6.length > 1) throw invalidParameter('berth supports one IPv6 subnet per network');
    if (pools6.length && !body.EnableIPv6)
      throw invalidParameter('an IPv6 subnet needs IPv6 enabled on the network (--ipv6)');
    if (body.EnableIPv6 && !pools6.length)
      throw invalidParameter(
        'berth has no IPv6 address pools to pick a subnet from: give an IPv6 --subnet with --ipv6',
      );
    const pool6 = pools6[0]
      ? userPool6(
          pools6[0],
          [...this.#networks.values()].flatMap((x) =>
            x.enableIPv6 && x.ipam.config[1] ? [parseCidr6(x.ipam.config[1].subnet)] : [],
          ),
        )
      : undefined;
    const p = pools[0];
    let subnet: Cidr;
    if (p?.Subnet) {
      subnet = parseCidr(p.Subnet);
      if (formatCidr(subnet) !== p.Subnet)
        throw invalidParameter(`invalid subnet ${p.Subnet} : it should be ${formatCidr(subnet)}`);
      if (this.#subnetsExcept().some((u) => overlaps(u, subnet))) {
        throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
      }
    } else {
      if (p?.Gateway || p?.IPRange) throw invalidParameter('ip-range and gateway need a subnet (--subnet)');
      subnet = pickSubnet(this.#o.pools, [...(await hostRoutes()), ...this.#subnetsExcept()]);
    }
    if (subnet.prefix > 30) throw invalidParameter(`subnet ${formatCidr(subnet)} is too small`);
    const gateway = p?.Gateway || formatIp(subnet.base + 1);
    if (!isIpv4(gateway) || !contains(subnet, ipToInt(gateway))) {
      throw invalidParameter(`no matching subnet for gateway ${gateway}`);
    }
    let ipRange: string | undefined;
    if (p?.IPRange) {
      const r = parseCidr(p.IPRange);
      if (!contains(subnet, r.base) || r.prefix < subnet.prefix)
        throw invalidParameter(`no matching subnet for range ${p.IPRange}`);
      ipRange = formatCidr(r);
    }
    const aux = p?.AuxiliaryAddresses ?? {};
    for (const [k, v] of Object.entries(aux)) {
      if (!isIpv4(v) || !contains(subnet, ipToInt(v)))
        throw invalidParameter(`no matching subnet for aux-address ${k}=${v}`);
    }
    const flag = (key: string) => parseBoolOption(key, options[key], true);
    const icc = flag('com.docker.network.bridge.enable_icc');
    if (!icc && this.#o.iptables === false) {
      throw invalidParameter(
        'com.docker.network.bridge.enable_icc=false needs firewall rules, and berthd runs with --iptables=false',
      );
    }
    const bindIp = options['com.docker.network.bridge.host_binding_ipv4'];
    if (bindIp !== undefined && !isIpv4(bindIp))
      throw invalidParameter(`failed to parse com.docker.network.bridge.host_binding_ipv4 value: ${bindIp}`);
    const n: NetworkRecord = {
      id,
      name,
      driver: 'bridge',
      created: new Date().toISOString(),
      internal: body.Internal ?? false,
      attachable: body.Attachable ?? false,
      predefined: false,
      labels: { ...(body.Labels ?? {}) },
      options,
      ipam: {
        driver: 'default',
        options: { ...(body.IPAM?.Options ?? {}) },
        config: [
          {
            subnet: formatCidr(subnet),
            gateway,
            ...(ipRange ? { ipRange } : {}),
            ...(Object.keys(aux).length ? { auxAddresses: aux } : {}),
          },
          ...(pool6 ? [pool6] : []),
        ],
      },
      bridge,
      mtu,
      icc,
      ...(pool6 ? { enableIPv6: true } : {}),
      masquerade: this.#o.iptables !== false && flag('com.docker.network.bridge.enable_ip_masquerade'),
    };
    const undo = new CleanupStack();
    try {
      await ensureBridge({
        name: bridge,
        gatewayCidr: gatewayCidr(n),
        ...(pool6 ? { gateway6Cidr: gateway6Cidr(n) } : {}),
        mtu,
      });
      undo.defer(() => deleteLink(bridge));
      this.#networks.set(id, n);
      undo.defer(() => this.#networks.delete(id));
      await this.#startDns(n);
      undo.defer(() => this.#stopDns(id));
      await this.#applyFirewall();
      await this.#store.saveNetwork(n);
      undo.commit();
    } catch (err) {
      await undo.rollback().catch(() => {});
      await this.#applyFirewall().catch(() => {});
      throw err;
    }
    this.#o.events.publish('network', 'create', id, { name, type: 'bridge' });
    return { Id: id, Warning: '' };
  }

  remove(ref: string): Promise<void> {
    return this.#serial(async () => {
      const n = this.find(ref);
      if (n.predefined) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`);
      if (this.#endpointsOf(n.id).length > 0) {
        throw forbidden(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
      }
      await this.#removeNetwork(n);
    });
  }

  async #removeNetwork(n: NetworkRecord): Promise<void> {
    await this.#stopDns(n.id);
    if (n.bridge) await deleteLink(n.bridge);
    this.#networks.delete(n.id);
    await this.#applyFirewall();
    await this.#store.removeNetwork(n.id);
    this.#o.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  prune(options: { filters: Filters }): Promise<{ NetworksDeleted: string[] | null }> {
    return this.#serial(async () => {
      const f = { ...options.filters };
      const until = f.until;
      delete f.until;
      const keep = makeNetworkFilter(f, () => false);
      const deleted: string[] = [];
      for (const n of [...this.#networks.values()]) {
        if (n.predefined || !keep(n) || this.#endpointsOf(n.id).length > 0) continue;
        if (until?.length && !until.every((u) => Date.parse(n.created) < untilTime(u))) continue;
        // Docker keeps networks that containers (even stopped ones) are configured to use.
        if (
          this.#containers
            ?.all()
            .some((c) => configuredNetworks(c).includes(n.name) || configuredNetworks(c).includes(n.id))
        )
          continue;
        await this.#removeNetwork(n);
        deleted.push(n.name);
      }
      return { NetworksDeleted: deleted.length ? deleted : null };
    });
  }

  /** Validates a container's network configuration at create (Docker: 404 for an unknown network). */
  validateContainer(spec: {
    network: { mode: string; endpoints: Record<string, { ipv4Address?: string; ipv6Address?: string }> };
  }): void {
    const mode = spec.network.mode;
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return;
    const names = new Set([
      mode === 'default' ? 'bridge' : mode,
      ...Object.keys(spec.network.endpoints).map(netName),
    ]);
    for (const name of names) {
      // Docker checks that networks exist at start, not at create (docker create succeeds).
      const n = [...this.#networks.values()].find((x) => x.name === name || x.id === name);
      if (!n) continue;
      const req =
        spec.network.endpoints[name] ?? (name === 'bridge' ? spec.network.endpoints.default : undefined);
      if (n.predefined && ((req?.ipv4Address ?? '') !== '' || (req?.ipv6Address ?? '') !== '')) {
        throw invalidParameter('user specified IP address is supported on user defined networks only');
      }
    }
  }

  async connect(ref: string, body: NetworkConnectRequest): Promise<void> {
    const n = this.find(ref);
    const c = this.#containers!.get(body.Container);
    if (n.driver !== 'bridge') {
      throw forbidden('container cannot be disconnected from host network or connected to host network');
    }
    const mode = c.record.spec.network.mode;
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
      throw forbidden(
        `container sharing network namespace with another container or host cannot be connected to any other network`,
      );
    }
    const cfg = body.EndpointConfig ?? {};
    if (n.predefined && cfg.IPAMConfig?.IPv4Address) {
      throw invalidParameter('user specified IP address is supported on user defined networks only');
    }
    const configured = configuredNetworks(c);
    if (configured.includes(n.name) || configured.includes(n.id)) {
      throw forbidden(`endpoint with name ${c.record.name} already exists in network ${n.name}`);
    }
    if (isModeNetwork(mode, n)) delete c.record.spec.network.modeDetached;
    c.record.spec.network.endpoints[n.name] = {
      aliases: [...(cfg.Aliases ?? [])],
      links: [...(cfg.Links ?? [])],
      ...(cfg.IPAMConfig?.IPv4Address ? { ipv4Address: cfg.IPAMConfig.IPv4Address } : {}),
      linkLocalIps: [...(cfg.IPAMConfig?.LinkLocalIPs ?? [])],
      ...(cfg.MacAddress ? { macAddress: cfg.MacAddress } : {}),
      driverOpts: { ...(cfg.DriverOpts ?? {}) },
    };
    if (isRunning(c.state)) {
      try {
        await this.#serial(async () => {
          const s = this.#sandboxes.get(c.record.id);
          if (!s) throw conflict(`container ${c.record.id} has no network sandbox`);
          const e = await this.#plumb(
            c,
            n,
            c.state.status === 'running' || c.state.status === 'paused' ? c.state.pid : 0,
            `eth${s.endpoints.length}`,
            // A container left without networks takes its default route from the next one.
            s.endpoints.length === 0,
          );
          s.endpoints.push(e);
          await this.#store.saveSandbox(s);
        });
      } catch (err) {
        delete c.record.spec.network.endpoints[n.name];
        throw err;
      }
    }
    await this.#containers!.saveRecord(c);
    this.#o.events.publish('network', 'connect', n.id, {
      container: c.record.id,
      name: n.name,
      type: n.driver,
    });
  }

  async disconnect(ref: string, body: NetworkDisconnectRequest): Promise<void> {
    const n = this.find(ref);
    const c = this.#containers!.get(body.Container);
    if (n.driver !== 'bridge') {
      throw forbidden('container cannot be disconnected from host network or connected to host network');
    }
    const configured = configuredNetworks(c);
    if (!configured.includes(n.name) && !configured.includes(n.id)) {
      throw forbidden(`container ${c.record.id} is not connected to network ${n.name}`);
    }
    await this.#serial(async () => {
      const s = this.#sandboxes.get(c.record.id);
      const e = s?.endpoints.find((x) => x.networkId === n.id);
      if (s && e) {
        await removeVeth(e.hostIf);
        s.endpoints = s.endpoints.filter((x) => x !== e);
        await this.#store.saveSandbox(s);
        await this.#applyFirewall();
      }
    });
    const spec = c.record.spec.network;
    for (const key of Object.keys(spec.endpoints))
      if (netName(key) === n.name || key === n.id) delete spec.endpoints[key];
    // Docker keeps HostConfig.NetworkMode: the container is just no longer on that network.
    if (isModeNetwork(spec.mode, n)) spec.modeDetached = true;
    await this.#containers!.saveRecord(c);
    this.#o.events.publish('network', 'disconnect', n.id, {
      container: c.record.id,
      name: n.name,
      type: n.driver,
    });
  }

  // ---- containers ----

  /**
   * Connects a created container (pid: its init, waiting before execve) to its networks and
   * publishes its ports. Rolls back on failure.
   */
  attach(c: Container, pid: number, files: SandboxFiles): Promise<void> {
    return this.#serial(async () => {
      const id = c.record.id;
      const net = c.record.spec.network;
      if (net.modeDetached && this.#networkNames(c).length === 0) {
        // Docker: a container starting without any network is given its mode's network again.
        delete net.modeDetached;
        await this.#containers!.saveRecord(c);
      }
      const names = this.#networkNames(c);
      const undo = new CleanupStack();
      try {
        const sandbox: SandboxRecord = { containerId: id, endpoints: [], ports: [] };
        for (const [i, name] of names.entries()) {
          const n = this.find(name);
          if (n.driver !== 'bridge')
            throw forbidden(`container cannot be connected to network ${n.name} and to ${names[0]}`);
          const e = await this.#plumb(c, n, pid, `eth${i}`, i === 0);
          undo.defer(() => removeVeth(e.hostIf));
          sandbox.endpoints.push(e);
        }
        const primary = sandbox.endpoints[0];
        const primaryNet = primary ? this.#networks.get(primary.networkId) : undefined;
        const gateway = primaryNet?.ipam.config[0]?.gateway;
        if (primary && primaryNet && !primaryNet.predefined && gateway) {
          // 127.0.0.11 inside the container reaches the network's embedded DNS server.
          await redirectResolver(`/proc/${pid}/ns/net`, gateway, primary.address);
        }
        const proxies: PortProxy[] = [];
        undo.defer(async () => {
          for (const p of proxies) await p.close();
        });
        if (primary && primaryNet && !primaryNet.internal) {
          // com.docker.network.bridge.host_binding_ipv4: the host address of ports published without one.
          const bindIp = primaryNet.options['com.docker.network.bridge.host_binding_ipv4'] ?? '';
          for (const want of this.#wantedPorts(c)) {
            if (!want.hostIp && bindIp && bindIp !== '0.0.0.0') want.hostIp = bindIp;
            const { proxy, port } = await this.#publish(c, primary, want);
            proxies.push(proxy);
            sandbox.ports.push(port);
            if (primary.ipv6Address && !want.hostIp) {
              // On an IPv6 network dockerd also publishes on [::], with the same host port.
              const v6 = { ...want, hostIp: '::', hostPort: String(port.hostPort) };
              const six = await this.#publish(c, primary, v6, primary.ipv6Address);
              proxies.push(six.proxy);
              sandbox.ports.push(six.port);
            }
          }
        }
        this.#sandboxes.set(id, sandbox);
        undo.defer(() => this.#sandboxes.delete(id));
        await this.#store.saveSandbox(sandbox);
        undo.defer(() => this.#store.removeSandbox(id));
        this.#proxies.set(id, proxies);
        undo.defer(() => this.#proxies.delete(id));
        await this.#applyFirewall();
        await this.#writeFiles(c, sandbox, files);
        undo.commit();
      } catch (err) {
        await undo.rollback().catch((e) => this.#o.log.warn('network rollback failed', { id, err: e }));
        await this.#applyFirewall().catch(() => {});
        throw err;
      }
    });
  }

  /** Files for a container without a sandbox of its own (host, none, container:<x>). */
  async writeFilesWithoutSandbox(c: Container, files: SandboxFiles): Promise<void> {
    const mode = c.record.spec.network.mode;
    if (mode === 'host') {
      // Docker gives host-network containers the host's /etc/hosts (plus --add-host lines).
      const host = await import('node:fs/promises')
        .then((fs) => fs.readFile('/etc/hosts', 'utf8'))
        .catch(() => '');
      await writeFile(
        files.hosts,
        host +
          this.#extraHostLines(c)
            .map((l) => `${l.ip}\t${l.names.join(' ')}\n`)
            .join(''),
      );
    } else if (mode === 'none' || mode.startsWith('container:')) {
      await writeFile(files.hosts, hostsFile(this.#extraHostLines(c)));
    }
  }

  /** Releases a container's sandbox: proxies, veths, records. Idempotent. */
  release(containerId: string): Promise<void> {
    return this.#serial(async () => {
      for (const p of this.#proxies.get(containerId) ?? []) await p.close().catch(() => {});
      this.#proxies.delete(containerId);
      const s = this.#sandboxes.get(containerId);
      if (!s) return;
      for (const e of s.endpoints) await removeVeth(e.hostIf);
      this.#sandboxes.delete(containerId);
      await this.#store.removeSandbox(containerId);
      await this.#applyFirewall();
    });
  }

  /** NetworkSettings of container inspect. */
  settings(c: Container): NetworkSettings {
    const mode = c.record.spec.network.mode;
    const running = isRunning(c.state);
    const sandbox = this.#sandboxes.get(c.record.id);
    const pid = c.state.status === 'running' || c.state.status === 'paused' ? c.state.pid : undefined;
    let networks: Array<{ name: string; endpoint?: EndpointRecord; dnsNames: string[] | null }>;
    if (mode === 'host' || mode === 'none') networks = [{ name: mode, dnsNames: null }];
    else if (mode.startsWith('container:')) networks = [];
    else {
      networks = this.#networkNames(c).map((name) => {
        const n = [...this.#networks.values()].find((x) => x.name === name || x.id === name);
        const endpoint = n ? sandbox?.endpoints.find((e) => e.networkId === n.id) : undefined;
        return {
          name: n?.name ?? name,
          endpoint,
          dnsNames: n && !n.predefined && endpoint ? this.#dnsNames(c, endpoint) : null,
        };
      });
    }
    const exposed = [
      ...new Set([...c.record.spec.exposedPorts, ...Object.keys(c.record.spec.network.portBindings)]),
    ];
    return networkSettingsView({ mode, networks, sandbox, pid, exposed, running });
  }

  /** Published ports of a running container (for `docker ps`). */
  ports(containerId: string): PublishedPort[] {
    return this.#sandboxes.get(containerId)?.ports ?? [];
  }

  /** Interface counters for stats (`networks` of GET /containers/{id}/stats). */
  async counters(pid: number): Promise<Record<string, Record<string, number>>> {
    return processInterfaceCounters(pid);
  }

  /** The environment variables of --link (Docker's legacy links), for the container's process. */
  linkEnv(c: Container): string[] {
    const env: string[] = [];
    // Docker (setupLinkedContainers): legacy links only act on the default bridge; on a
    // user-defined network they are endpoint aliases, answered by the embedded DNS.
    if (!this.#onDefaultBridge(c)) return env;
    for (const link of c.record.spec.network.links) {
      const { target, alias } = parseLink(link);
      const other = this.#containers?.find(target);
      if (!other || !isRunning(other.state)) {
        throw invalidParameter(`could not get container for ${target}`);
      }
      const ip = this.#sandboxes
        .get(other.record.id)
        ?.endpoints.find((e) => this.#networks.get(e.networkId)?.name === 'bridge')?.address;
      if (!ip)
        throw invalidParameter(`Cannot link to ${target}, as it does not belong to the default network`);
      const prefix = alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
      env.push(`${prefix}_NAME=/${c.record.name}/${alias}`);
      const ports = [...other.record.spec.exposedPorts].sort(
        (a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10),
      );
      if (ports[0]) {
        const [port, proto] = ports[0].split('/');
        env.push(`${prefix}_PORT=${proto}://${ip}:${port}`);
      }
      for (const p of ports) {
        const [port, proto] = p.split('/') as [string, string];
        const k = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
        env.push(
          `${k}=${proto}://${ip}:${port}`,
          `${k}_ADDR=${ip}`,
          `${k}_PORT=${port}`,
          `${k}_PROTO=${proto}`,
        );
      }
      for (const e of other.record.spec.env) {
        const i = e.indexOf('=');
        const key = i < 0 ? e : e.slice(0, i);
        if (['HOME', 'PATH', 'HOSTNAME'].includes(key)) continue;
        env.push(`${prefix}_ENV_${e}`);
      }
    }
    return env;
  }

  #onDefaultBridge(c: Container): boolean {
    const mode = c.record.spec.network.mode;
    return mode === 'default' || mode === 'bridge';
  }

  #networkNames(c: Container): string[] {
    const net = c.record.spec.network;
    if (net.disabled) return [];
    const mode = net.mode;
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return [];
    const first = mode === 'default' ? 'bridge' : mode;
    const rest = Object.keys(net.endpoints).map(netName);
    const others = rest.filter((n, i) => n !== first && n !== mode && rest.indexOf(n) === i);
    return net.modeDetached ? others : [first, ...others];
  }

  async #plumb(
    c: Container,
    n: NetworkRecord,
    pid: number,
    ifName: string,
    isPrimary: boolean,
  ): Promise<EndpointRecord> {
    const pool = n.ipam.config[0];
    if (!pool) throw internal(`network ${n.name} has no address pool`);
    const subnet = parseCidr(pool.subnet);
    const used = new Set<string>([pool.gateway, ...Object.values(pool.auxAddresses ?? {})]);
    for (const e of this.#endpointsOf(n.id)) used.add(e.endpoint.address);
    const eps = c.record.spec.network.endpoints;
    const req = eps[n.name] ?? eps[n.id] ?? (n.name === 'bridge' ? eps.default : undefined);
    let address: string;
    if (req?.ipv4Address) {
      if (n.predefined)
        throw invalidParameter('user specified IP address is supported on user defined networks only');
      if (!isIpv4(req.ipv4Address) || !contains(subnet, ipToInt(req.ipv4Address))) {
        throw invalidParameter(`no matching subnet for address ${req.ipv4Address}`);
      }
      if (used.has(req.ipv4Address)) throw conflict(`Address already in use: ${req.ipv4Address}`);
      address = req.ipv4Address;
    } else {
      address = allocateAddress(subnet, used, pool.ipRange ? parseCidr(pool.ipRange) : undefined);
    }
    const pool6 = n.enableIPv6 ? n.ipam.config[1] : undefined;
    let ipv6: { address: string; prefixLen: number; gateway: string } | undefined;
    if (req?.ipv6Address) {
      if (n.predefined)
        throw invalidParameter('user specified IP address is supported on user defined networks only');
      if (!pool6)
        throw invalidParameter(`network ${n.name} has no IPv6 subnet: cannot use --ip6 ${req.ipv6Address}`);
    }
    if (pool6) {
      const used6 = new Set<string>([pool6.gateway, ...Object.values(pool6.auxAddresses ?? {})]);
      for (const x of this.#endpointsOf(n.id)) if (x.endpoint.ipv6Address) used6.add(x.endpoint.ipv6Address);
      const subnet6 = parseCidr6(pool6.subnet);
      let address6: string;
      if (req?.ipv6Address) {
        if (!isIpv6(req.ipv6Address) || !contains6(subnet6, ip6ToBig(req.ipv6Address)))
          throw invalidParameter(`no matching subnet for address ${req.ipv6Address}`);
        address6 = bigToIp6(ip6ToBig(req.ipv6Address));
        if (used6.has(address6)) throw conflict(`Address already in use: ${req.ipv6Address}`);
      } else {
        address6 = allocateAddress6(subnet6, used6, pool6.ipRange ? parseCidr6(pool6.ipRange) : undefined);
      }
      ipv6 = { address: address6, prefixLen: subnet6.prefix, gateway: pool6.gateway };
    }
    const macWanted = req?.macAddress || (isPrimary ? c.record.spec.network.macAddress : '');
    if (macWanted && !isMac(macWanted)) throw invalidParameter(`invalid MAC address: ${macWanted}`);
    const mac = (macWanted || macFromIp(address)).toLowerCase();
    const hex = randomBytes(4).toString('hex');
    const e: EndpointRecord = {
      networkId: n.id,
      endpointId: randomBytes(32).toString('hex'),
      address,
      prefixLen: subnet.prefix,
      gateway: n.internal ? '' : endpointGateway(pool),
      mac,
      hostIf: this.#o.ifacePrefix ? `${this.#o.ifacePrefix}v${hex}`.slice(0, 15) : `veth${hex.slice(0, 7)}`,
      ifName,
      aliases: [...(req?.aliases ?? [])],
      links: [...(req?.links ?? [])],
      ...(req?.ipv4Address ? { ipv4Requested: req.ipv4Address } : {}),
      ...(req?.ipv6Address ? { ipv6Requested: req.ipv6Address } : {}),
      ...(macWanted ? { macRequested: macWanted } : {}),
      driverOpts: { ...(req?.driverOpts ?? {}) },
      ...(ipv6
        ? {
            ipv6Address: ipv6.address,
            ipv6PrefixLen: ipv6.prefixLen,
            ipv6Gateway: n.internal ? '' : ipv6.gateway,
          }
        : {}),
    };
    await addVeth({
      netns: `/proc/${pid}/ns/net`,
      hostIf: e.hostIf,
      peerIf: this.#o.ifacePrefix ? `${this.#o.ifacePrefix}c${hex}`.slice(0, 15) : `vethc${hex.slice(0, 7)}`,
      ifName,
      bridge: n.bridge ?? '',
      address,
      prefixLen: subnet.prefix,
      gateway: isPrimary && !n.internal ? endpointGateway(pool) : undefined,
      ...(ipv6
        ? {
            ipv6: {
              address: ipv6.address,
              prefixLen: ipv6.prefixLen,
              ...(isPrimary && !n.internal ? { gateway: ipv6.gateway } : {}),
            },
          }
        : {}),
      mac,
      mtu: n.mtu,
    });
    return e;
  }

  #wantedPorts(
    c: Container,
  ): Array<{ proto: 'tcp' | 'udp'; containerPort: number; hostIp: string; hostPort: string }> {
    const spec = c.record.spec;
    const bindings: Record<string, Array<{ hostIp: string; hostPort: string }>> = {};
    for (const [k, v] of Object.entries(spec.network.portBindings))
      bindings[k] = v.length ? v : [{ hostIp: '', hostPort: '' }];
    if (spec.network.publishAllPorts) {
      for (const p of spec.exposedPorts) if (!bindings[p]) bindings[p] = [{ hostIp: '', hostPort: '' }];
    }
    const out = [];
    for (const [key, list] of Object.entries(bindings)) {
      const [port, proto = 'tcp'] = key.split('/') as [string, string];
      if (proto !== 'tcp' && proto !== 'udp') throw invalidParameter(`berth does not publish ${proto} ports`);
      for (const b of list) {
        if (b.hostIp && !isIpv4(b.hostIp)) {
          if (b.hostIp.includes(':')) continue; // IPv6 bindings: berth networks are IPv4 only.
          throw invalidParameter(`invalid host IP: ${b.hostIp}`);
        }
        out.push({
          proto: proto as 'tcp' | 'udp',
          containerPort: Number(port),
          hostIp: b.hostIp,
          hostPort: b.hostPort,
        });
      }
    }
    return out;
  }

  async #publish(
    c: Container,
    e: EndpointRecord,
    want: { proto: 'tcp' | 'udp'; containerPort: number; hostIp: string; hostPort: string },
    containerIp = e.address,
  ): Promise<{ proxy: PortProxy; port: PublishedPort }> {
    const m = /^(\d*)(?:-(\d+))?$/.exec(want.hostPort);
    if (!m) throw invalidParameter(`invalid host port: ${want.hostPort}`);
    const from = m[1] ? Number(m[1]) : 0;
    const to = m[2] ? Number(m[2]) : from;
    const ip = want.hostIp || '0.0.0.0';
    let lastErr: unknown;
    for (let port = from; port <= to; port++) {
      try {
        const proxy = await openProxy({
          proto: want.proto,
          hostIp: want.hostIp,
          hostPort: port,
          containerIp,
          containerPort: want.containerPort,
        });
        return {
          proxy,
          port: {
            proto: want.proto,
            hostIp: ip,
            hostPort: proxy.hostPort,
            containerPort: want.containerPort,
          },
        };
      } catch (err) {
        lastErr = err;
      }
    }
    const reason =
      errnoCode(lastErr) === 'EADDRINUSE' ? 'port is already allocated' : (lastErr as Error).message;
    throw new BerthError(
      'Internal',
      `driver failed programming external connectivity on endpoint ${c.record.name} (${e.endpointId}): Bind for ${ip}:${want.hostPort} failed: ${reason}`,
      { cause: lastErr },
    );
  }

  #extraHostLines(c: Container): Array<{ ip: string; names: string[] }> {
    const out: Array<{ ip: string; names: string[] }> = [];
    for (const h of c.record.spec.network.extraHosts) {
      // `name:ip` (or `name=ip` from newer CLIs); the ip may be IPv6 with colons.
      const i = h.search(/[:=]/);
      const name = h.slice(0, i);
      let ip = h.slice(i + 1);
      if (ip === 'host-gateway') ip = this.#defaultGateway();
      out.push({ ip: ip.replace(/^\[|\]$/g, ''), names: [name] });
    }
    return out;
  }

  #defaultGateway(): string {
    const b = [...this.#networks.values()].find((n) => n.name === 'bridge');
    return b?.ipam.config[0]?.gateway ?? '';
  }

  async #writeFiles(c: Container, s: SandboxRecord, files: SandboxFiles): Promise<void> {
    const spec = c.record.spec;
    const entries: Array<{ ip: string; names: string[] }> = [];
    // Docker: the container's own name lines come after the extra hosts and the links.
    entries.push(...this.#extraHostLines(c));
    for (const link of this.#onDefaultBridge(c) ? spec.network.links : []) {
      const { target, alias } = parseLink(link);
      const other = this.#containers?.find(target);
      const ip = other && this.#sandboxes.get(other.record.id)?.endpoints[0]?.address;
      if (other && ip) {
        const names = [alias, other.record.id.slice(0, 12), other.record.name].filter(
          (v, i, a) => a.indexOf(v) === i,
        );
        entries.push({ ip, names });
      }
    }
    const primary = s.endpoints[0];
    if (primary) {
      const fqdn = spec.domainname ? [`${spec.hostname}.${spec.domainname}`, spec.hostname] : [spec.hostname];
      entries.push({ ip: primary.address, names: fqdn });
      if (primary.ipv6Address) entries.push({ ip: primary.ipv6Address, names: fqdn });
    }
    await writeFile(files.hosts, hostsFile(entries));
    const primaryNet = primary ? this.#networks.get(primary.networkId) : undefined;
    if (primary && primaryNet && !primaryNet.predefined) {
      // User-defined networks: the embedded DNS server answers at 127.0.0.11, as Docker's does,
      // and forwards the rest to the servers the container asked for (or the host's). Docker
      // adds ndots:0 unless the container set ndots itself.
      const wanted = dnsSettings(this.#o.containerDefaults ?? {}, {
        search: spec.network.dnsSearch,
        options: spec.network.dnsOptions,
      });
      const options = wanted.options.some((o) => o.startsWith('ndots:'))
        ? wanted.options
        : [...wanted.options, 'ndots:0'];
      await writeFile(
        files.resolvConf,
        resolvConf(this.#hostResolv, { dns: [CONTAINER_RESOLVER], search: wanted.search, options }),
      );
    }
  }

  #dnsNames(c: Container, e: EndpointRecord): string[] {
    return [c.record.name, ...e.aliases, c.record.id.slice(0, 12)].filter((v, i, a) => a.indexOf(v) === i);
  }

  async #startDns(n: NetworkRecord): Promise<void> {
    const gateway = n.ipam.config[0]?.gateway;
    if (!gateway) return;
    const dns = new EmbeddedDns({
      address: gateway,
      log: this.#o.log,
      resolver: {
        lookup: (name, clientIp) => {
          // Docker answers for every network the asking container is on (it may be connected
          // to several); the server it asks is the one of its first network.
          const asker = this.#endpointsOf(n.id).find((e) => e.endpoint.address === clientIp);
          const sandbox = asker ? this.#sandboxes.get(asker.containerId) : undefined;
          const networkIds = sandbox ? sandbox.endpoints.map((e) => e.networkId) : [n.id];
          const ips: string[] = [];
          // Links of the asking endpoint are aliases it alone sees (libnetwork CreateOptionAlias).
          for (const link of asker?.endpoint.links ?? []) {
            const { target, alias } = parseLink(link);
            if (alias.toLowerCase() !== name) continue;
            const other = this.#containers?.find(target);
            if (!other || !isRunning(other.state)) continue;
            const e = this.#sandboxes.get(other.record.id)?.endpoints.find((x) => x.networkId === n.id);
            if (e) ips.push(e.address, ...(e.ipv6Address ? [e.ipv6Address] : []));
          }
          if (ips.length) return ips;
          for (const networkId of networkIds) {
            const net = this.#networks.get(networkId);
            if (!net || net.predefined) continue;
            for (const { containerId, endpoint } of this.#endpointsOf(networkId)) {
              const c = this.#containers?.find(containerId);
              if (!c || !isRunning(c.state)) continue;
              const names = this.#dnsNames(c, endpoint).map((x) => x.toLowerCase());
              if (names.includes(name) || names.some((x) => name === `${x}.${net.name.toLowerCase()}`)) {
                ips.push(endpoint.address, ...(endpoint.ipv6Address ? [endpoint.ipv6Address] : []));
              }
            }
          }
          return ips.length ? [...new Set(ips)] : undefined;
        },
        upstreams: (clientIp) => {
          if (n.internal) return [];
          const owner = this.#endpointsOf(n.id).find((e) => e.endpoint.address === clientIp);
          const c = owner ? this.#containers?.find(owner.containerId) : undefined;
          const own = dnsSettings(this.#o.containerDefaults ?? {}, { dns: c?.record.spec.network.dns }).dns;
          const list = own.length ? own : nameservers(this.#hostResolv);
          const gateways = new Set([...this.#networks.values()].map((x) => x.ipam.config[0]?.gateway));
          return list.filter((ip) => !gateways.has(ip));
        },
      },
    });
    await dns.start();
    this.#dns.set(n.id, dns);
  }

  async #stopDns(id: string): Promise<void> {
    const dns = this.#dns.get(id);
    this.#dns.delete(id);
    await dns?.close();
  }

  #bridgeName(id: string): string {
    return this.#o.ifacePrefix ? `${this.#o.ifacePrefix}b${id}`.slice(0, 15) : `br-${id.slice(0, 12)}`;
  }

  async #applyFirewall(): Promise<void> {
    if (this.#o.iptables === false) return;
    const bridges = [...this.#networks.values()]
      .filter((n) => n.driver === 'bridge' && n.bridge && n.ipam.config[0])
      .map((n) => ({
        name: n.bridge as string,
        subnet: n.ipam.config[0]?.subnet as string,
        internal: n.internal,
        masquerade: n.masquerade,
        icc: n.icc,
        ...(n.enableIPv6 && n.ipam.config[1] ? { subnet6: n.ipam.config[1].subnet } : {}),
      }));
    const ports = [...this.#sandboxes.values()].flatMap((s) => {
      const primary = s.endpoints[0];
      if (!primary) return [];
      // IPv6 bindings are served by the userland proxy alone.
      return s.ports
        .filter((p) => !p.hostIp.includes(':'))
        .map((p) => ({ ...p, containerIp: primary.address }));
    });
    await nftApply(
      renderRuleset({
        table: this.#o.nftTable,
        bridges,
        ports,
        links: this.#linkRules(),
        forwardDrop: this.#forwardDrop,
      }),
    );
  }

  /**
   * Legacy links on a bridge without icc: the linking container may reach the linked one's
   * exposed ports (libnetwork's link rules; on the default bridge, where --link applies).
   */
  #linkRules(): NftLink[] {
    const out: NftLink[] = [];
    for (const s of this.#sandboxes.values()) {
      const c = this.#containers?.find(s.containerId);
      if (!c || !this.#onDefaultBridge(c)) continue;
      const own = s.endpoints.find((e) => this.#networks.get(e.networkId)?.name === 'bridge');
      const n = own && this.#networks.get(own.networkId);
      if (!own || !n?.bridge || n.icc) continue;
      for (const link of c.record.spec.network.links) {
        const other = this.#containers?.find(parseLink(link).target);
        const theirs =
          other && this.#sandboxes.get(other.record.id)?.endpoints.find((e) => e.networkId === n.id);
        if (!other || !theirs) continue;
        for (const p of other.record.spec.exposedPorts) {
          const [port, proto = 'tcp'] = p.split('/');
          if (proto !== 'tcp' && proto !== 'udp') continue;
          out.push({ bridge: n.bridge, from: own.address, to: theirs.address, proto, port: Number(port) });
        }
      }
    }
    return out;
  }
}

function gateway6Cidr(n: NetworkRecord): string | undefined {
  const p = n.ipam.config[1];
  return p ? `${p.gateway}/${parseCidr6(p.subnet).prefix}` : undefined;
}

function gatewayCidr(n: NetworkRecord): string | undefined {
  const p = n.ipam.config[0];
  return p ? `${p.gateway}/${parseCidr(p.subnet).prefix}` : undefined;
}

function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function nameservers(resolv: string): string[] {
  return resolv
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === 'nameserver' && f[1])
    .map((f) => f[1] as string);
}

/** `name:alias` or Docker's stored form `/name:/me/alias`. */
function parseLink(link: string): { target: string; alias: string } {
  const [t = '', a] = link.split(':');
  const target = t.replace(/^\//, '');
  const alias = (a ?? target).split('/').pop() ?? target;
  return { target, alias };
}

/** The networks a container is configured for (its mode's network and its endpoints). */
function configuredNetworks(c: Container): string[] {
  const net = c.record.spec.network;
  const eps = Object.keys(net.endpoints).map(netName);
  return net.modeDetached ? eps : [netName(net.mode), ...eps];
}

/** Whether network n is the one a container's NetworkMode names. */
function isModeNetwork(mode: string, n: { name: string; id: string }): boolean {
  return mode === n.name || mode === n.id || (n.name === 'bridge' && mode === 'default');
}

/** API clients before 1.44 name the default bridge `default`. */
function netName(name: string): string {
  return name === 'default' ? 'bridge' : name;
}

function untilTime(u: string): number {
  if (/^\d+(\.\d+)?$/.test(u)) return Number(u) * 1000;
  const m = /^(\d+)(s|m|h)$/.exec(u);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  return Date.parse(u);
}
