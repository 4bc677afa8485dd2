/**
 * Container filesystem routes (moby api/server/router/container/copy.go): archive GET/PUT/HEAD,
 * changes, export. The path stat travels base64 JSON in X-Docker-Container-Path-Stat.
 */
import { pipeline } from 'node:stream/promises';
import { invalidParameter } from '../../../common/index.ts';
import type { ContainerPathStat } from '../../types/index.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_OK } from '../errors.ts';
import { boolValue } from '../query.ts';
import { sendEmpty, sendJson } from '../respond.ts';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(stat: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

function pathParam(query: URLSearchParams): string {
  const path = query.get('path');
  if (!path) throw invalidParameter('path is required');
  return path;
}

export async function head({ engine, res, params, query }: RequestContext): Promise<void> {
  const stat = await engine.containerFs.statPath(params.id!, pathParam(query));
  res.writeHead(STATUS_OK, { [STAT_HEADER]: statHeader(stat), 'Content-Length': 0 });
  res.end();
}

export async function get({ engine, res, params, query, signal }: RequestContext): Promise<void> {
  const { stat, tar, done } = await engine.containerFs.getArchive(params.id!, pathParam(query), signal);
  res.writeHead(STATUS_OK, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(tar, res);
    await done;
  } catch (err) {
    res.destroy(err as Error);
  }
}

export async function put({ engine, req, res, params, query, signal }: RequestContext): Promise<void> {
  await engine.containerFs.putArchive(
    params.id!,
    pathParam(query),
    req,
    {
      noOverwriteDirNonDir: boolValue(query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolValue(query, 'copyUIDGID'),
    },
    signal,
  );
  sendEmpty(res, STATUS_OK);
}

export async function changes({ engine, res, params }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.containerFs.changes(params.id!));
}

export async function exportContainer({ engine, res, params, signal }: RequestContext): Promise<void> {
  const { tar, done } = await engine.containerFs.export(params.id!, signal);
  res.writeHead(STATUS_OK, { 'Content-Type': 'application/x-tar' });
  try {
    await pipeline(tar, res);
    await done;
  } catch (err) {
    res.destroy(err as Error);
  }
}
