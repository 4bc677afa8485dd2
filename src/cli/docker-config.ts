/**
 * Registry credentials in Docker's client config (`$DOCKER_CONFIG/config.json`, default
 * `~/.docker/config.json`), as docker/cli's configfile and credentials packages keep them:
 * `auths[server].auth` = base64("user:password"), or a credential helper
 * (`credHelpers[server]`, else `credsStore`) run as `docker-credential-<name> get|store|erase`
 * with the server on stdin. Docker Hub's key is `https://index.docker.io/v1/`.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export interface StoredAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** registry.ConvertToHostname + Docker Hub's legacy key. */
export function serverKey(registry: string | undefined): string {
  if (!registry) return DOCKER_HUB_KEY;
  const host = registry.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io')
    return DOCKER_HUB_KEY;
  return host;
}

async function load(env: NodeJS.ProcessEnv): Promise<ConfigFile> {
  try {
    return JSON.parse(await readFile(configPath(env), 'utf8')) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

async function save(env: NodeJS.ProcessEnv, cfg: ConfigFile): Promise<void> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

function helperFor(cfg: ConfigFile, key: string): string | undefined {
  return cfg.credHelpers?.[key] ?? cfg.credsStore;
}

function runHelper(name: string, verb: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', (err) => reject(new Error(`error getting credentials - err: ${err.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(out.trim() || `docker-credential-${name} ${verb} failed`)),
    );
    child.stdin.end(input);
  });
}

/** The stored credentials for a registry, or undefined. */
export async function getAuth(
  env: NodeJS.ProcessEnv,
  registry: string | undefined,
): Promise<StoredAuth | undefined> {
  const cfg = await load(env);
  const key = serverKey(registry);
  const helper = helperFor(cfg, key);
  if (helper) {
    try {
      const r = JSON.parse(await runHelper(helper, 'get', key)) as { Username?: string; Secret?: string };
      if (r.Username && r.Secret) return { username: r.Username, password: r.Secret, serveraddress: key };
    } catch (err) {
      if (/credentials not found/i.test((err as Error).message)) return undefined;
      throw err;
    }
    return undefined;
  }
  const entry = cfg.auths?.[key];
  if (!entry?.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  return { username: decoded.slice(0, at), password: decoded.slice(at + 1), serveraddress: key };
}

export async function storeAuth(env: NodeJS.ProcessEnv, auth: StoredAuth): Promise<void> {
  const cfg = await load(env);
  const key = serverKey(auth.serveraddress);
  const helper = helperFor(cfg, key);
  cfg.auths ??= {};
  if (helper) {
    await runHelper(
      helper,
      'store',
      JSON.stringify({ ServerURL: key, Username: auth.username, Secret: auth.password }),
    );
    cfg.auths[key] = {};
  } else {
    cfg.auths[key] = { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
  }
  await save(env, cfg);
}

/** Removes the credentials; false when there were none. */
export async function eraseAuth(env: NodeJS.ProcessEnv, registry: string | undefined): Promise<boolean> {
  const cfg = await load(env);
  const key = serverKey(registry);
  const helper = helperFor(cfg, key);
  const had = !!cfg.auths?.[key];
  if (helper) await runHelper(helper, 'erase', key).catch(() => {});
  if (cfg.auths) delete cfg.auths[key];
  await save(env, cfg);
  return had || !!helper;
}

/** The X-Registry-Auth header value for the registry of an image reference's domain. */
export async function registryAuthHeader(env: NodeJS.ProcessEnv, domain: string): Promise<string> {
  const a = await getAuth(env, domain);
  return Buffer.from(JSON.stringify(a ?? {})).toString('base64url');
}
