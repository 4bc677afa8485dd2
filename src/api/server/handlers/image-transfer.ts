/**
 * The image transfer routes (moby api/server/router/image/image_routes.go and
 * router/container/container_routes.go postCommit): save, load, commit, pull, push and
 * /auth. Pull and push read the registry credentials from `X-Registry-Auth` (base64url JSON of
 * Docker's AuthConfig), and answer with Docker's JSON progress stream.
 */
import { pipeline } from 'node:stream/promises';
import { invalidParameter } from '../../../common/index.ts';
import type { RegistryAuth } from '../../../engine/index.ts';
import { checkJsonContentType, parseJson, readBody } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_CREATED, STATUS_OK } from '../errors.ts';
import { boolValue, boolValueOr, filtersValue, intValue } from '../query.ts';
import { sendJson, startStream } from '../respond.ts';
import { streamJsonMessages } from './images.ts';

/** GET /images/get?names=a&names=b */
export async function saveMany({ engine, res, query, signal }: RequestContext): Promise<void> {
  await sendTar(res, await engine.images.save(query.getAll('names'), signal), signal);
}

/** GET /images/{name}/get */
export async function saveOne({ engine, res, params, signal }: RequestContext): Promise<void> {
  await sendTar(res, await engine.images.save([params.name!], signal), signal);
}

async function sendTar(
  res: import('node:http').ServerResponse,
  tar: import('node:stream').Readable,
  signal: AbortSignal,
): Promise<void> {
  startStream(res, 'application/x-tar');
  try {
    await pipeline(tar, res, { signal });
  } catch (err) {
    // The 200 is out: all that is left is to cut the stream so the client sees it truncated.
    res.destroy(err as Error);
  }
}

/** POST /images/load?quiet=1 */
export async function load({ engine, req, res, query, signal }: RequestContext): Promise<void> {
  const progress = engine.images.load(req, { quiet: boolValue(query, 'quiet') }, signal);
  await streamJsonMessages(res, progress, signal);
}

/** POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= */
export async function commit({ engine, req, res, query, signal }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const body = parseJson((await readBody(req)).toString('utf8'));
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
    throw invalidParameter('invalid JSON: the commit body must be a container config object');
  }
  const container = query.get('container') ?? '';
  if (!container) throw invalidParameter('No container specified');
  const result = await engine.images.commit(
    container,
    {
      ...(query.get('repo') ? { repo: query.get('repo')! } : {}),
      ...(query.get('tag') ? { tag: query.get('tag')! } : {}),
      ...(query.get('comment') ? { comment: query.get('comment')! } : {}),
      ...(query.get('author') ? { author: query.get('author')! } : {}),
      // API: pause defaults to true.
      pause: boolValueOr(query, 'pause', true),
      changes: query.getAll('changes'),
      ...(body ? { config: body as Record<string, unknown> } : {}),
    },
    signal,
  );
  sendJson(res, STATUS_CREATED, result);
}

/** Docker's X-Registry-Auth header: base64url (or std base64) JSON of an AuthConfig; may be empty. */
export function registryAuth(header: string | string[] | undefined): RegistryAuth | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    // registry.DecodeAuthConfig: an undecodable header is treated as no credentials.
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const a = parsed as Record<string, unknown>;
  const str = (k: string) => (typeof a[k] === 'string' && a[k] !== '' ? (a[k] as string) : undefined);
  const auth: RegistryAuth = {
    ...(str('username') ? { username: str('username')! } : {}),
    ...(str('password') ? { password: str('password')! } : {}),
    ...(str('serveraddress') ? { serverAddress: str('serveraddress')! } : {}),
    ...(str('identitytoken') ? { identityToken: str('identitytoken')! } : {}),
    ...(str('registrytoken') ? { registryToken: str('registrytoken')! } : {}),
  };
  if (str('auth') && !auth.username) {
    const [u, ...p] = Buffer.from(str('auth')!, 'base64').toString('utf8').split(':');
    if (u) auth.username = u;
    if (p.length) auth.password = p.join(':');
  }
  return Object.keys(auth).length ? auth : undefined;
}

/** POST /images/create?fromImage=…&tag=…&platform=… (the import form lives in images.ts). */
export async function pull(ctx: RequestContext): Promise<void> {
  const { engine, req, res, query, signal } = ctx;
  const progress = engine.images.pull(
    {
      fromImage: query.get('fromImage') ?? '',
      ...(query.get('tag') ? { tag: query.get('tag')! } : {}),
      ...(query.get('platform') ? { platform: query.get('platform')! } : {}),
    },
    registryAuth(req.headers['x-registry-auth']),
    signal,
  );
  await streamJsonMessages(res, progress, signal);
}

/** POST /images/{name}/push?tag= */
export async function push({ engine, req, res, params, query, signal }: RequestContext): Promise<void> {
  const progress = engine.images.push(
    params.name!,
    { ...(query.get('tag') ? { tag: query.get('tag')! } : {}) },
    registryAuth(req.headers['x-registry-auth']),
    signal,
  );
  await streamJsonMessages(res, progress, signal);
}

/** GET /images/search?term=&limit=&filters= (docker search). */
export async function search({ engine, req, res, query, signal }: RequestContext): Promise<void> {
  const limit = intValue(query, 'limit');
  const results = await engine.images.search(
    {
      term: query.get('term') ?? '',
      ...(limit !== undefined ? { limit } : {}),
      filters: filtersValue(query),
    },
    registryAuth(req.headers['x-registry-auth']),
    signal,
  );
  sendJson(res, STATUS_OK, results);
}

/** POST /auth: checks credentials against the registry (docker login). */
export async function auth({ engine, req, res, signal }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const body = parseJson((await readBody(req)).toString('utf8')) as Record<string, unknown> | undefined;
  const config = registryAuth(Buffer.from(JSON.stringify(body ?? {})).toString('base64')) ?? {};
  sendJson(res, STATUS_OK, await engine.images.login(config, signal));
}
