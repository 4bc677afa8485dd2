/**
 * POST /containers/{id}/attach (moby postContainersAttach). With `Connection: Upgrade` the
 * connection is hijacked: `101 UPGRADED`, then output and stdin flow raw. Without it the output
 * is streamed as an ordinary 200 body.
 */
import type { HijackContext, RequestContext } from '../context.ts';
import { readHijackBody, runSession, streamSessionOutput, writeUpgradeHead } from '../hijack.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../detach-keys.ts';
import { boolValue } from '../query.ts';
import { streamContentType } from './containers.ts';

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
  const session = await engine.containers.attach(params.id!, attachOptions(query));
  const untrack = ctx.track(session);
  try {
    writeUpgradeHead(socket, streamContentType(version, !session.tty), commonHeaders);
    await runSession(socket, session, rest, log, query.get('detachKeys') || undefined);
  } finally {
    untrack();
  }
}
