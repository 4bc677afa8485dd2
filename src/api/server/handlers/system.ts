/** GET|HEAD /_ping, GET /version, GET /info, GET /events (moby api/server/router/system). */
import type { RequestContext } from '../context.ts';
import { isAbortError } from '../errors.ts';
import { filtersValue, timestampValue } from '../query.ts';
import { sendJson, startStream, writeChunk } from '../respond.ts';

/**
 * The classic builder. The docker CLI reads this header from /_ping to pick a builder; BuildKit
 * ("2") would make it open a gRPC session we do not serve.
 */
const BUILDER_VERSION = '1';

function pingHeaders(): Record<string, string> {
  return {
    'Builder-Version': BUILDER_VERSION,
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
  };
}

export async function ping({ res }: RequestContext): Promise<void> {
  res.writeHead(200, { ...pingHeaders(), 'Content-Length': 2 });
  res.end('OK');
}

export async function pingHead({ res }: RequestContext): Promise<void> {
  res.writeHead(200, { ...pingHeaders(), 'Content-Length': 0 });
  res.end();
}

export async function version({ engine, res }: RequestContext): Promise<void> {
  sendJson(res, 200, engine.system.version());
}

export async function info({ engine, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.system.info());
}

/** One JSON object per line from `since` until `until` or the client goes away. */
export async function events({ engine, res, query, signal }: RequestContext): Promise<void> {
  const since = timestampValue(query, 'since');
  const until = timestampValue(query, 'until');
  const filters = filtersValue(query);
  const stream = engine.events.subscribe({ since, until, filters }, signal);
  startStream(res, 'application/json');
  try {
    for await (const event of stream) await writeChunk(res, `${JSON.stringify(event)}\n`, signal);
  } catch (err) {
    if (!isAbortError(err)) throw err;
  }
  res.end();
}
