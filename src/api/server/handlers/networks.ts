/** The /networks routes (moby api/server/router/network/network_routes.go). */
import { invalidParameter } from '../../../common/index.ts';
import type {
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkDisconnectRequest,
} from '../../types/index.ts';
import { checkJsonContentType, parseJson, readBody } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_CREATED, STATUS_NO_CONTENT, STATUS_OK } from '../errors.ts';
import { filtersValue } from '../query.ts';
import { sendEmpty, sendJson } from '../respond.ts';

async function jsonBody<T>(ctx: RequestContext): Promise<T> {
  checkJsonContentType(ctx.req);
  const body = parseJson((await readBody(ctx.req)).toString('utf8'));
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidParameter('invalid JSON: got EOF while reading request body');
  }
  return body as T;
}

export async function list({ engine, res, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.networks.list({ filters: filtersValue(query) }));
}

export async function inspect({ engine, res, params }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.networks.inspect(params.id!));
}

export async function create(ctx: RequestContext): Promise<void> {
  const body = await jsonBody<NetworkCreateRequest>(ctx);
  sendJson(ctx.res, STATUS_CREATED, await ctx.engine.networks.create(body));
}

export async function remove({ engine, res, params }: RequestContext): Promise<void> {
  await engine.networks.remove(params.id!);
  sendEmpty(res, STATUS_NO_CONTENT);
}

export async function prune({ engine, res, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.networks.prune({ filters: filtersValue(query) }));
}

export async function connect(ctx: RequestContext): Promise<void> {
  const body = await jsonBody<NetworkConnectRequest>(ctx);
  if (!body.Container) throw invalidParameter('no container specified');
  await ctx.engine.networks.connect(ctx.params.id!, body);
  sendEmpty(ctx.res, STATUS_OK);
}

export async function disconnect(ctx: RequestContext): Promise<void> {
  const body = await jsonBody<NetworkDisconnectRequest>(ctx);
  if (!body.Container) throw invalidParameter('no container specified');
  await ctx.engine.networks.disconnect(ctx.params.id!, body);
  sendEmpty(ctx.res, STATUS_OK);
}
