/**
 * One-off containers (`compose run`) and picking a service's container (`exec`, `port`), as
 * Docker Compose v2 does (pkg/compose/run.go, containers.go): a one-off is the service's
 * container with the run's overrides, named `<project>-<service>-run-<slug>`, labelled
 * `com.docker.compose.oneoff=True` and `com.docker.compose.slug`, without container number,
 * restart policy or (unless --service-ports) published ports, and without network aliases
 * unless --use-aliases.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerSummary } from '../api/types/index.ts';
import { type EngineClient, isDaemonError } from '../client/index.ts';
import { invalidParameter } from '../common/errors.ts';
import {
  configHash,
  createBody,
  endpointSettings,
  LABEL,
  serviceImage,
  serviceNetworks,
} from './container-config.ts';
import { injectFiles } from './inject.ts';
import { handleOrphans } from './orphans.ts';
import type { Project, Service } from './model.ts';
import { parsePorts, parseVolumes } from './normalize.ts';
import { resolveRefs } from './refs.ts';
import { prepareServices, projectFilter, up, waitCondition } from './runner.ts';

export const SLUG_LABEL = 'com.docker.compose.slug';

export interface OneOffOptions {
  service: string;
  command?: string[];
  /** Replaces the entrypoint; without a command, the image's command is dropped too. */
  entrypoint?: string[];
  /** `KEY=VALUE`, or `KEY` taken from `env`. */
  env?: string[];
  labels?: Record<string, string>;
  name?: string;
  user?: string;
  workdir?: string;
  capAdd?: string[];
  capDrop?: string[];
  noDeps?: boolean;
  servicePorts?: boolean;
  publish?: string[];
  volumes?: string[];
  useAliases?: boolean;
  autoRemove?: boolean;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  build?: boolean;
  /** Remove orphan containers instead of warning about them (as `up`). */
  removeOrphans?: boolean;
  progress?: (line: string) => void;
}

/** The service's dependencies, transitively, without the service itself. */
export function dependenciesOf(project: Project, service: string): string[] {
  const out = new Set<string>();
  const visit = (s: string) => {
    for (const d of Object.keys(project.services[s]?.depends_on ?? {})) {
      if (!project.services[d] || out.has(d)) continue;
      out.add(d);
      visit(d);
    }
  };
  visit(service);
  return [...out];
}

/** The service as the one-off runs it (Compose's applyRunOptions and runOptions.apply). */
export function oneOffService(project: Project, opts: OneOffOptions, env: NodeJS.ProcessEnv): Service {
  const base = project.services[opts.service];
  if (!base) throw invalidParameter(`no such service: ${opts.service}`);
  if (opts.servicePorts && opts.publish?.length)
    throw invalidParameter('--service-ports and --publish are incompatible');
  const svc: Service = { ...base, tty: opts.tty, stdin_open: opts.interactive };
  delete svc.container_name;
  delete svc.restart;
  if (svc.deploy) svc.deploy = { ...svc.deploy, restart_policy: undefined };
  if (!opts.servicePorts) svc.ports = parsePorts(opts.publish ?? []);
  if (opts.volumes?.length)
    svc.volumes = [...(svc.volumes ?? []), ...parseVolumes(opts.volumes, project.workingDir)];
  if (opts.command?.length) svc.command = opts.command;
  if (opts.entrypoint) {
    svc.entrypoint = opts.entrypoint;
    if (!opts.command?.length) svc.command = [];
  }
  if (opts.user) svc.user = opts.user;
  if (opts.workdir) svc.working_dir = opts.workdir;
  if (opts.capAdd?.length) {
    svc.cap_add = [...(svc.cap_add ?? []), ...opts.capAdd];
    svc.cap_drop = (svc.cap_drop ?? []).filter((c) => !opts.capAdd?.includes(c));
  }
  if (opts.capDrop?.length) {
    svc.cap_drop = [...(svc.cap_drop ?? []), ...opts.capDrop];
    svc.cap_add = (svc.cap_add ?? []).filter((c) => !opts.capDrop?.includes(c));
  }
  if (opts.env?.length) {
    const environment = { ...(svc.environment ?? {}) };
    for (const e of opts.env) {
      const i = e.indexOf('=');
      if (i >= 0) environment[e.slice(0, i)] = e.slice(i + 1);
      else if (env[e] !== undefined) environment[e] = env[e] as string;
    }
    svc.environment = environment;
  }
  if (opts.labels) svc.labels = { ...(svc.labels ?? {}), ...opts.labels };
  return svc;
}

/**
 * Starts the service's dependencies (unless noDeps) and waits for their conditions, then creates
 * the one-off container (not started). Returns its id and name.
 */
export async function createOneOff(
  client: EngineClient,
  project: Project,
  opts: OneOffOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ id: string; name: string }> {
  const say = opts.progress ?? (() => {});
  const svc = oneOffService(project, opts, env);
  const deps = opts.noDeps ? [] : dependenciesOf(project, opts.service);
  if (deps.length) {
    await up(client, project, {
      services: deps,
      build: opts.build ?? false,
      removeOrphans: opts.removeOrphans ?? false,
      progress: say,
    });
    for (const [dep, cond] of Object.entries(svc.depends_on ?? {}))
      if (project.services[dep]) await waitCondition(client, project, dep, cond.condition, say);
  } else {
    // Compose's run creates the (possibly empty) rest of the project first: orphans are checked.
    await handleOrphans(client, project, opts.removeOrphans ?? false, say, say);
  }
  await prepareServices(client, project, [opts.service], opts.build ?? false, say);

  const slug = randomBytes(32).toString('hex');
  const name = opts.name || `${project.name}-${opts.service}-run-${slug.slice(0, 12)}`;
  const view: Project = { ...project, services: { ...project.services, [opts.service]: svc } };
  let imageId: string | undefined;
  try {
    imageId = (await client.imageInspect(serviceImage(view, opts.service))).Id;
  } catch (err) {
    if (!(isDaemonError(err) && err.statusCode === 404)) throw err;
  }
  const refs = await resolveRefs(client, view, opts.service, 1, imageId);
  const body = createBody(view, opts.service, 1, configHash(refs.service), refs);
  const labels = body.Labels as Record<string, string>;
  delete labels[LABEL.number];
  labels[LABEL.oneoff] = 'True';
  labels[SLUG_LABEL] = slug;
  const attachStdin = opts.interactive && !opts.detach;
  Object.assign(body, {
    AttachStdin: attachStdin,
    AttachStdout: !opts.detach,
    AttachStderr: !opts.detach,
    OpenStdin: opts.interactive,
    StdinOnce: attachStdin,
    Tty: opts.tty,
  });
  if (body.HostConfig) body.HostConfig.AutoRemove = opts.autoRemove ?? false;
  const nets = serviceNetworks(project, svc);
  const aliases = (key: string) =>
    opts.useAliases ? [opts.service, ...(svc.networks?.[key]?.aliases ?? [])] : [];
  const first = nets[0];
  const eps = (body.NetworkingConfig as { EndpointsConfig?: Record<string, { Aliases?: string[] }> })
    ?.EndpointsConfig;
  if (first && eps?.[first[1]]) (eps[first[1]] as { Aliases?: string[] }).Aliases = aliases(first[0]);
  const created = await client.containerCreate(body, {
    name,
    ...(typeof svc.platform === 'string' ? { platform: svc.platform } : {}),
  });
  for (const [netKey, netName] of svc.network_mode ? [] : nets.slice(1)) {
    await client.networkConnect(netName, {
      Container: created.Id,
      EndpointConfig: {
        ...endpointSettings(view, opts.service, 1, netKey, refs.links),
        Aliases: aliases(netKey),
      },
    } as never);
  }
  await injectFiles(client, view, opts.service, created.Id);
  return { id: created.Id, name };
}

/**
 * The container `exec`/`port` act on (Compose's getSpecifiedContainer): the service's running
 * containers, replica `index` when given, lowest number first and one-offs last.
 */
export async function serviceContainer(
  client: EngineClient,
  project: string,
  service: string,
  index = 0,
): Promise<ContainerSummary> {
  const extra = [`${LABEL.service}=${service}`];
  if (index > 0) extra.push(`${LABEL.number}=${index}`);
  const list = await client.containerList({ filters: projectFilter(project, extra) });
  if (!list.length) {
    throw invalidParameter(
      index > 0
        ? `service "${service}" is not running container #${index}`
        : `service "${service}" is not running`,
    );
  }
  const oneOff = (c: ContainerSummary) => c.Labels?.[LABEL.oneoff] === 'True';
  const num = (c: ContainerSummary) => Number(c.Labels?.[LABEL.number] ?? 0);
  list.sort((a, b) => (oneOff(a) || oneOff(b) ? Number(oneOff(a)) - Number(oneOff(b)) : num(a) - num(b)));
  return list[0] as ContainerSummary;
}
