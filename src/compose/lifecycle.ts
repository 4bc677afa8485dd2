/**
 * `compose start | stop | restart | kill | pause | unpause | rm` on a project's existing
 * containers (Docker Compose v2 pkg/compose/start.go, stop.go, restart.go, kill.go, pause.go,
 * remove.go): start and restart go in dependency order (start waits for each dependency's
 * condition), stop in reverse order; one-off `run` containers are left alone.
 */
import type { ContainerSummary } from '../api/types/index.ts';
import type { EngineClient } from '../client/index.ts';
import { invalidParameter } from '../common/errors.ts';
import { LABEL } from './container-config.ts';
import { serviceOrder } from './load.ts';
import type { Project } from './model.ts';
import { dependenciesOf } from './one-off.ts';
import { containerLabel, isOrphan } from './orphans.ts';
import { projectContainers, waitCondition } from './runner.ts';

type Say = (line: string) => void;

const serviceOf = (c: ContainerSummary) => c.Labels?.[LABEL.service] ?? '';

function checkServices(project: Project, services: string[]): void {
  for (const s of services) if (!project.services[s]) throw invalidParameter(`no such service: ${s}`);
}

/** Selected services (all when none), with their dependencies unless `noDeps`, in start order. */
function withDependencies(project: Project, services: string[], noDeps: boolean): string[] {
  checkServices(project, services);
  if (!services.length) return serviceOrder(project);
  const want = new Set(
    noDeps ? services : [...services, ...services.flatMap((s) => dependenciesOf(project, s))],
  );
  return serviceOrder(project).filter((s) => want.has(s));
}

/** The project's service containers of `services` (all when none), grouped by service. */
async function byService(client: EngineClient, project: Project, services: string[]) {
  const all = await projectContainers(client, project.name);
  const groups = new Map<string, ContainerSummary[]>();
  for (const c of all) {
    if (services.length && !services.includes(serviceOf(c))) continue;
    groups.set(serviceOf(c), [...(groups.get(serviceOf(c)) ?? []), c]);
  }
  return groups;
}

export async function startServices(client: EngineClient, project: Project, services: string[], say: Say) {
  const order = withDependencies(project, services, true);
  const groups = await byService(client, project, order);
  if (![...groups.values()].some((g) => g.length)) throw invalidParameter('no containers to start');
  for (const key of order) {
    for (const [dep, cond] of Object.entries(project.services[key]?.depends_on ?? {}))
      if (groups.has(dep)) await waitCondition(client, project, dep, cond.condition, say);
    for (const c of groups.get(key) ?? []) {
      if (c.State === 'running') continue;
      await client.containerStart(c.Id);
      say(` Container ${containerLabel(c)}  Started`);
    }
  }
}

export async function stopServices(
  client: EngineClient,
  project: Project,
  services: string[],
  opts: { timeout?: number },
  say: Say,
) {
  checkServices(project, services);
  const groups = await byService(client, project, services);
  for (const key of serviceOrder(project).reverse()) {
    await Promise.all(
      (groups.get(key) ?? []).map(async (c) => {
        await client.containerStop(c.Id, opts.timeout === undefined ? {} : { timeout: opts.timeout });
        say(` Container ${containerLabel(c)}  Stopped`);
      }),
    );
  }
}

export async function restartServices(
  client: EngineClient,
  project: Project,
  services: string[],
  opts: { timeout?: number; noDeps?: boolean },
  say: Say,
) {
  const order = withDependencies(project, services, opts.noDeps ?? false);
  const groups = await byService(client, project, order);
  for (const key of order) {
    await Promise.all(
      (groups.get(key) ?? []).map(async (c) => {
        await client.containerRestart(c.Id, opts.timeout === undefined ? {} : { timeout: opts.timeout });
        say(` Container ${containerLabel(c)}  Started`);
      }),
    );
  }
}

export async function killServices(
  client: EngineClient,
  project: Project,
  services: string[],
  opts: { signal?: string; removeOrphans?: boolean },
  say: Say,
) {
  checkServices(project, services);
  const all = (
    await client.containerList({ filters: { label: [`${LABEL.project}=${project.name}`] } })
  ).filter(
    (c) =>
      (!services.length || services.includes(serviceOf(c))) &&
      (serviceOf(c) in project.services || (opts.removeOrphans && isOrphan(project, c))),
  );
  if (!all.length) say('no container to kill');
  await Promise.all(
    all.map(async (c) => {
      await client.containerKill(c.Id, opts.signal);
      say(` Container ${containerLabel(c)}  Killed`);
    }),
  );
}

export async function pauseServices(
  client: EngineClient,
  project: Project,
  services: string[],
  pause: boolean,
  say: Say,
) {
  checkServices(project, services);
  const groups = await byService(client, project, services);
  await Promise.all(
    [...groups.values()].flat().map(async (c) => {
      if (pause) await client.containerPause(c.Id);
      else await client.containerUnpause(c.Id);
      say(` Container ${containerLabel(c)}  ${pause ? 'Paused' : 'Unpaused'}`);
    }),
  );
}

/** `compose rm`: the stopped containers (running ones too after `stop`), listed for the prompt. */
export async function removableContainers(
  client: EngineClient,
  project: Project,
  services: string[],
): Promise<ContainerSummary[]> {
  checkServices(project, services);
  const list = [...(await byService(client, project, services)).values()].flat();
  const out: ContainerSummary[] = [];
  for (const c of list) {
    const state = await client.containerInspect(c.Id).catch(() => undefined);
    if (state && !state.State.Running) out.push(c);
  }
  return out;
}

export async function removeServiceContainers(
  client: EngineClient,
  containers: ContainerSummary[],
  opts: { volumes?: boolean; force?: boolean },
  say: Say,
) {
  await Promise.all(
    containers.map(async (c) => {
      await client.containerRemove(c.Id, { volumes: opts.volumes ?? false, force: opts.force ?? false });
      say(` Container ${containerLabel(c)}  Removed`);
    }),
  );
}
