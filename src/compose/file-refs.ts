/**
 * Secrets and configs as Docker Compose maps them outside swarm (pkg/compose/create.go
 * buildContainerSecretMounts/buildContainerConfigMounts, secrets.go injectFileReferences):
 * a `file:` source is bind-mounted read-only at the target (secrets: /run/secrets/<source> or
 * /run/secrets/<target> when relative; configs: /<source> or the target); an `environment:` or
 * `content:` source is written into the created container before it starts, as a file of mode
 * 0444 (or `mode`) owned by uid/gid. External ones need swarm and are refused, as are drivers.
 */
import { invalidParameter } from '../common/errors.ts';
import type { FileObjectConfig, FileReference, Project } from './model.ts';

type Kind = 'secrets' | 'configs';

function check(kind: Kind, def: FileObjectConfig | undefined, ref: FileReference): FileObjectConfig {
  const what = kind === 'secrets' ? 'secret' : 'config';
  if (!def) throw invalidParameter(`${what} ${ref.source} is not defined`);
  if (def.external) throw invalidParameter(`unsupported external ${what} ${def.name ?? ref.source}`);
  if (def.driver) throw invalidParameter(`Docker Compose does not support ${kind}.*.driver`);
  if (def.template_driver)
    throw invalidParameter(`Docker Compose does not support ${kind}.*.template_driver`);
  return def;
}

export function fileRefTarget(kind: Kind, ref: FileReference): string {
  if (kind === 'secrets') {
    if (!ref.target) return `/run/secrets/${ref.source}`;
    return ref.target.startsWith('/') ? ref.target : `/run/secrets/${ref.target}`;
  }
  if (!ref.target) return `/${ref.source}`;
  return ref.target.startsWith('/') ? ref.target : `/${ref.target}`;
}

/** Read-only bind mounts for the service's file-based secrets and configs. */
export function secretAndConfigMounts(project: Project, key: string): Record<string, unknown>[] {
  const svc = project.services[key];
  const byTarget = new Map<string, Record<string, unknown>>();
  for (const kind of ['configs', 'secrets'] as const) {
    for (const ref of svc?.[kind] ?? []) {
      const def = check(kind, project[kind][ref.source], ref);
      if (def.environment !== undefined || def.content !== undefined) continue;
      const target = fileRefTarget(kind, ref);
      byTarget.set(target, {
        Type: 'bind',
        Source: def.file,
        Target: target,
        ReadOnly: true,
      });
    }
  }
  return [...byTarget.values()];
}

export interface InjectedFile {
  target: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
  /** Whether uid/gid were given (PUT archive with copyUIDGID). */
  owned: boolean;
}

/** The environment- and content-based secrets and configs to write into a created container. */
export function injectedFiles(project: Project, key: string): InjectedFile[] {
  const svc = project.services[key];
  const out: InjectedFile[] = [];
  for (const kind of ['secrets', 'configs'] as const) {
    for (const ref of svc?.[kind] ?? []) {
      const def = check(kind, project[kind][ref.source], ref);
      let content: string | undefined;
      if (def.content !== undefined) content = def.content;
      else if (def.environment !== undefined) {
        throw invalidParameter(
          `environment variable "${def.environment}" required by ${kind === 'secrets' ? 'secret' : 'config'} "${def.name ?? ref.source}" is not set`,
        );
      }
      if (content === undefined || content === '') continue;
      if (svc?.read_only)
        throw invalidParameter(
          `cannot create ${kind === 'secrets' ? 'secret' : 'config'} "${def.name ?? ref.source}" in read-only service ${key}: \`file\` is the sole supported option`,
        );
      out.push({
        target: fileRefTarget(kind, ref),
        content,
        mode: ref.mode ?? 0o444,
        uid: Number(ref.uid ?? 0),
        gid: Number(ref.gid ?? 0),
        owned: ref.uid !== undefined || ref.gid !== undefined,
      });
    }
  }
  return out;
}
