/**
 * Loading a project (compose-spec "Compose file" + "Merge and override" + "Interpolation"):
 * read each `-f` file, parse YAML, interpolate from the environment and `.env`, validate against
 * the schema, normalise short syntax, merge the files in order, resolve `extends`, apply
 * profiles, fill in project defaults (names, default network), and check the dependency graph.
 * Every error is thrown before anything is created on the daemon.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { invalidParameter } from '../common/errors.ts';
import { interpolateTree } from './interpolate.ts';
import type { Project, Service } from './model.ts';
import { normalizeServiceShapes } from './normalize.ts';
import { validateCompose } from './schema.ts';
import { Override, parseComposeYaml, RESET, stripMarkers } from './yaml-file.ts';

export interface LoadOptions {
  /** Compose files in order (`-f`); default compose.yaml / docker-compose.yml in `cwd`. */
  files?: string[];
  projectName?: string;
  cwd: string;
  env: Record<string, string | undefined>;
  profiles?: string[];
  envFile?: string;
}

type Obj = Record<string, unknown>;

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw invalidParameter(`open ${path}: no such file or directory`, { cause: err });
  }
}

function findDefaultFile(cwd: string): string {
  for (const f of DEFAULT_FILES) {
    try {
      readFileSync(resolve(cwd, f));
      return resolve(cwd, f);
    } catch {}
  }
  throw invalidParameter('no configuration file provided: not found');
}

/** The project name rule of compose-spec: lowercase letters, digits, dashes, underscores. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

export function loadProject(opts: LoadOptions): Project {
  const files = opts.files?.length
    ? opts.files.map((f) => resolve(opts.cwd, f))
    : [findDefaultFile(opts.cwd)];
  const workingDir = dirname(files[0] as string);
  const dotenvPath = opts.envFile ? resolve(opts.cwd, opts.envFile) : resolve(workingDir, '.env');
  let dotenv: Record<string, string> = {};
  try {
    dotenv = parseDotenv(readFileSync(dotenvPath));
  } catch (err) {
    if (opts.envFile) throw invalidParameter(`open ${dotenvPath}: no such file or directory`, { cause: err });
  }
  // The process environment wins over .env (compose-spec "Interpolation").
  const env: Record<string, string | undefined> = { ...dotenv, ...opts.env };
  const lookup = (n: string) => env[n];

  let merged: Obj = {};
  files.forEach((file, index) => {
    const raw = parseComposeYaml(readText(file), file);
    const doc = interpolateTree(raw, lookup) as Obj;
    validateCompose(stripMarkers(doc), basename(file));
    const shaped = shapeFile(doc, dirname(file));
    merged = index === 0 ? shaped : (mergeValue(merged, shaped, []) as Obj);
  });
  merged = stripMarkers(merged) as Obj;

  const name = normalizeProjectName(
    opts.projectName ??
      env.COMPOSE_PROJECT_NAME ??
      (merged.name as string | undefined) ??
      basename(workingDir),
  );
  if (!name) throw invalidParameter('project name must not be empty');

  const services = (merged.services ?? {}) as Record<string, Service>;
  for (const key of Object.keys(services)) resolveExtends(key, services, workingDir, lookup, []);

  const active = new Set(opts.profiles ?? (env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',') : []));
  const enabled: Record<string, Service> = {};
  const disabled: Record<string, Service> = {};
  for (const [key, svc] of Object.entries(services)) {
    const on = !svc.profiles?.length || svc.profiles.some((p) => active.has(p) || active.has('*'));
    (on ? enabled : disabled)[key] = finishService(key, svc, name, env);
  }

  const networks = (merged.networks ?? {}) as Project['networks'];
  const usesDefault = Object.values(enabled).some(
    (s) => !s.network_mode && s.networks && 'default' in s.networks,
  );
  if (usesDefault && !networks.default) networks.default = {};
  for (const [key, n] of Object.entries(networks)) {
    const net = n ?? {};
    networks[key] = { ...net, name: net.name ?? (net.external ? key : `${name}_${key}`) };
  }
  const volumes = (merged.volumes ?? {}) as Project['volumes'];
  for (const [key, v] of Object.entries(volumes)) {
    const vol = v ?? {};
    volumes[key] = { ...vol, name: vol.name ?? (vol.external ? key : `${name}_${key}`) };
  }
  const project: Project = {
    name,
    workingDir,
    configFiles: files,
    services: enabled,
    networks,
    volumes,
    disabledServices: disabled,
  };
  checkReferences(project);
  return project;
}

function shapeFile(doc: Obj, baseDir: string): Obj {
  const out: Obj = { ...doc };
  if (doc.services && typeof doc.services === 'object') {
    out.services = Object.fromEntries(
      Object.entries(doc.services as Obj).map(([k, v]) => [
        k,
        v === RESET || v instanceof Override ? v : normalizeServiceShapes((v ?? {}) as Obj, baseDir),
      ]),
    );
  }
  return out;
}

// Keys whose sequences replace rather than append (compose-spec "Merge and override").
const REPLACED = new Set(['command', 'entrypoint', 'test', 'profiles']);

/** Merges `over` into `base` following compose-spec's rules. */
export function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over === RESET) return RESET;
  if (over instanceof Override) return over.value;
  if (Array.isArray(base) && Array.isArray(over)) {
    const key = path.at(-1) ?? '';
    if (REPLACED.has(key)) return over;
    if (key === 'volumes' && path.length === 3) {
      // Service volumes merge by mount target.
      const byTarget = new Map<string, unknown>();
      for (const v of [...base, ...over]) byTarget.set(String((v as Obj).target), v);
      return [...byTarget.values()];
    }
    const seen = new Set<string>();
    const out: unknown[] = [];
    for (const v of [...base, ...over]) {
      const j = JSON.stringify(v);
      if (!seen.has(j)) {
        seen.add(j);
        out.push(v);
      }
    }
    return out;
  }
  if (isObj(base) && isObj(over)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
      out[k] = k in base ? mergeValue(base[k], v, [...path, k]) : v;
    }
    return out;
  }
  return over;
}

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Override);
}

function resolveExtends(
  key: string,
  services: Record<string, Service>,
  workingDir: string,
  lookup: (n: string) => string | undefined,
  stack: string[],
): void {
  const svc = services[key] as Service;
  const ext = svc.extends as string | { service: string; file?: string } | undefined;
  if (!ext) return;
  if (stack.includes(key)) throw invalidParameter(`circular reference with extends in service ${key}`);
  const ref = typeof ext === 'string' ? { service: ext } : ext;
  let base: Service | undefined;
  if (ref.file) {
    const file = resolve(workingDir, ref.file);
    const doc = interpolateTree(parseComposeYaml(readText(file), file), lookup) as Obj;
    const other = shapeFile(stripMarkers(doc) as Obj, dirname(file)).services as Record<string, Service>;
    if (!other?.[ref.service])
      throw invalidParameter(`cannot extend service "${ref.service}" in ${file}: service not found`);
    resolveExtends(ref.service, other, dirname(file), lookup, []);
    base = other[ref.service];
  } else {
    if (!services[ref.service])
      throw invalidParameter(`service "${key}" extends unknown service "${ref.service}"`);
    resolveExtends(ref.service, services, workingDir, lookup, [...stack, key]);
    base = services[ref.service];
  }
  const { extends: _drop, ...own } = svc;
  const { depends_on: _d, ...inherited } = base as Service;
  services[key] = mergeValue(inherited, own, ['services', key]) as Service;
}

function finishService(
  key: string,
  svc: Service,
  project: string,
  env: Record<string, string | undefined>,
): Service {
  const s: Service = { ...svc };
  // env_file entries are folded into environment, the file's values losing to `environment`.
  const fromFiles: Record<string, string | null> = {};
  for (const f of (s.env_file as { path: string; required?: boolean }[] | undefined) ?? []) {
    let text: string;
    try {
      text = readFileSync(f.path, 'utf8');
    } catch (err) {
      if (f.required === false) continue;
      throw invalidParameter(`env file ${f.path} not found`, { cause: err });
    }
    Object.assign(fromFiles, parseDotenv(text));
  }
  delete s.env_file;
  if (Object.keys(fromFiles).length || s.environment) {
    const merged = { ...fromFiles, ...(s.environment ?? {}) };
    // A bare `KEY` takes its value from the environment; compose drops it when unset.
    for (const [k, v] of Object.entries(merged)) {
      if (v === null) {
        if (env[k] !== undefined) merged[k] = env[k] as string;
        else delete merged[k];
      }
    }
    s.environment = merged;
  }
  if (s.build) {
    s.build = { dockerfile: 'Dockerfile', ...s.build };
    s.image ??= `${project}-${key}`;
  }
  if (!s.network_mode && !s.networks) s.networks = { default: null };
  if (s.deploy?.replicas !== undefined && s.scale === undefined) s.scale = s.deploy.replicas;
  if (!s.image && !s.build)
    throw invalidParameter(`service "${key}" has neither an image nor a build context specified`);
  return s;
}

function checkReferences(project: Project): void {
  const services = project.services;
  for (const [key, svc] of Object.entries(services)) {
    for (const dep of Object.keys(svc.depends_on ?? {})) {
      if (!services[dep]) {
        if (project.disabledServices[dep] || svc.depends_on?.[dep]?.required === false) continue;
        throw invalidParameter(
          `service "${key}" depends on undefined service "${dep}": invalid compose project`,
        );
      }
    }
    for (const net of Object.keys(svc.networks ?? {})) {
      if (!project.networks[net])
        throw invalidParameter(
          `service "${key}" refers to undefined network ${net}: invalid compose project`,
        );
    }
    for (const v of svc.volumes ?? []) {
      if (v.type === 'volume' && v.source && !project.volumes[v.source]) {
        throw invalidParameter(
          `service "${key}" refers to undefined volume ${v.source}: invalid compose project`,
        );
      }
    }
  }
  serviceOrder(project);
}

/** Services in dependency order (dependencies first); throws on a cycle. */
export function serviceOrder(project: Project): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string, path: string[]) => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') {
      throw invalidParameter(`dependency cycle detected: ${[...path, key].join(' -> ')}`);
    }
    state.set(key, 'visiting');
    for (const dep of Object.keys(project.services[key]?.depends_on ?? {})) {
      if (project.services[dep]) visit(dep, [...path, key]);
    }
    state.set(key, 'done');
    order.push(key);
  };
  for (const key of Object.keys(project.services).sort()) visit(key, []);
  return order;
}

/** The model as `docker compose config` prints it (YAML-ready plain object). */
export function projectToConfig(project: Project): Obj {
  const out: Obj = { name: project.name, services: project.services };
  if (Object.keys(project.networks).length) out.networks = project.networks;
  if (Object.keys(project.volumes).length) out.volumes = project.volumes;
  return out;
}
