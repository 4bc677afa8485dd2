/** POST /containers/{id}/update, /pause, /unpause (moby container_routes.go). */
import { invalidParameter } from '../../../common/index.ts';
import type { ContainerUpdateRequest } from '../../types/index.ts';
import { checkJsonContentType, parseJson, readBody } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_NO_CONTENT, STATUS_OK } from '../errors.ts';
import { sendEmpty, sendJson } from '../respond.ts';

export async function update({ engine, req, res, params, version }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const body = parseJson((await readBody(req)).toString('utf8'));
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw invalidParameter('invalid JSON: the update body must be an object');
  }
  const result = await engine.containers.update(params.id!, (body ?? {}) as ContainerUpdateRequest, version);
  sendJson(res, STATUS_OK, { Warnings: result.Warnings });
}

export async function pause({ engine, res, params }: RequestContext): Promise<void> {
  await engine.containers.pause(params.id!);
  sendEmpty(res, STATUS_NO_CONTENT);
}

export async function unpause({ engine, res, params }: RequestContext): Promise<void> {
  await engine.containers.unpause(params.id!);
  sendEmpty(res, STATUS_NO_CONTENT);
}
