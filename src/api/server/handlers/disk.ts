/** GET /system/df, POST /containers/prune, /images/prune and /build/prune (moby system, container, image, build routers). */
import { notImplemented } from '../../../common/index.ts';
import * as build from './build.ts';
import type { RequestContext } from '../context.ts';
import { STATUS_OK } from '../errors.ts';
import { filtersValue } from '../query.ts';
import { sendJson } from '../respond.ts';

function disk(engine: RequestContext['engine']) {
  if (!engine.disk) throw notImplemented('this daemon does not report disk usage');
  return engine.disk;
}

export async function df({ engine, res, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await disk(engine).df(query.getAll('type')));
}

export async function pruneContainers({ engine, res, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await disk(engine).pruneContainers(filtersValue(query)));
}

export async function pruneImages({ engine, res, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await disk(engine).pruneImages(filtersValue(query)));
}

/**
 * The classic builder's cache records hold no bytes of their own, so `keep-storage` > 0 keeps
 * them all; `all` changes nothing (no record is ever in use once a build ends).
 */
export async function pruneBuild(ctx: RequestContext): Promise<void> {
  const { engine, res, query } = ctx;
  if (!engine.disk) return build.prune(ctx);
  const keep = Number(query.get('keep-storage') ?? query.get('reserved-space') ?? 0);
  if (keep > 0) {
    sendJson(res, STATUS_OK, { CachesDeleted: null, SpaceReclaimed: 0 });
    return;
  }
  sendJson(res, STATUS_OK, await disk(engine).pruneBuildCache(filtersValue(query)));
}
