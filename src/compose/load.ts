/**
 * Loading a project (compose-spec "Compose file" + "Merge and override" + "Interpolation"):
 * read each `-f` file, parse YAML, interpolate from the environment and `.env`, validate against
 * the schema, normalise short syntax, merge the files in order, resolve `extends`, apply
 * profiles, fill in project defaults (names, default network), and check the dependency graph.
 * Every error is thrown before anything is created on the daemon.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { invalidParameter } from '../common/errors.ts';
import { projectForYaml } from './canonical.ts';
import { parseEnvText } from './dotenv.ts';
import { interpolateTree } from './interpolate.ts';
import { stringifyLikeYamlV3 } from './yaml-out.ts';
import type { Project, Service } from './model.ts';
import { normalizeServiceShapes, toMap } from './normalize.ts';
import { normalizeServiceValues } from './values.ts';
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
  /** Keep networks, volumes, secrets and configs no service uses (`--all-resources`). */
  allResources?: boolean;
  /** `--project-directory`: relative paths resolve against it (default: the first file's directory). */
  projectDirectory?: string;
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
    : [findDefaultFile(opts.projectDirectory ? resolve(opts.cwd, opts.projectDirectory) : opts.cwd)];
  const workingDir = opts.projectDirectory
    ? resolve(opts.cwd, opts.projectDirectory)
    : dirname(files[0] as string);
  const dotenvPath = opts.envFile ? resolve(opts.cwd, opts.envFile) : resolve(workingDir, '.env');
  let dotenv: Record<string, string> = {};
  try {
    // Variables in .env may refer to the process environment.
    dotenv = parseEnvText(readFileSync(dotenvPath, 'utf8'), {}, (k) => opts.env[k], dotenvPath);
  } catch (err) {
    if (opts.envFile) throw invalidParameter(`open ${dotenvPath}: no such file or directory`, { cause: err });
  }
  // The process environment wins over .env (compose-spec "Interpolation").
  const env: Record<string, string | undefined> = { ...dotenv, ...opts.env };
  const lookup = (n: string) => env[n];

  let merged = loadFiles(files, workingDir, env, []);
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
    (on ? enabled : disabled)[key] = finishService(key, svc, env);
  }

  const networks = (merged.networks ?? {}) as Project['networks'];
  const usesDefault = Object.values(enabled).some(
    (s) => !s.network_mode && s.networks && 'default' in s.networks,
  );
  if (usesDefault && !networks.default) networks.default = {};
  const named = <T extends { name?: string; external?: boolean }>(m: Record<string, T | null>) => {
    for (const [key, r] of Object.entries(m)) {
      const res = (r ?? {}) as T;
      m[key] = { ...res, name: res.name ?? (res.external ? key : `${name}_${key}`) };
    }
    return m as Record<string, T>;
  };
  named(networks);
  const volumes = named((merged.volumes ?? {}) as Project['volumes']);
  const secrets = named((merged.secrets ?? {}) as Project['secrets']);
  const configs = named((merged.configs ?? {}) as Project['configs']);
  for (const [kind, m] of [
    ['secrets', secrets],
    ['configs', configs],
  ] as const) {
    for (const [key, f] of Object.entries(m)) {
      if (f.file) f.file = resolvePath(workingDir, f.file);
      // An `environment:` source takes its content from the project environment.
      if (f.environment !== undefined && env[f.environment] !== undefined) f.content = env[f.environment];
      if (!f.file && f.environment === undefined && f.content === undefined && !f.external)
        throw invalidParameter(
          `${kind}.${key}: one of file, environment${kind === 'configs' ? ', content' : ''} or external must be set`,
        );
    }
  }
  const extensions = Object.fromEntries(Object.entries(merged).filter(([k]) => k.startsWith('x-')));
  const project: Project = {
    name,
    workingDir,
    configFiles: files,
    ...(opts.envFile ? { envFiles: [opts.envFile] } : {}),
    services: enabled,
    networks,
    volumes,
    secrets,
    configs,
    extensions,
    disabledServices: disabled,
  };
  checkReferences(project);
  return opts.allResources ? project : withoutUnusedResources(project);
}

/** Reads, interpolates, validates and shapes each file, applying its `include`s, and merges them. */
function loadFiles(
  files: string[],
  workingDir: string,
  env: Record<string, string | undefined>,
  included: string[],
): Obj {
  const lookup = (n: string) => env[n];
  let merged: Obj = {};
  files.forEach((file, index) => {
    const raw = parseComposeYaml(readText(file), file);
    const doc = interpolateTree(raw, lookup) as Obj;
    validateCompose(stripMarkers(doc), basename(file));
    const shaped = enforceUnicity(shapeFile(doc, workingDir)) as Obj;
    if (doc.include) {
      applyInclude(doc.include as unknown[], shaped, workingDir, env, [...included, file]);
      delete shaped.include;
    }
    merged = index === 0 ? shaped : (mergeValue(merged, shaped, []) as Obj);
  });
  return merged;
}

/**
 * compose-spec `include`: each entry is loaded as its own application model (relative paths
 * against its project_directory, default the first file's directory; variables from the
 * including project's environment, then the entry's env_file or that directory's .env), and its
 * resources are imported; a resource also defined, differently, by the including file is an error.
 */
function applyInclude(
  entries: unknown[],
  target: Obj,
  workingDir: string,
  env: Record<string, string | undefined>,
  included: string[],
): void {
  for (const e of entries) {
    const entry = (typeof e === 'string' ? { path: e } : e) as {
      path: string | string[];
      project_directory?: string;
      env_file?: string | string[];
    };
    const paths = ([] as string[]).concat(entry.path).map((p) => resolvePath(workingDir, p));
    const first = paths[0] as string;
    if (included.includes(first))
      throw invalidParameter(
        `include cycle detected:\n${included[0]}\n include ${[...included.slice(1), first].join('\n include ')}`,
      );
    const dir = entry.project_directory ? resolvePath(workingDir, entry.project_directory) : dirname(first);
    let envFiles = entry.env_file !== undefined ? ([] as string[]).concat(entry.env_file) : [];
    envFiles = envFiles.map((f) => resolvePath(workingDir, f));
    if (!envFiles.length) {
      const dot = join(dir, '.env');
      if (existsSync(dot) && statSync(dot).isFile()) envFiles = [dot];
    }
    const fromFiles: Record<string, string> = {};
    for (const f of envFiles) parseEnvText(readText(f), fromFiles, (k) => env[k], f);
    // The including project's variables win over the included env files.
    const subEnv: Record<string, string | undefined> = { ...fromFiles, ...definedOnly(env) };
    const model = loadFiles(paths, dir, subEnv, included);
    for (const section of ['services', 'volumes', 'networks', 'secrets', 'configs']) {
      const from = model[section] as Obj | undefined;
      if (!from) continue;
      if (!target[section]) target[section] = {};
      const to = target[section] as Obj;
      for (const [k, v] of Object.entries(from)) {
        if (k in to) {
          if (JSON.stringify(to[k]) === JSON.stringify(v)) continue;
          throw invalidParameter(`${section}.${k} conflicts with imported resource`);
        }
        to[k] = v;
      }
    }
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function resolvePath(base: string, p: string): string {
  if (p.startsWith('~')) p = (process.env.HOME ?? '/root') + p.slice(1);
  return isAbsolute(p) ? p : join(base, p);
}

/** Normalises a service, including the values under `!override` (kept marked for the merge). */
function shapeService(svc: Obj, baseDir: string): Obj {
  const overridden = Object.keys(svc).filter((k) => svc[k] instanceof Override);
  const plain = { ...svc };
  for (const k of overridden) plain[k] = (svc[k] as Override).value;
  const out = normalizeServiceShapes(plain, baseDir);
  for (const k of overridden) out[k] = new Override(out[k]);
  return out;
}

function shapeFile(doc: Obj, baseDir: string): Obj {
  const out: Obj = { ...doc };
  if (doc.services && typeof doc.services === 'object') {
    out.services = Object.fromEntries(
      Object.entries(doc.services as Obj).map(([k, v]) => [
        k,
        v === RESET || v instanceof Override ? v : shapeService((v ?? {}) as Obj, baseDir),
      ]),
    );
  }
  for (const section of ['networks', 'volumes', 'secrets', 'configs']) {
    const m = doc[section] as Obj | undefined;
    if (!m || typeof m !== 'object') continue;
    out[section] = Object.fromEntries(
      Object.entries(m).map(([k, v]) => {
        if (!v || typeof v !== 'object' || v instanceof Override) return [k, v];
        const r = { ...(v as Obj) };
        // `external: {name: x}` is the deprecated spelling of `name: x` + `external: true`.
        if (r.external && typeof r.external === 'object') {
          const extName = (r.external as Obj).name;
          r.external = true;
          if (extName !== undefined) {
            if (r.name !== undefined && r.name !== extName)
              throw invalidParameter(`${section}.${k}: name and external.name conflict; only use name`);
            r.name = extName;
          }
        }
        if ((section === 'secrets' || section === 'configs') && typeof r.file === 'string')
          r.file = resolvePath(baseDir, r.file);
        if (r.labels !== undefined) r.labels = toMap(r.labels);
        return [k, r];
      }),
    );
  }
  return out;
}

/** Whether `path` (keys, list indexes as "[]") matches a pattern with `*` for any key. */
function matches(path: string[], pattern: string): boolean {
  const parts = pattern.split('.');
  return parts.length === path.length && parts.every((p, i) => p === '*' || p === path[i]);
}

// compose-go override/merge.go: values replaced whole, and mappings merged key by key with the
// later file's value winning even when it is null (they are sequences of KEY=VALUE there).
const OVERRIDE = [
  'services.*.command',
  'services.*.entrypoint',
  'services.*.healthcheck.test',
  'services.*.ulimits.*',
];
const KEY_VALUE = [
  'services.*.environment',
  'services.*.labels',
  'services.*.annotations',
  'services.*.sysctls',
  'services.*.build.args',
  'services.*.build.labels',
  'services.*.build.additional_contexts',
  'services.*.deploy.labels',
  'services.*.volumes.[].volume.labels',
  'networks.*.labels',
  'volumes.*.labels',
];

// compose-go override/uncity.go: sequences whose entries are unique by a key, the later entry
// taking the earlier one's place.
type Indexer = (e: unknown) => string;
const byValue: Indexer = (e) => (typeof e === 'string' ? e : JSON.stringify(e));
const byTarget: Indexer = (e) => String((e as Obj).target);
const UNIQUE: [string, Indexer][] = [
  ['services.*.cap_add', byValue],
  ['services.*.cap_drop', byValue],
  ['services.*.dns', byValue],
  ['services.*.dns_opt', byValue],
  ['services.*.dns_search', byValue],
  ['services.*.expose', byValue],
  ['services.*.extra_hosts', byValue],
  ['services.*.links', byValue],
  ['services.*.profiles', byValue],
  ['services.*.tmpfs', byValue],
  ['services.*.build.tags', byValue],
  ['services.*.networks.*.aliases', byValue],
  ['services.*.networks.*.link_local_ips', byValue],
  ['services.*.volumes', byTarget],
  ['services.*.devices', byTarget],
  ['services.*.secrets', byTarget],
  ['services.*.configs', (e) => String((e as Obj).target ?? `/${(e as Obj).source}`)],
  [
    'services.*.ports',
    (e) => {
      const p = e as Obj;
      return `${p.host_ip ?? '0.0.0.0'}:${p.published ?? ''}:${p.target}/${p.protocol ?? 'tcp'}`;
    },
  ],
  ['services.*.env_file', (e) => String((e as Obj).path)],
];

function unique(list: unknown[], path: string[]): unknown[] {
  const rule = UNIQUE.find(([pattern]) => matches(path, pattern));
  if (!rule) return list;
  const out: unknown[] = [];
  const seen = new Map<string, number>();
  for (const e of list) {
    const k = rule[1](e);
    const at = seen.get(k);
    if (at === undefined) {
      seen.set(k, out.length);
      out.push(e);
    } else out[at] = e;
  }
  return out;
}

/** Applies the unicity rules to a whole model (each file's, and the merged one). */
export function enforceUnicity(node: unknown, path: string[] = []): unknown {
  if (Array.isArray(node)) {
    return unique(
      node.map((e) => enforceUnicity(e, [...path, '[]'])),
      path,
    );
  }
  if (isObj(node)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(node)) out[k] = enforceUnicity(v, [...path, k]);
    return out;
  }
  return node;
}

/** Merges `over` into `base` following compose-spec's (and compose-go's) rules. */
export function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over === RESET) return RESET;
  if (over instanceof Override) return over.value;
  if (OVERRIDE.some((p) => matches(path, p))) return over;
  if (KEY_VALUE.some((p) => matches(path, p)) && isObj(base) && isObj(over)) return { ...base, ...over };
  if (path.length === 3 && path[0] === 'services' && path[2] === 'logging' && isObj(base) && isObj(over)) {
    // The logging block is replaced when the driver changes, merged otherwise.
    if (base.driver !== undefined && over.driver !== undefined && base.driver !== over.driver) return over;
  }
  if (over === null || over === undefined) return base;
  if (Array.isArray(base) && Array.isArray(over)) return unique([...base, ...over], path);
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
  // compose-go ExtendService: the base, everything included, merged with the service's own keys.
  const { extends: _drop, ...own } = svc;
  services[key] = mergeValue(structuredClone(base), own, ['services', key]) as Service;
}

function finishService(key: string, svc: Service, env: Record<string, string | undefined>): Service {
  const s: Service = { ...svc };
  const has = (k: string) => env[k] !== undefined;
  // compose-go Normalize: a bare `KEY` takes its value from the environment and stays null (an
  // unset variable) when there is none; a build arg without a value is dropped when unset.
  if (s.environment) {
    s.environment = Object.fromEntries(
      Object.entries(s.environment).map(([k, v]) => [k, v === null && has(k) ? (env[k] as string) : v]),
    );
  }
  if (s.build?.args) {
    const args: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(s.build.args)) {
      if (v !== null) args[k] = v;
      else if (has(k)) args[k] = env[k] as string;
    }
    s.build = { ...s.build, args };
  }
  // Project.WithServicesEnvironmentResolved: the env files' variables, then `environment` over them.
  const envFiles = (s.env_file as { path: string; required?: boolean }[] | undefined) ?? [];
  if (envFiles.length) {
    const own = s.environment ?? {};
    const fromFiles: Record<string, string> = {};
    for (const [k, v] of Object.entries(own)) if (v !== null) fromFiles[k] = v;
    // Variables in env files see the project environment, then the service's, then earlier lines.
    const lookup = (k: string) => env[k] ?? own[k] ?? undefined;
    for (const f of envFiles) {
      let text: string;
      try {
        text = readFileSync(f.path, 'utf8');
      } catch (err) {
        if (f.required === false) continue;
        throw invalidParameter(`env file ${f.path} not found`, { cause: err });
      }
      parseEnvText(text, fromFiles, lookup, f.path);
    }
    s.environment = { ...fromFiles, ...own };
  }
  delete s.env_file;
  // Project.WithServicesLabelsResolved: labels from label_file, then `labels` over them.
  const labelFiles = (s.label_file as string[] | undefined) ?? [];
  if (labelFiles.length) {
    const fromFiles: Record<string, string> = {};
    for (const f of labelFiles) parseEnvText(readText(f), fromFiles, (k) => env[k], f);
    s.labels = { ...fromFiles, ...(s.labels ?? {}) };
  }
  // label_file stays in the model: `up` hashes it (Compose discards it only for `config`).
  // Implicit dependencies (compose-go Normalize): links and `service:` namespaces restart with
  // their target, volumes_from does not.
  const deps = { ...(s.depends_on ?? {}) };
  const implicit = (name: string, restart: boolean) => {
    deps[name] ??= { condition: 'service_started', restart, required: true };
  };
  for (const l of s.links ?? [])
    implicit(String(l).split(':').length === 2 ? (String(l).split(':')[0] as string) : String(l), true);
  for (const ns of ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'] as const) {
    const ref = s[ns];
    if (typeof ref === 'string' && ref.startsWith('service:')) implicit(ref.slice('service:'.length), true);
  }
  for (const v of (s.volumes_from as string[] | undefined) ?? []) {
    if (!v.startsWith('container:')) implicit(v.split(':')[0] as string, false);
  }
  if (Object.keys(deps).length) s.depends_on = deps;
  if (!s.network_mode && !s.provider && (!s.networks || !Object.keys(s.networks).length))
    s.networks = { default: null };
  const replicas = s.scale ?? s.deploy?.replicas ?? 1;
  if (replicas > 1 && s.container_name)
    throw invalidParameter(
      `services.${key}: can't set container_name and ${s.scale === undefined ? 'deploy.replicas' : 'scale'} as container name must be unique: invalid compose project`,
    );
  if (s.scale !== undefined && s.deploy) {
    if (s.deploy.replicas !== undefined && s.deploy.replicas !== s.scale)
      throw invalidParameter(
        `services.${key}: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project`,
      );
    s.deploy = { ...s.deploy, replicas: s.scale };
  }
  if (!s.image && !s.build && !s.provider)
    throw invalidParameter(`service "${key}" has neither an image nor a build context specified`);
  return normalizeServiceValues(s, key);
}

/** compose-go Project.WithoutUnnecessaryResources: drops what no enabled service uses. */
function withoutUnusedResources(project: Project): Project {
  const used = {
    networks: new Set<string>(),
    volumes: new Set<string>(),
    secrets: new Set<string>(),
    configs: new Set<string>(),
  };
  for (const svc of Object.values(project.services)) {
    for (const k of Object.keys(svc.networks ?? {})) used.networks.add(k);
    for (const v of svc.volumes ?? []) if (v.type === 'volume' && v.source) used.volumes.add(v.source);
    for (const r of svc.secrets ?? []) used.secrets.add(r.source);
    for (const r of (svc.build as { secrets?: { source: string }[] } | undefined)?.secrets ?? [])
      used.secrets.add(r.source);
    for (const r of svc.configs ?? []) used.configs.add(r.source);
  }
  const keep = <T>(m: Record<string, T>, set: Set<string>) =>
    Object.fromEntries(Object.entries(m).filter(([k]) => set.has(k)));
  return {
    ...project,
    networks: keep(project.networks, used.networks),
    volumes: keep(project.volumes, used.volumes),
    secrets: keep(project.secrets, used.secrets),
    configs: keep(project.configs, used.configs),
  };
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
    for (const kind of ['secrets', 'configs'] as const) {
      for (const ref of (svc[kind] as { source: string }[] | undefined) ?? []) {
        if (!project[kind][ref.source])
          throw invalidParameter(
            `service "${key}" refers to undefined ${kind === 'secrets' ? 'secret' : 'config'} ${ref.source}: invalid compose project`,
          );
      }
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

/** The model as `docker compose config` prints it (YAML-ready plain object, compose-go's layout). */
export function projectToConfig(project: Project): Obj {
  return projectForYaml({
    name: project.name,
    services: Object.fromEntries(
      Object.entries(project.services).map(([k, { label_file: _l, ...svc }]) => [k, svc as Obj]),
    ),
    networks: project.networks as Record<string, Obj>,
    volumes: project.volumes as Record<string, Obj>,
    secrets: project.secrets as Record<string, Obj>,
    configs: project.configs as Record<string, Obj>,
    extensions: project.extensions,
  });
}

/**
 * `docker compose config` output: yaml.v3 with a 2-space indent, then every `$` doubled so the
 * output loads back as the same model (compose's escapeDollarSign).
 */
export function formatConfig(project: Project): string {
  const text = stringifyLikeYamlV3(projectToConfig(project));
  return text.replaceAll('$', '$$$$');
}
