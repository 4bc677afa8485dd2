/** The /images routes (moby api/server/router/image/image_routes.go). */
import { notImplemented } from '../../../common/index.ts';
import type { JsonMessage } from '../../types/index.ts';
import type { RequestContext } from '../context.ts';
import { isAbortError, STATUS_CREATED, STATUS_OK } from '../errors.ts';
import { boolValue, filtersValue } from '../query.ts';
import { sendEmpty, sendJson, startStream, writeChunk } from '../respond.ts';
import { versionAtLeast } from '../version.ts';
import { pull } from './image-transfer.ts';

export async function list({ engine, res, query }: RequestContext): Promise<void> {
  const filters = filtersValue(query);
  // API < 1.41 also took `?filter=<reference>`; moby folds it into the reference filter.
  const legacy = query.get('filter');
  if (legacy) filters.reference = [...(filters.reference ?? []), legacy];
  sendJson(
    res,
    STATUS_OK,
    await engine.images.list({ all: boolValue(query, 'all'), filters, digests: boolValue(query, 'digests') }),
  );
}

export async function inspect({ engine, res, params, version }: RequestContext): Promise<void> {
  const view = await engine.images.inspect(params.name!);
  // moby: Container and ContainerConfig are returned before API v1.45 only.
  if (versionAtLeast(version, '1.45')) {
    delete view.Container;
    delete view.ContainerConfig;
  }
  sendJson(res, STATUS_OK, view);
}

export async function history({ engine, res, params }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.images.history(params.name!));
}

/**
 * POST /images/create: `fromSrc=-` imports the request body as a root filesystem tar; the answer
 * is Docker's JSON progress stream. `fromImage` (pull) comes with the registry client.
 */
export async function create(ctx: RequestContext): Promise<void> {
  const { engine, req, res, query, signal } = ctx;
  const fromImage = query.get('fromImage');
  const fromSrc = query.get('fromSrc');
  if (fromImage) return pull(ctx);
  if (fromSrc !== '-') {
    throw notImplemented(
      fromSrc
        ? 'import from a URL is not implemented yet: send the tar as the body with fromSrc=-'
        : 'fromImage or fromSrc is required',
    );
  }
  const repo = query.get('repo') || undefined;
  const tag = query.get('tag') || undefined;
  const message = query.get('message') || undefined;
  const platform = query.get('platform') || undefined;
  const progress = engine.images.import(
    req,
    {
      ...(repo !== undefined && { repo }),
      ...(tag !== undefined && { tag }),
      ...(message !== undefined && { message }),
      ...(platform !== undefined && { platform }),
      changes: query.getAll('changes'),
    },
    signal,
  );
  await streamJsonMessages(res, progress, signal);
}

/**
 * Streams progress messages as JSON lines. An error before the first line is an ordinary HTTP
 * error; after it, dockerd reports it in-band as `{"errorDetail":{"message":…},"error":…}`
 * (moby streamformatter), which clients print and turn into a failed exit.
 */
export async function streamJsonMessages(
  res: import('node:http').ServerResponse,
  messages: AsyncIterable<JsonMessage>,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const message of messages) {
      if (!res.headersSent) startStream(res, 'application/json');
      await writeChunk(res, `${JSON.stringify(message)}\n`, signal);
    }
  } catch (err) {
    if (!res.headersSent) throw err;
    if (!isAbortError(err)) {
      const text = err instanceof Error ? err.message : String(err);
      await writeChunk(res, `${JSON.stringify({ errorDetail: { message: text }, error: text })}\n`, signal);
    }
  }
  if (!res.headersSent) startStream(res, 'application/json');
  res.end();
}

export async function tag({ engine, res, params, query }: RequestContext): Promise<void> {
  await engine.images.tag(params.name!, query.get('repo') ?? '', query.get('tag') || undefined);
  sendEmpty(res, STATUS_CREATED);
}

export async function remove({ engine, res, params, query }: RequestContext): Promise<void> {
  sendJson(
    res,
    STATUS_OK,
    await engine.images.remove(params.name!, {
      force: boolValue(query, 'force'),
      noPrune: boolValue(query, 'noprune'),
    }),
  );
}
