/**
 * Docker's JSON views of a container: inspect (GET /containers/{id}/json) and the list item
 * (GET /containers/json), plus the list filters. Pure functions of the record and state.
 */
import type { ContainerInspectResponse, ContainerSummary, NetworkSettings } from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';
import type { Filters } from '../engine.ts';
import type { Container } from './container-store.ts';
import { toDockerState } from './state.ts';

export interface ViewPaths {
  dir: string;
  logPath: string;
  rootfs: string;
}

export function inspectView(c: Container, paths: ViewPaths, execIds: string[]): ContainerInspectResponse {
  const { record, state } = c;
  const spec = record.spec;
  return {
    Id: record.id,
    Created: record.created,
    Path: spec.path,
    Args: spec.args,
    State: c.health ? { ...toDockerState(state), Health: c.health } : toDockerState(state),
    Image: record.imageId,
    ResolvConfPath: `${paths.dir}/resolv.conf`,
    HostnamePath: `${paths.dir}/hostname`,
    HostsPath: `${paths.dir}/hosts`,
    LogPath: record.hostConfig.LogConfig?.Type === 'none' ? '' : paths.logPath,
    Name: `/${record.name}`,
    RestartCount: record.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    HostConfig: record.hostConfig,
    GraphDriver: { Name: 'overlay2', Data: { MergedDir: paths.rootfs } },
    Mounts: [],
    Config: record.config,
    NetworkSettings: networkSettings(c),
  };
}

function networkSettings(c: Container): NetworkSettings {
  const mode = c.record.hostConfig.NetworkMode ?? 'default';
  const networks: NetworkSettings['Networks'] = {};
  if (mode === 'none' || mode === 'host') {
    networks[mode] = {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      NetworkID: '',
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: '',
      DriverOpts: null,
    };
  }
  return {
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: {},
    SandboxKey: '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    MacAddress: '',
    Networks: networks,
  };
}

export function summaryView(c: Container): ContainerSummary {
  const { record, state } = c;
  const spec = record.spec;
  return {
    Id: record.id,
    Names: [`/${record.name}`],
    Image: record.image,
    ImageID: record.imageId,
    Command: [spec.path, ...spec.args].map(quoteIfNeeded).join(' '),
    Created: Math.floor(Date.parse(record.created) / 1000),
    Ports: [],
    Labels: record.config.Labels ?? {},
    State: state.status === 'removing' ? 'removing' : state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: record.hostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: networkSettings(c).Networks },
    Mounts: [],
  };
}

function quoteIfNeeded(s: string): string {
  return s;
}

/** Docker's human status ("Up 2 minutes", "Exited (0) 3 seconds ago", "Created"). */
export function statusText(c: Container, now = Date.now()): string {
  const s = c.state;
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}${healthSuffix(c)}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'exited':
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

/** Docker's health suffix of a running container's status. */
function healthSuffix(c: Container): string {
  const h = c.health;
  if (!h || h.Status === 'none') return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

const HEALTH_FILTER_VALUES = new Set(['starting', 'healthy', 'unhealthy', 'none']);

/** go-units HumanDuration, which Docker uses for Status. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

const LIST_FILTERS = new Set([
  'id',
  'name',
  'label',
  'status',
  'ancestor',
  'exited',
  'before',
  'since',
  'health',
  'network',
  'volume',
  'publish',
  'expose',
  'isolation',
  'is-task',
]);

const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

/**
 * Docker's container list filters (daemon/list.go). Values of one key are ORed, keys ANDed.
 * `ancestorIds(ref)` resolves an image reference to the image ids it matches.
 */
export function makeListFilter(
  filters: Filters,
  resolve: { ancestorIds: (ref: string) => string[]; containerCreated: (ref: string) => number | undefined },
): (c: Container) => boolean {
  for (const key of Object.keys(filters)) {
    if (!LIST_FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  }
  for (const s of filters.status ?? []) {
    if (!STATUSES.has(s)) {
      throw invalidParameter(`invalid filter 'status=${s}'`);
    }
  }
  for (const h of filters.health ?? []) {
    if (!HEALTH_FILTER_VALUES.has(h)) {
      throw invalidParameter(`Unrecognised filter value for health: ${h}`);
    }
  }
  const ancestors = new Set((filters.ancestor ?? []).flatMap((ref) => resolve.ancestorIds(ref)));
  const before = (filters.before ?? []).map((ref) => resolve.containerCreated(ref));
  const since = (filters.since ?? []).map((ref) => resolve.containerCreated(ref));
  return (c) => {
    const { record, state } = c;
    const any = (key: string, pred: (v: string) => boolean) => {
      const values = filters[key];
      return !values || values.length === 0 || values.some(pred);
    };
    const created = Date.parse(record.created);
    return (
      any('id', (v) => record.id.startsWith(v)) &&
      any('name', (v) => new RegExp(v).test(`/${record.name}`)) &&
      any('status', (v) => v === state.status) &&
      any('exited', (v) => state.status === 'exited' && String(state.exitCode) === v) &&
      any('health', (v) => (c.health?.Status ?? 'none') === v) &&
      // Docker ANDs label filters (filters.MatchKVList): every label given must match.
      (filters.label ?? []).every((v) => {
        const labels = record.config.Labels ?? {};
        const i = v.indexOf('=');
        return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
      }) &&
      (!filters.ancestor?.length || ancestors.has(record.imageId)) &&
      before.every((t) => t === undefined || created < t) &&
      since.every((t) => t === undefined || created > t)
    );
  };
}
