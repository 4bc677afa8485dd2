/**
 * The outputs of `compose config` besides the YAML model (cmd/compose/config.go): `--format json`
 * (Project.MarshalJSON: a map, so top-level keys sorted, services as encoding/json writes
 * ServiceConfig, indented by two, `$` doubled), `--hash` (one `<service> <config-hash>` line per
 * service, sorted), and the name lists of `--services`, `--volumes`, `--networks`, `--images`,
 * `--profiles` (map iteration in Compose, sorted here).
 */
import { invalidParameter } from '../common/errors.ts';
import { goJson, resourceForJson, serviceForOutput } from './canonical.ts';
import { serviceImage } from './container-config.ts';
import { serviceHash } from './hash.ts';
import type { Project } from './model.ts';

type Obj = Record<string, unknown>;

const sorted = <T>(m: Record<string, T>) => Object.keys(m).sort();

function fileObject(o: Obj, clearContent: boolean): Obj {
  const { content, ...rest } = o;
  const out: Obj = {};
  for (const k of [
    'name',
    'file',
    'environment',
    'content',
    'external',
    'labels',
    'driver',
    'driver_opts',
    'template_driver',
  ]) {
    const v = k === 'content' ? (clearContent ? undefined : content) : rest[k];
    if (v === undefined || v === '' || v === false) continue;
    if (typeof v === 'object' && v !== null && !Object.keys(v).length) continue;
    out[k] = v;
  }
  return out;
}

export function formatConfigJson(project: Project): string {
  const m: Obj = {};
  const services: Obj = {};
  for (const k of sorted(project.services)) {
    const { label_file: _l, ...svc } = project.services[k] as Obj;
    services[k] = serviceForOutput(svc, 'json');
  }
  const section = (r: Record<string, Obj>, kind: 'network' | 'volume') =>
    Object.fromEntries(sorted(r).map((k) => [k, resourceForJson(kind, r[k] as Obj)]));
  if (Object.keys(project.configs).length)
    m.configs = Object.fromEntries(
      sorted(project.configs).map((k) => {
        const c = project.configs[k] as Obj;
        return [k, fileObject(c, !!c.environment)];
      }),
    );
  m.name = project.name;
  if (Object.keys(project.networks).length)
    m.networks = section(project.networks as Record<string, Obj>, 'network');
  if (Object.keys(project.secrets).length)
    m.secrets = Object.fromEntries(
      sorted(project.secrets).map((k) => [k, fileObject(project.secrets[k] as Obj, true)]),
    );
  m.services = services;
  if (Object.keys(project.volumes).length)
    m.volumes = section(project.volumes as Record<string, Obj>, 'volume');
  for (const [k, v] of Object.entries(project.extensions ?? {})) m[k] = v;
  const ordered = Object.fromEntries(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );
  return goJson(JSON.parse(JSON.stringify(ordered)), 2).replaceAll('$', '$$$$');
}

/** `config --hash "*"` or `--hash a,b`. */
export function hashLines(project: Project, spec: string): string[] {
  const names = spec === '*' ? Object.keys(project.services) : spec.split(',');
  return names.sort().map((n) => {
    const svc = project.services[n];
    if (!svc) throw invalidParameter(`no such service: ${n}`);
    return `${n} ${serviceHash(svc)}`;
  });
}

export function configNames(
  project: Project,
  what: 'services' | 'volumes' | 'networks' | 'images' | 'profiles',
): string[] {
  switch (what) {
    case 'services':
      return Object.keys(project.services);
    case 'volumes':
      return sorted(project.volumes);
    case 'networks':
      return sorted(project.networks);
    case 'images':
      return sorted(project.services).map((k) => serviceImage(project, k));
    case 'profiles':
      return [
        ...new Set(
          [...Object.values(project.services), ...Object.values(project.disabledServices)].flatMap(
            (s) => s.profiles ?? [],
          ),
        ),
      ].sort();
  }
}
