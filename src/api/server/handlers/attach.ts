/**
 * POST /containers/{id}/attach (moby postContainersAttach). With `Connection: Upgrade` the
 * connection is hijacked: `101 UPGRADED`, then output and stdin flow raw. Without it the output
 * is streamed as an ordinary 200 body.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HijackContext, RequestContext } from '../context.ts';
import { readHijackBody, runSession, streamSessionOutput, writeUpgradeHead } from '../hijack.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../detach-keys.ts';
import { boolValue } from '../query.ts';
import { streamContentType } from './containers.ts';

/**
 * With logs=1 the replayed log is there at once. docker-py reads the 101 head through a buffered
 * HTTP parser and then reads the raw socket: bytes that arrive together with the head are lost.
 * dockerd reads the log file only after writing the head, which leaves the client time to read
 * it; berth waits this long before the first byte of the log.
 */
const LOG_REPLAY_GRACE_MS = 50;

function attachOptions(query: URLSearchParams) {
  const detachKeys = query.get('detachKeys') || undefined;
  return {
    stream: boolValue(query, 'stream'),
    logs: boolValue(query, 'logs'),
    stdin: boolValue(query, 'stdin'),
    stdout: boolValue(query, 'stdout'),
    stderr: boolValue(query, 'stderr'),
    ...(detachKeys !== undefined && { detachKeys }),
  };
}

export async function attach({ engine, res, params, query, version }: RequestContext): Promise<void> {
  const session = await engine.containers.attach(params.id!, attachOptions(query));
  await streamSessionOutput(res, session, streamContentType(version, !session.tty));
}

export async function attachHijacked(ctx: HijackContext): Promise<void> {
  const { engine, socket, head, req, params, query, version, commonHeaders, log } = ctx;
  // A throw before the head is written is answered by the server as an ordinary HTTP error.
  const { rest } = await readHijackBody(socket, head, req.headers, false);
  parseDetachKeys(query.get('detachKeys') || DEFAULT_DETACH_KEYS);
  const options = attachOptions(query);
  const session = await engine.containers.attach(params.id!, options);
  const untrack = ctx.track(session);
  try {
    writeUpgradeHead(socket, streamContentType(version, !session.tty), commonHeaders);
    if (options.logs) await sleep(LOG_REPLAY_GRACE_MS);
    await runSession(socket, session, rest, log, query.get('detachKeys') || undefined);
  } finally {
    untrack();
  }
}
