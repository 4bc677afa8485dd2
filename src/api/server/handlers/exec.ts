/** The exec routes (moby api/server/router/container/exec.go). */
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../detach-keys.ts';
import type { ExecCreateRequest, ExecStartRequest } from '../../types/index.ts';
import { checkJsonContentType, checkShape, parseJson, readBody } from '../body.ts';
import type { HijackContext, RequestContext } from '../context.ts';
import { STATUS_CREATED, STATUS_OK } from '../errors.ts';
import {
  readHijackBody,
  runSession,
  streamSessionOutput,
  writeRawHead,
  writeUpgradeHead,
} from '../hijack.ts';
import { sendEmpty, sendJson } from '../respond.ts';
import { execCreateShape, execStartShape } from '../shapes.ts';
import { sizeOf, streamContentType } from './containers.ts';

export async function create({ engine, req, res, params }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const body = (checkShape(parseJson((await readBody(req)).toString('utf8')), execCreateShape) ??
    {}) as ExecCreateRequest;
  sendJson(res, STATUS_CREATED, await engine.execs.create(params.id!, body));
}

function startBody(raw: Buffer): ExecStartRequest {
  return (checkShape(parseJson(raw.toString('utf8')), execStartShape) ?? {}) as ExecStartRequest;
}

/** Without an upgrade: a detached start answers 200 at once, otherwise the output is the body. */
export async function start({ engine, req, res, params, version }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const body = startBody(await readBody(req));
  const session = await engine.execs.start(params.id!, body);
  if (session === undefined) {
    sendEmpty(res, STATUS_OK);
    return;
  }
  await streamSessionOutput(res, session, streamContentType(version, !session.tty));
}

/**
 * The hijacked start the docker CLI, dockerode and docker-py use. The body (`{"Detach":false,
 * "Tty":…}`) arrives inside the upgrade request; errors before the stream starts are answered
 * as ordinary HTTP errors on the raw socket, which clients read as such.
 */
export async function startHijacked(ctx: HijackContext): Promise<void> {
  const { engine, socket, head, req, params, version, commonHeaders, log } = ctx;
  // A throw before the head is written is answered by the server as an ordinary HTTP error.
  const { body, rest } = await readHijackBody(socket, head, req.headers, true);
  const detachKeys = (await engine.execs.inspect(params.id!)).DetachKeys || undefined;
  parseDetachKeys(detachKeys || DEFAULT_DETACH_KEYS);
  const session = await engine.execs.start(params.id!, startBody(body));
  if (session === undefined) {
    writeRawHead(socket, STATUS_OK, { ...commonHeaders, 'Content-Length': 0, Connection: 'close' });
    socket.end(() => socket.destroy());
    return;
  }
  const untrack = ctx.track(session);
  try {
    writeUpgradeHead(socket, streamContentType(version, !session.tty), commonHeaders);
    await runSession(socket, session, rest, log, detachKeys);
  } finally {
    untrack();
  }
}

export async function inspect({ engine, res, params }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.execs.inspect(params.id!));
}

export async function resize({ engine, res, params, query }: RequestContext): Promise<void> {
  const { height, width } = sizeOf(query);
  await engine.execs.resize(params.id!, height, width);
  sendEmpty(res, STATUS_OK);
}
