/**
 * Docker's JSON views of networks (GET /networks, /networks/{id}) and of a container's
 * NetworkSettings (container inspect), as pure functions of the records.
 */
import type { EndpointSettings, NetworkResource, NetworkSettings, PortMap } from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';
import type { EndpointRecord, NetworkRecord, PublishedPort, SandboxRecord } from '../../network/index.ts';
import type { Filters } from '../engine.ts';

export function networkView(
  n: NetworkRecord,
  containers: Array<{ id: string; name: string; endpoint: EndpointRecord }>,
  withContainers: boolean,
): NetworkResource {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.enableIPv6 ?? false,
    IPAM: {
      Driver: n.ipam.driver,
      Options: Object.keys(n.ipam.options).length ? n.ipam.options : null,
      Config: n.ipam.config.map((p) => ({
        Subnet: p.subnet,
        ...(p.ipRange ? { IPRange: p.ipRange } : {}),
        Gateway: p.gateway,
        ...(p.auxAddresses && Object.keys(p.auxAddresses).length
          ? { AuxiliaryAddresses: p.auxAddresses }
          : {}),
      })),
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: withContainers
      ? Object.fromEntries(
          containers.map((c) => [
            c.id,
            {
              Name: c.name,
              EndpointID: c.endpoint.endpointId,
              MacAddress: c.endpoint.mac,
              IPv4Address: `${c.endpoint.address}/${c.endpoint.prefixLen}`,
              IPv6Address: c.endpoint.ipv6Address
                ? `${c.endpoint.ipv6Address}/${c.endpoint.ipv6PrefixLen}`
                : '',
            },
          ]),
        )
      : {},
    Options: n.options,
    Labels: n.labels,
  };
}

const FILTERS = new Set(['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling']);

/** Docker's network list filters (daemon/network/filter.go). */
export function makeNetworkFilter(
  filters: Filters,
  inUse: (id: string) => boolean,
): (n: NetworkRecord) => boolean {
  for (const key of Object.keys(filters)) {
    if (!FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  for (const t of filters.type ?? []) {
    if (t !== 'custom' && t !== 'builtin') throw invalidParameter(`invalid filter: 'type'='${t}'`);
  }
  return (n) => {
    const any = (key: string, pred: (v: string) => boolean) => {
      const values = filters[key];
      return !values || values.length === 0 || values.some(pred);
    };
    return (
      any('driver', (v) => v === n.driver) &&
      any('id', (v) => n.id.startsWith(v)) &&
      any('name', (v) => n.name.includes(v)) &&
      any('scope', (v) => v === 'local') &&
      any('type', (v) => (v === 'builtin') === n.predefined) &&
      any('dangling', (v) => (v === 'true' || v === '1') === (!n.predefined && !inUse(n.id))) &&
      // Docker ANDs label filters (filters.MatchKVList): every label given must match.
      (filters.label ?? []).every((v) => {
        const i = v.indexOf('=');
        return i < 0 ? v in n.labels : n.labels[v.slice(0, i)] === v.slice(i + 1);
      })
    );
  };
}

export function emptyEndpoint(): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

export function endpointView(e: EndpointRecord, dnsNames: string[] | null): EndpointSettings {
  return {
    IPAMConfig:
      e.ipv4Requested || e.ipv6Requested
        ? {
            ...(e.ipv4Requested ? { IPv4Address: e.ipv4Requested } : {}),
            ...(e.ipv6Requested ? { IPv6Address: e.ipv6Requested } : {}),
          }
        : null,
    Links: e.links.length ? e.links : null,
    Aliases: e.aliases.length ? e.aliases : null,
    MacAddress: e.mac,
    DriverOpts: Object.keys(e.driverOpts).length ? e.driverOpts : null,
    NetworkID: e.networkId,
    EndpointID: e.endpointId,
    Gateway: e.gateway,
    IPAddress: e.address,
    IPPrefixLen: e.prefixLen,
    IPv6Gateway: e.ipv6Gateway ?? '',
    GlobalIPv6Address: e.ipv6Address ?? '',
    GlobalIPv6PrefixLen: e.ipv6PrefixLen ?? 0,
    DNSNames: dnsNames,
  };
}

/** `80/tcp` → bindings, with null for exposed ports that are not published (docker inspect). */
export function portMap(exposed: string[], ports: PublishedPort[]): PortMap {
  const out: PortMap = {};
  for (const p of exposed) out[p] = null;
  for (const p of ports) {
    const key = `${p.containerPort}/${p.proto}`;
    const list = out[key] ?? [];
    list.push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
    out[key] = list;
  }
  return out;
}

/**
 * NetworkSettings of container inspect. The top-level IPAddress/Gateway/MacAddress fields are
 * the default bridge's endpoint, as Docker fills them (empty on user-defined networks).
 */
export function networkSettingsView(input: {
  mode: string;
  networks: Array<{ name: string; endpoint?: EndpointRecord; dnsNames: string[] | null }>;
  sandbox?: SandboxRecord;
  pid?: number;
  exposed: string[];
  running: boolean;
}): NetworkSettings {
  const networks: Record<string, EndpointSettings> = {};
  for (const n of input.networks) {
    networks[n.name] = n.endpoint && input.running ? endpointView(n.endpoint, n.dnsNames) : emptyEndpoint();
  }
  const bridge = input.running ? input.networks.find((n) => n.name === 'bridge')?.endpoint : undefined;
  return {
    Bridge: '',
    SandboxID: input.running && input.sandbox ? input.sandbox.containerId : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: input.running ? portMap(input.exposed, input.sandbox?.ports ?? []) : {},
    SandboxKey: input.running && input.pid ? `/proc/${input.pid}/ns/net` : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge?.endpointId ?? '',
    Gateway: bridge?.gateway ?? '',
    GlobalIPv6Address: bridge?.ipv6Address ?? '',
    GlobalIPv6PrefixLen: bridge?.ipv6PrefixLen ?? 0,
    IPAddress: bridge?.address ?? '',
    IPPrefixLen: bridge?.prefixLen ?? 0,
    IPv6Gateway: bridge?.ipv6Gateway ?? '',
    MacAddress: bridge?.mac ?? '',
    Networks: networks,
  };
}
