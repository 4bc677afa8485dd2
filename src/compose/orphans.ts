/**
 * Orphan containers (Docker Compose v2 pkg/compose/containers.go isOrphaned, create.go): a
 * project container whose service is neither in the file nor disabled by a profile, or an
 * exited one-off container. `up` warns about them, or removes them with --remove-orphans.
 */
import type { ContainerSummary } from '../api/types/index.ts';
import type { EngineClient } from '../client/index.ts';
import { LABEL } from './container-config.ts';
import type { Project } from './model.ts';

export function isOrphan(project: Project, c: ContainerSummary): boolean {
  if (c.Labels?.[LABEL.oneoff] === 'True') return c.State === 'exited' || c.State === 'dead';
  const service = c.Labels?.[LABEL.service] ?? '';
  return !(service in project.services) && !(service in project.disabledServices);
}

export function containerLabel(c: ContainerSummary): string {
  return (c.Names?.[0] ?? c.Id).replace(/^\//, '');
}

export async function findOrphans(client: EngineClient, project: Project): Promise<ContainerSummary[]> {
  const all = await client.containerList({
    all: true,
    filters: { label: [`${LABEL.project}=${project.name}`] },
  });
  return all.filter((c) => isOrphan(project, c));
}

export function orphanWarning(orphans: ContainerSummary[]): string {
  return (
    `WARN[0000] Found orphan containers ([${orphans.map(containerLabel).join(' ')}]) for this project. ` +
    'If you removed or renamed this service in your compose file, you can run this command with the ' +
    '--remove-orphans flag to clean it up.'
  );
}

/** Stops and removes containers (orphans), reporting as `down` does. */
export async function removeContainers(
  client: EngineClient,
  list: ContainerSummary[],
  say: (l: string) => void,
): Promise<void> {
  await Promise.all(
    list.map(async (c) => {
      const name = containerLabel(c);
      if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
        say(` Container ${name}  Stopping`);
        await client.containerStop(c.Id);
        say(` Container ${name}  Stopped`);
      }
      say(` Container ${name}  Removing`);
      await client.containerRemove(c.Id, { force: true });
      say(` Container ${name}  Removed`);
    }),
  );
}

/** `up`/`run`: warn about orphans, or remove them when asked. */
export async function handleOrphans(
  client: EngineClient,
  project: Project,
  remove: boolean,
  say: (l: string) => void,
  warn: (l: string) => void,
): Promise<void> {
  const orphans = await findOrphans(client, project);
  if (!orphans.length) return;
  if (remove) await removeContainers(client, orphans, say);
  else warn(orphanWarning(orphans));
}
