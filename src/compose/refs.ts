/**
 * Resolving a service's references to other services' containers before hashing and creating it,
 * as Compose's convergence does (resolveServiceReferences, getLinks):
 * - volumes_from `svc[:mode]` -> the ID of svc's first container, `container:name[:mode]` -> name
 *   (Compose hashes them without the mode; the create request keeps it);
 * - network_mode / ipc / pid `service:svc` -> `container:<ID of svc's first container>`;
 * - links `svc[:alias]` -> for each container of svc, `<name>:<alias>`, `<name>:<svc>-<n>` and
 *   `<name>:<project>-<svc>-<n>`; external_links `name[:alias]` -> `name:alias`.
 */
import type { ContainerSummary } from '../api/types/index.ts';
import type { EngineClient } from '../client/index.ts';
import { invalidParameter } from '../common/errors.ts';
import { LABEL, type ResolvedRefs } from './container-config.ts';
import type { Project, Service } from './model.ts';

async function serviceContainers(client: EngineClient, project: string, service: string) {
  const list = await client.containerList({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.service}=${service}`] },
  });
  return list
    .filter((c) => c.Labels?.[LABEL.oneoff] !== 'True')
    .sort((a, b) => Number(a.Labels?.[LABEL.number] ?? 0) - Number(b.Labels?.[LABEL.number] ?? 0));
}

function canonicalName(c: ContainerSummary): string {
  // The shortest name is the container's own (the others are legacy link names).
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, '')).filter((n) => !n.includes('/'));
  return names[0] ?? c.Id;
}

export async function resolveRefs(
  client: EngineClient,
  project: Project,
  key: string,
  n: number,
  imageId?: string,
): Promise<ResolvedRefs> {
  const svc = project.services[key] as Service;
  const resolved: Service = { ...svc };
  const volumesFrom: string[] = [];
  const hashed: string[] = [];
  for (const v of svc.volumes_from ?? []) {
    const parts = v.split(':');
    if (parts[0] === 'container') {
      hashed.push(parts[1] as string);
      volumesFrom.push(parts.slice(1).join(':'));
      continue;
    }
    const first = (await serviceContainers(client, project.name, parts[0] as string))[0];
    if (!first) throw invalidParameter(`cannot share volume with service ${parts[0]}: container missing`);
    hashed.push(first.Id);
    volumesFrom.push(parts[1] ? `${first.Id}:${parts[1]}` : first.Id);
  }
  if (svc.volumes_from) resolved.volumes_from = hashed;
  for (const ns of ['network_mode', 'ipc', 'pid'] as const) {
    const ref = svc[ns];
    if (typeof ref !== 'string' || !ref.startsWith('service:')) continue;
    const target = ref.slice('service:'.length);
    const first = (await serviceContainers(client, project.name, target))[0];
    const what = ns === 'network_mode' ? 'network' : ns === 'ipc' ? 'IPC' : 'PID';
    if (!first)
      throw invalidParameter(`cannot share ${what} namespace with service ${target}: container missing`);
    resolved[ns] = `container:${first.Id}`;
  }
  const links: string[] = [];
  for (const raw of svc.links ?? []) {
    const [target, alias] = raw.split(':') as [string, string?];
    for (const c of await serviceContainers(client, project.name, target)) {
      const name = canonicalName(c);
      links.push(
        `${name}:${alias ?? target}`,
        `${name}:${target}-${n}`,
        `${name}:${project.name}-${target}-${n}`,
      );
    }
  }
  for (const raw of (svc.external_links as string[] | undefined) ?? []) {
    const [name, alias] = raw.split(':') as [string, string?];
    links.push(`${name}:${alias ?? name}`);
  }
  return { service: resolved, volumesFrom, links, ...(imageId ? { imageId } : {}) };
}
