/** The /volumes routes (moby api/server/router/volume/volume_routes.go). */
import type { VolumeCreateRequest } from '../../types/index.ts';
import { type Shape, checkJsonContentType, checkShape, parseJson, readBody } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_CREATED, STATUS_NO_CONTENT, STATUS_OK } from '../errors.ts';
import { boolValue, filtersValue } from '../query.ts';
import { sendEmpty, sendJson } from '../respond.ts';
import { versionAtLeast } from '../version.ts';

const volumeCreateShape: Shape = {
  struct: 'volume.CreateOptions',
  fields: {
    Name: 'string',
    Driver: 'string',
    DriverOpts: { map: 'string' },
    Labels: { map: 'string' },
  },
};

export async function list({ engine, res, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.volumes.list(filtersValue(query)));
}

export async function create({ engine, req, res }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const parsed = parseJson((await readBody(req)).toString('utf8'));
  const body = (
    parsed === undefined ? {} : (checkShape(parsed, volumeCreateShape) ?? {})
  ) as VolumeCreateRequest;
  sendJson(res, STATUS_CREATED, await engine.volumes.create(body));
}

export async function inspect({ engine, res, params }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.volumes.inspect(params.name!));
}

export async function remove({ engine, res, params, query }: RequestContext): Promise<void> {
  await engine.volumes.remove(params.name!, { force: boolValue(query, 'force') });
  sendEmpty(res, STATUS_NO_CONTENT);
}

/** Before API 1.42 prune removed every unused volume; moby adds `all=true` for older clients. */
export async function prune({ engine, res, query, version }: RequestContext): Promise<void> {
  const filters = filtersValue(query);
  if (!versionAtLeast(version, '1.42')) filters.all = ['true'];
  sendJson(res, STATUS_OK, await engine.volumes.prune(filters));
}
