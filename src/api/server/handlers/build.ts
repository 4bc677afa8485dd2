/** POST /build and POST /build/prune (moby api/server/router/build/build_routes.go), classic builder. */
import { invalidParameter, notImplemented } from '../../../common/index.ts';
import type { RegistryAuth } from '../../../engine/index.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_OK } from '../errors.ts';
import { boolValue, boolValueOr } from '../query.ts';
import { sendJson, startStream } from '../respond.ts';
import { buildHostConfig } from './build-host-config.ts';
import { registryAuth } from './image-transfer.ts';
import { streamJsonMessages } from './images.ts';

function jsonParam<T>(query: URLSearchParams, key: string, fallback: T): T {
  const raw = query.get(key);
  if (raw === null || raw === '' || raw === 'null') return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch (err) {
    throw invalidParameter(`invalid ${key} parameter: ${raw}`, { cause: err });
  }
}

/** Options of BuildKit or experimental builds: accepted when unset (0/empty), as the docker CLI sends them. */
const RESOURCE_PARAMS = ['session', 'outputs'];

/** X-Registry-Config: base64url JSON of registry → AuthConfig (registry.DecodeAuthConfigs…). */
function registryConfig(header: string | string[] | undefined): Record<string, RegistryAuth> {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return {};
  }
  const out: Record<string, RegistryAuth> = {};
  if (!parsed || typeof parsed !== 'object') return out;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    const auth = registryAuth(Buffer.from(JSON.stringify(v ?? {})).toString('base64'));
    if (auth) out[k] = auth;
  }
  return out;
}

function builds(engine: RequestContext['engine']) {
  if (!engine.builds) throw notImplemented('this daemon has no builder');
  return engine.builds;
}

export async function build({ engine, req, res, query, signal }: RequestContext): Promise<void> {
  const version = query.get('version') || '1';
  if (version === '2') {
    throw notImplemented(
      'BuildKit is not supported by berth: build with DOCKER_BUILDKIT=0 (the classic builder)',
    );
  }
  const remote = query.get('remote') || undefined;
  // moby postBuild: squash needs experimental mode; berth's builder does not squash even then.
  if (boolValue(query, 'squash')) {
    if (!engine.system.version().Experimental) {
      throw invalidParameter('squash is only supported with experimental mode');
    }
    throw notImplemented('squash is not supported by berth: build without --squash');
  }
  const cacheFrom = jsonParam<string[] | null>(query, 'cachefrom', []) ?? [];
  for (const p of RESOURCE_PARAMS) {
    const v = query.get(p);
    if (v !== null && v !== '' && v !== '0' && v !== 'false' && v !== 'null' && v !== '[]') {
      throw notImplemented(`build parameter ${p} is not supported yet`);
    }
  }
  const hostConfig = buildHostConfig(query);
  const platform = query.get('platform') || undefined;
  const target = query.get('target') || undefined;
  const networkMode = query.get('networkmode') || undefined;
  const messages = builds(engine).build(
    req,
    {
      dockerfile: query.get('dockerfile') || 'Dockerfile',
      tags: query.getAll('t').filter(Boolean),
      buildArgs: jsonParam<Record<string, string | null>>(query, 'buildargs', {}),
      ...(target !== undefined && { target }),
      noCache: boolValue(query, 'nocache'),
      labels: jsonParam<Record<string, string>>(query, 'labels', {}),
      ...(networkMode !== undefined && { networkMode }),
      ...(platform !== undefined && { platform }),
      quiet: boolValue(query, 'q'),
      ...(remote !== undefined && { remote }),
      pull: boolValue(query, 'pull'),
      hostConfig,
      cacheFrom,
      authConfigs: registryConfig(req.headers['x-registry-config']),
      rm: boolValueOr(query, 'rm', true),
      forceRm: boolValue(query, 'forcerm'),
      onStart: () => {
        if (!res.headersSent) startStream(res, 'application/json');
      },
    },
    signal,
  );
  await streamJsonMessages(res, messages, signal);
}

export async function prune({ engine, res }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await builds(engine).prune());
}
