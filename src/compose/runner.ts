/**
 * Converging the daemon to a project, through the Engine API only (so it works against any
 * Docker-API daemon): networks and volumes first, then services in dependency order, each
 * waiting for its dependencies' conditions, recreating only containers whose config hash
 * changed. `down` removes what carries the project label.
 */
import type { ContainerSummary } from '../api/types/index.ts';
import { contextTar, type EngineClient, isDaemonError } from '../client/index.ts';
import { invalidParameter } from '../common/errors.ts';
import {
  COMPOSE_VERSION,
  configHash,
  containerName,
  createBody,
  endpointSettings,
  type InheritedVolume,
  LABEL,
  serviceImage,
  serviceNetworks,
} from './container-config.ts';
import { networkHash, volumeHash } from './hash.ts';
import { injectFiles } from './inject.ts';
import { serviceOrder } from './load.ts';
import { resolveRefs } from './refs.ts';
import { preflight } from './unsupported.ts';
import type { Project, Service } from './model.ts';
import { handleOrphans, isOrphan } from './orphans.ts';

function isStatus(err: unknown, status: number): boolean {
  return isDaemonError(err) && err.statusCode === status;
}

export interface UpOptions {
  build?: boolean;
  /** --no-build: never build, even a service whose image is missing (it is pulled instead). */
  noBuild?: boolean;
  /** --pull: overrides every service's pull_policy. */
  pull?: 'always' | 'missing' | 'never' | 'build' | 'if_not_present';
  /** --quiet-pull: no pull progress lines. */
  quietPull?: boolean;
  forceRecreate?: boolean;
  /** --no-recreate: existing containers are kept, whatever changed. */
  noRecreate?: boolean;
  /** --always-recreate-deps: dependencies pulled in by depends_on are recreated too. */
  alwaysRecreateDeps?: boolean;
  /** -V: recreated containers get new anonymous volumes instead of their predecessor's. */
  renewAnonVolumes?: boolean;
  /** -t: seconds to wait for a container being replaced to stop (else its stop_grace_period). */
  timeout?: number;
  /** --no-start: create the containers, start none. */
  noStart?: boolean;
  noDeps?: boolean;
  scale?: Record<string, number>;
  services?: string[];
  wait?: boolean;
  /** --wait-timeout, in seconds. */
  waitTimeout?: number;
  removeOrphans?: boolean;
  progress?: (line: string) => void;
  /** Warnings (orphan containers); progress when not given. */
  warn?: (line: string) => void;
  /** Asks a yes/no question (Compose's prompt); no when not given. */
  confirm?: (question: string) => Promise<boolean>;
}

/** Compose's flag rules for `up` and `create` (cmd/compose/up.go validateFlags). */
export function checkUpOptions(o: UpOptions): void {
  if (o.build && o.noBuild) throw invalidParameter('--build and --no-build are incompatible');
  if (o.renewAnonVolumes && o.noRecreate)
    throw invalidParameter('--no-recreate and --renew-anon-volumes are incompatible');
  if (o.forceRecreate && o.noRecreate)
    throw invalidParameter('--force-recreate and --no-recreate are incompatible');
  if (o.alwaysRecreateDeps && o.noRecreate)
    throw invalidParameter('--always-recreate-deps and --no-recreate are incompatible');
  if (o.pull && !['always', 'missing', 'never', 'build', 'if_not_present'].includes(o.pull))
    throw invalidParameter(`invalid --pull option "${o.pull}"`);
}

/** Go's time.Duration.String() for whole seconds: 30s, 1m30s, 1h0m0s. */
export function goSeconds(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}

export function projectFilter(project: string, extra: string[] = []) {
  return { label: [`${LABEL.project}=${project}`, ...extra] };
}

export async function projectContainers(client: EngineClient, project: string, service?: string) {
  const list = await client.containerList({
    all: true,
    filters: projectFilter(project, service ? [`${LABEL.service}=${service}`] : []),
  });
  return list.filter((c) => c.Labels?.[LABEL.oneoff] !== 'True');
}

function selected(project: Project, services: string[] | undefined, noDeps: boolean): string[] {
  const order = serviceOrder(project);
  if (!services?.length) return order;
  for (const s of services) if (!project.services[s]) throw invalidParameter(`no such service: ${s}`);
  const want = new Set<string>();
  const add = (s: string) => {
    if (want.has(s)) return;
    want.add(s);
    if (!noDeps)
      for (const d of Object.keys(project.services[s]?.depends_on ?? {})) if (project.services[d]) add(d);
  };
  for (const s of services) add(s);
  return order.filter((s) => want.has(s));
}

/** Networks, volumes and the images of `services`: what creating their containers needs. */
export async function prepareServices(
  client: EngineClient,
  project: Project,
  services: string[],
  build: boolean,
  say: (l: string) => void,
  pulling: Pick<UpOptions, 'noBuild' | 'pull' | 'quietPull' | 'confirm'> = {},
): Promise<void> {
  await ensureNetworks(client, project, say);
  await ensureVolumes(client, project, say, pulling.confirm);
  for (const key of services) await ensureImage(client, project, key, build, say, pulling);
}

export async function up(client: EngineClient, project: Project, opts: UpOptions = {}): Promise<void> {
  checkUpOptions(opts);
  const say = opts.progress ?? (() => {});
  const order = selected(project, opts.services, opts.noDeps ?? false);
  preflight(project);
  await handleOrphans(client, project, opts.removeOrphans ?? false, say, opts.warn ?? say);
  await prepareServices(client, project, order, opts.build ?? false, say, opts);
  const started = new Map<string, Promise<void>>();
  const requested = new Set(opts.services?.length ? opts.services : order);
  for (const key of order) {
    const svc = project.services[key] as Service;
    const run = (async () => {
      for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
        const p = started.get(dep);
        if (!p) continue;
        await p;
        if (!opts.noStart) await waitCondition(client, project, dep, cond.condition, say);
      }
      await convergeService(client, project, key, opts, recreatePolicy(opts, requested.has(key)), say);
    })();
    started.set(key, run);
    // Keep a rejected dependency from being reported unhandled before its dependents await it.
    run.catch(() => {});
  }
  await Promise.all(started.values());
  if (opts.wait && !opts.noStart) await waitForProject(client, project, order, opts.waitTimeout, say);
}

/** `up --wait`: every service running, or healthy when it has a health check. */
async function waitForProject(
  client: EngineClient,
  project: Project,
  order: string[],
  timeout: number | undefined,
  say: (l: string) => void,
): Promise<void> {
  const all = (async () => {
    for (const key of order) {
      const svc = project.services[key] as Service;
      await waitCondition(
        client,
        project,
        key,
        svc.healthcheck && !svc.healthcheck.disable ? 'service_healthy' : 'service_started',
        say,
      );
    }
  })();
  if (!timeout) return all;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(invalidParameter(`application not healthy after ${goSeconds(timeout)}`)),
      timeout * 1000,
    );
  });
  all.catch(() => {});
  try {
    await Promise.race([all, expired]);
  } finally {
    clearTimeout(timer);
  }
}

type RecreatePolicy = 'diverged' | 'force' | 'never';

/** Compose's Recreate / RecreateDependencies strategies (cmd/compose/create.go). */
function recreatePolicy(o: UpOptions, requested: boolean): RecreatePolicy {
  if (o.noRecreate) return 'never';
  if (requested ? o.forceRecreate : o.alwaysRecreateDeps) return 'force';
  return 'diverged';
}

async function ensureNetworks(client: EngineClient, project: Project, say: (l: string) => void) {
  const used = new Set(Object.values(project.services).flatMap((s) => Object.keys(s.networks ?? {})));
  for (const [key, net] of Object.entries(project.networks)) {
    if (!used.has(key)) continue;
    const name = net.name as string;
    const found = (await client.networkList({ filters: { name: [name] } })).find((n) => n.Name === name);
    if (net.external) {
      if (!found) throw invalidParameter(`network ${name} declared as external, but could not be found`);
      continue;
    }
    if (found) continue;
    await client.networkCreate({
      Name: name,
      Driver: net.driver ?? 'bridge',
      CheckDuplicate: true,
      Internal: net.internal ?? false,
      Attachable: net.attachable ?? false,
      EnableIPv6: net.enable_ipv6 ?? false,
      Options: net.driver_opts ?? {},
      Labels: {
        ...(net.labels ?? {}),
        [LABEL.project]: project.name,
        [LABEL.network]: key,
        [LABEL.version]: COMPOSE_VERSION,
        [LABEL.configHash]: networkHash(net),
      },
      ...(net.ipam
        ? {
            IPAM: {
              Driver: net.ipam.driver ?? 'default',
              Config: (net.ipam.config ?? []).map((c) => ({
                ...(c.subnet ? { Subnet: c.subnet } : {}),
                ...(c.gateway ? { Gateway: c.gateway } : {}),
                ...(c.ip_range ? { IPRange: c.ip_range } : {}),
              })),
            },
          }
        : {}),
    } as never);
    say(` Network ${name}  Created`);
  }
}

async function ensureVolumes(
  client: EngineClient,
  project: Project,
  say: (l: string) => void,
  confirm: (question: string) => Promise<boolean> = async () => false,
) {
  for (const [key, vol] of Object.entries(project.volumes)) {
    const name = vol.name as string;
    let existing: Awaited<ReturnType<EngineClient['volumeInspect']>> | undefined;
    try {
      existing = await client.volumeInspect(name);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    if (vol.external) {
      if (!existing) throw invalidParameter(`external volume "${name}" not found`);
      continue;
    }
    const hash = volumeHash(vol);
    if (existing) {
      // Compose v2: a volume whose config changed is recreated only when the user agrees.
      const seen = existing.Labels?.[LABEL.configHash];
      if (!seen || seen === hash) continue;
      const question = `Volume "${name}" exists but doesn't match configuration in compose file. Recreate (data will be lost)?`;
      if (!(await confirm(question))) continue;
      const users = await client.containerList({ all: true, filters: { volume: [name] } });
      for (const c of users) await removeContainer(client, c, say);
      await client.volumeRemove(name);
      say(` Volume "${name}"  Removed`);
    }
    await client.volumeCreate({
      Name: name,
      Driver: vol.driver ?? 'local',
      DriverOpts: vol.driver_opts ?? {},
      Labels: {
        ...(vol.labels ?? {}),
        [LABEL.project]: project.name,
        [LABEL.volume]: key,
        [LABEL.version]: COMPOSE_VERSION,
        [LABEL.configHash]: hash,
      },
    });
    say(` Volume "${name}"  Created`);
  }
}

async function imageIdOf(client: EngineClient, ref: string): Promise<string | undefined> {
  try {
    return (await client.imageInspect(ref)).Id;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

async function imageExists(client: EngineClient, ref: string): Promise<boolean> {
  try {
    await client.imageInspect(ref);
    return true;
  } catch (err) {
    if (isStatus(err, 404)) return false;
    throw err;
  }
}

export async function buildService(
  client: EngineClient,
  project: Project,
  key: string,
  say: (l: string) => void,
) {
  const svc = project.services[key] as Service;
  const b = svc.build;
  if (!b) return;
  say(` Service ${key}  Building`);
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) args[k] = v;
  const tar = await contextTar(b.context, { dockerfile: b.dockerfile });
  for await (const _ of client.build(tar, {
    tags: [serviceImage(project, key)],
    dockerfile: b.dockerfile,
    buildArgs: args,
    labels: { ...(b.labels ?? {}), [LABEL.project]: project.name, [LABEL.service]: key },
    target: b.target,
    noCache: b.no_cache ?? false,
    quiet: false,
    network: b.network,
    rm: true,
    forceRm: false,
  })) {
  }
  say(` Service ${key}  Built`);
}

async function ensureImage(
  client: EngineClient,
  project: Project,
  key: string,
  build: boolean,
  say: (l: string) => void,
  o: Pick<UpOptions, 'noBuild' | 'pull' | 'quietPull'> = {},
) {
  const svc = project.services[key] as Service;
  const image = serviceImage(project, key);
  const policy = o.pull ?? svc.pull_policy;
  if (svc.build && !o.noBuild && (build || policy === 'build' || !(await imageExists(client, image)))) {
    await buildService(client, project, key, say);
    return;
  }
  if (policy === 'never') {
    if (!(await imageExists(client, image)))
      throw invalidParameter(`image ${image} not found and pull_policy of service ${key} is "never"`);
    return;
  }
  if (policy === 'always' || !(await imageExists(client, image))) {
    if (!o.quietPull) say(` ${key} Pulling`);
    for await (const _ of client.imagePull(image)) {
    }
    if (!o.quietPull) say(` ${key} Pulled`);
  }
}

function desiredScale(project: Project, key: string, opts: UpOptions): number {
  const svc = project.services[key] as Service;
  return opts.scale?.[key] ?? svc.scale ?? svc.deploy?.replicas ?? 1;
}

async function convergeService(
  client: EngineClient,
  project: Project,
  key: string,
  opts: UpOptions,
  policy: RecreatePolicy,
  say: (l: string) => void,
): Promise<void> {
  const svc = project.services[key] as Service;
  const imageId = await imageIdOf(client, serviceImage(project, key));
  const want = desiredScale(project, key, opts);
  const existing = await projectContainers(client, project.name, key);
  const byNumber = new Map<number, ContainerSummary>();
  for (const c of existing) byNumber.set(Number(c.Labels?.[LABEL.number] ?? 0), c);
  const stop = opts.timeout === undefined ? {} : { timeout: opts.timeout };
  // Extra replicas go first (highest numbers).
  for (const c of existing) {
    if (Number(c.Labels?.[LABEL.number] ?? 0) > want) {
      await removeContainer(client, c, say, stop);
    }
  }
  for (let n = 1; n <= want; n++) {
    const current = byNumber.get(n);
    const name = containerName(project, key, n);
    const refs = await resolveRefs(client, project, key, n, imageId);
    const hash = configHash(refs.service);
    const upToDate =
      current?.Labels?.[LABEL.configHash] === hash &&
      (current?.Labels?.[LABEL.image] ?? '') === (imageId ?? '');
    if (current && (policy === 'never' || (upToDate && policy !== 'force'))) {
      if (opts.noStart) continue;
      if (current.State !== 'running') {
        await client.containerStart(current.Id);
        say(` Container ${name}  Started`);
      } else say(` Container ${name}  Running`);
      continue;
    }
    if (current) {
      refs.replaces = (current.Names?.[0] ?? name).replace(/^\//, '');
      if (!opts.renewAnonVolumes) refs.inherited = await anonymousVolumes(client, current.Id, imageId);
      say(` Container ${name}  Recreate`);
      await removeContainer(client, current, () => {}, stop);
    }
    const created = await client.containerCreate(createBody(project, key, n, hash, refs), {
      name,
      ...(typeof svc.platform === 'string' ? { platform: svc.platform } : {}),
    });
    for (const [netKey, netName] of svc.network_mode ? [] : serviceNetworks(project, svc).slice(1)) {
      await client.networkConnect(netName, {
        Container: created.Id,
        EndpointConfig: endpointSettings(project, key, n, netKey, refs.links),
      } as never);
    }
    await injectFiles(client, project, key, created.Id);
    say(` Container ${name}  Created`);
    if (opts.noStart) continue;
    await client.containerStart(created.Id);
    say(` Container ${name}  Started`);
  }
}

/**
 * The anonymous volumes a recreated container takes over from the one it replaces (Compose's
 * buildContainerMountOptions with inherit): volumes mounted where the image declares a VOLUME
 * or where the service lists a volume without a source.
 */
async function anonymousVolumes(
  client: EngineClient,
  containerId: string,
  imageId: string | undefined,
): Promise<InheritedVolume[]> {
  const old = await client.containerInspect(containerId);
  const declared = new Set(
    imageId ? Object.keys((await client.imageInspect(imageId)).Config?.Volumes ?? {}) : [],
  );
  const anonymous = new Set(
    (old.Mounts ?? []).filter((m) => m.Type === 'volume' && isAnonymousName(m.Name)).map((m) => m.Name),
  );
  return (old.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && m.Name && (anonymous.has(m.Name) || declared.has(m.Destination)))
    .map((m) => ({ name: m.Name as string, target: m.Destination, readOnly: !m.RW }));
}

/** Docker names anonymous volumes with 64 hex digits. */
function isAnonymousName(name: string | undefined): boolean {
  return !!name && /^[0-9a-f]{64}$/.test(name);
}

async function removeContainer(
  client: EngineClient,
  c: ContainerSummary,
  say: (l: string) => void,
  stop: { timeout?: number } = {},
) {
  const name = (c.Names?.[0] ?? c.Id).replace(/^\//, '');
  if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
    await client.containerStop(c.Id, stop);
    say(` Container ${name}  Stopped`);
  }
  await client.containerRemove(c.Id, { force: true });
  say(` Container ${name}  Removed`);
}

export async function waitCondition(
  client: EngineClient,
  project: Project,
  service: string,
  condition: string,
  say: (l: string) => void,
): Promise<void> {
  if (condition === 'service_started') return;
  for (;;) {
    const list = await projectContainers(client, project.name, service);
    const states = await Promise.all(list.map((c) => client.containerInspect(c.Id)));
    if (condition === 'service_healthy') {
      for (const s of states) {
        if (!s.State.Running)
          throw invalidParameter(
            `dependency failed to start: container ${s.Name.slice(1)} exited (${s.State.ExitCode})`,
          );
        if (!s.State.Health)
          throw invalidParameter(`container ${s.Name.slice(1)} has no healthcheck configured`);
        if (s.State.Health.Status === 'unhealthy')
          throw invalidParameter(`dependency failed to start: container ${s.Name.slice(1)} is unhealthy`);
      }
      if (states.every((s) => s.State.Health?.Status === 'healthy')) {
        say(` Container ${states.map((s) => s.Name.slice(1)).join(', ')}  Healthy`);
        return;
      }
    } else if (condition === 'service_completed_successfully') {
      const done = states.filter((s) => !s.State.Running && s.State.Status === 'exited');
      const failed = done.find((s) => s.State.ExitCode !== 0);
      if (failed)
        throw invalidParameter(
          `service "${service}" didn't complete successfully: exit ${failed.State.ExitCode}`,
        );
      if (done.length === states.length) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface DownOptions {
  volumes?: boolean;
  rmi?: 'all' | 'local';
  removeOrphans?: boolean;
  /** -t: seconds to wait for each container to stop (else its stop_grace_period). */
  timeout?: number;
  progress?: (line: string) => void;
}

export async function down(client: EngineClient, project: Project, opts: DownOptions = {}): Promise<void> {
  const say = opts.progress ?? (() => {});
  const stop = opts.timeout === undefined ? {} : { timeout: opts.timeout };
  // Compose v2: the file's services' containers (one-offs only with --remove-orphans), in
  // reverse dependency order; orphans only with --remove-orphans.
  const all = (await client.containerList({ all: true, filters: projectFilter(project.name) })).filter(
    (c) => opts.removeOrphans || c.Labels?.[LABEL.oneoff] !== 'True',
  );
  for (const key of serviceOrder(project).reverse()) {
    const mine = all.filter((c) => c.Labels?.[LABEL.service] === key);
    await Promise.all(mine.map((c) => removeContainer(client, c, say, stop)));
  }
  if (opts.removeOrphans) {
    const orphans = all.filter(
      (c) => !((c.Labels?.[LABEL.service] ?? '') in project.services) && isOrphan(project, c),
    );
    await Promise.all(orphans.map((c) => removeContainer(client, c, say, stop)));
  }
  for (const n of await client.networkList({ filters: projectFilter(project.name) })) {
    try {
      await client.networkRemove(n.Id);
      say(` Network ${n.Name}  Removed`);
    } catch (err) {
      if (!isStatus(err, 403) && !isStatus(err, 409)) throw err;
      say(` Network ${n.Name}  Resource is still in use`);
    }
  }
  if (opts.volumes) {
    const vols = (await client.volumeList({ filters: projectFilter(project.name) })).Volumes ?? [];
    for (const v of vols) {
      try {
        await client.volumeRemove(v.Name);
        say(` Volume ${v.Name}  Removed`);
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
        say(` Volume ${v.Name}  Resource is still in use`);
      }
    }
  }
  if (opts.rmi) {
    for (const [key, svc] of Object.entries(project.services)) {
      if (opts.rmi === 'local' && !svc.build) continue;
      const image = serviceImage(project, key);
      try {
        await client.imageRemove(image);
        say(` Image ${image}  Removed`);
      } catch (err) {
        if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
        void key;
      }
    }
  }
}
