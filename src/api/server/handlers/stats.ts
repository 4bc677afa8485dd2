/** GET /containers/{id}/stats (moby container_routes.go getContainersStats). */
import { notImplemented } from '../../../common/index.ts';
import type { RequestContext } from '../context.ts';
import { boolValueOr } from '../query.ts';
import { startStream, writeChunk } from '../respond.ts';
import { versionAtLeast } from '../version.ts';

export async function stats({ engine, res, params, query, version, signal }: RequestContext): Promise<void> {
  if (!engine.stats) throw notImplemented('container stats are not available in this engine');
  const stream = boolValueOr(query, 'stream', true);
  // `one-shot` exists from API 1.41; older requests never get it.
  const oneShot = versionAtLeast(version, '1.41') && boolValueOr(query, 'one-shot', false);
  const frames = engine.stats.open(params.id!, { stream, oneShot }, signal);
  startStream(res, 'application/json');
  try {
    for await (const frame of frames) await writeChunk(res, `${statsJson(frame)}\n`, signal);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  res.end();
}

const BIG = '\u0001big:';

/**
 * JSON.stringify, but integers beyond 2^53 (cgroup limits such as 9223372036854771712, Go's
 * MaxUint64 as a bigint) are written with every digit, as Go's encoder writes a uint64.
 */
export function statsJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${BIG}${v.toString()}`;
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
      return `${BIG}${BigInt(v).toString()}`;
    }
    return v;
  });
  return text.replace(/"\\u0001big:(-?\d+)"/g, '$1');
}
