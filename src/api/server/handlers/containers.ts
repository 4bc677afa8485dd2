/** The /containers routes (moby api/server/router/container/container_routes.go). */
import { invalidParameter, stdcopyFrame } from '../../../common/index.ts';
import { type LogsOptions, logDetailsPrefix, rfc3339NanoFixed } from '../../../engine/index.ts';
import type { ContainerCreateRequest, ContainerWaitResponse } from '../../types/index.ts';
import { checkJsonContentType, checkShape, parseJson, readBody } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { isAbortError, STATUS_CREATED, STATUS_NO_CONTENT, STATUS_OK } from '../errors.ts';
import { boolValue, filtersValue, intValue, timestampValue } from '../query.ts';
import { sendEmpty, sendJson, startStream, whenAborted, writeChunk } from '../respond.ts';
import { containerCreateShape } from '../shapes.ts';
import { versionAtLeast } from '../version.ts';

export async function create({ engine, req, res, query, version }: RequestContext): Promise<void> {
  checkJsonContentType(req);
  const parsed = parseJson((await readBody(req)).toString('utf8'));
  if (parsed === undefined) {
    // moby runconfig loadJSON on an empty body.
    throw invalidParameter('invalid JSON: got EOF while reading request body');
  }
  const body = checkShape(parsed, containerCreateShape) as ContainerCreateRequest | null;
  if (body === null) throw invalidParameter('config cannot be empty in order to create a container');
  const name = query.get('name') ?? undefined;
  const platform = query.get('platform') || undefined;
  const created = await engine.containers.create(body, {
    name: name || undefined,
    platform,
    apiVersion: version,
  });
  sendJson(res, STATUS_CREATED, { Id: created.Id, Warnings: created.Warnings ?? [] });
}

export async function list({ engine, res, query }: RequestContext): Promise<void> {
  const limit = intValue(query, 'limit');
  const containers = await engine.containers.list({
    all: boolValue(query, 'all'),
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    size: boolValue(query, 'size'),
    filters: filtersValue(query),
  });
  sendJson(res, STATUS_OK, containers);
}

export async function inspect({ engine, res, params, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.containers.inspect(params.id!, { size: boolValue(query, 'size') }));
}

export async function start({ engine, req, res, params }: RequestContext): Promise<void> {
  // API 1.24 removed a HostConfig in the start body; dockerd refuses a non-empty one.
  const body = parseJson((await readBody(req)).toString('utf8'));
  if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
    throw invalidParameter(
      'starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24',
    );
  }
  await engine.containers.start(params.id!);
  sendEmpty(res, STATUS_NO_CONTENT);
}

export async function stop({ engine, res, params, query }: RequestContext): Promise<void> {
  await engine.containers.stop(params.id!, stopOptions(query));
  sendEmpty(res, STATUS_NO_CONTENT);
}

export async function restart({ engine, res, params, query }: RequestContext): Promise<void> {
  await engine.containers.restart(params.id!, stopOptions(query));
  sendEmpty(res, STATUS_NO_CONTENT);
}

function stopOptions(query: URLSearchParams): { timeout?: number; signal?: string } {
  const timeout = intValue(query, 't');
  const signal = query.get('signal') || undefined;
  return { ...(timeout !== undefined && { timeout }), ...(signal !== undefined && { signal }) };
}

export async function kill({ engine, res, params, query }: RequestContext): Promise<void> {
  const signal = query.get('signal') || undefined;
  await engine.containers.kill(params.id!, signal === undefined ? {} : { signal });
  sendEmpty(res, STATUS_NO_CONTENT);
}

const waitConditions = ['not-running', 'next-exit', 'removed'] as const;
type WaitCondition = (typeof waitConditions)[number];

/**
 * The 200 and its headers go out as soon as the wait is registered (so `docker run` can start the
 * container knowing the wait cannot miss the exit), the body when the condition is met.
 */
export async function wait({ engine, res, params, query, signal }: RequestContext): Promise<void> {
  const raw = query.get('condition') || 'not-running';
  if (!(waitConditions as readonly string[]).includes(raw)) {
    throw invalidParameter(`invalid condition: "${raw}"`);
  }
  const { result } = await engine.containers.wait(params.id!, { condition: raw as WaitCondition, signal });
  startStream(res, 'application/json');
  let body: ContainerWaitResponse;
  try {
    const r = await Promise.race([result, whenAborted(signal)]);
    if (r === undefined) {
      res.end();
      return;
    }
    body = { StatusCode: r.StatusCode, Error: r.Error ?? null };
  } catch (err) {
    if (isAbortError(err) || signal.aborted) {
      res.end();
      return;
    }
    // dockerd reports a failed wait inside the body: the status line is already sent.
    body = { StatusCode: -1, Error: { Message: err instanceof Error ? err.message : String(err) } };
  }
  res.end(`${JSON.stringify(body)}\n`);
}

export async function remove({ engine, res, params, query }: RequestContext): Promise<void> {
  await engine.containers.remove(params.id!, {
    force: boolValue(query, 'force'),
    volumes: boolValue(query, 'v'),
    link: boolValue(query, 'link'),
  });
  sendEmpty(res, STATUS_NO_CONTENT);
}

export async function rename({ engine, res, params, query }: RequestContext): Promise<void> {
  await engine.containers.rename(params.id!, query.get('name') ?? '');
  sendEmpty(res, STATUS_NO_CONTENT);
}

export async function top({ engine, res, params, query }: RequestContext): Promise<void> {
  sendJson(res, STATUS_OK, await engine.containers.top(params.id!, query.get('ps_args') || undefined));
}

export async function resize({ engine, res, params, query }: RequestContext): Promise<void> {
  const { height, width } = sizeOf(query);
  await engine.containers.resize(params.id!, height, width);
  sendEmpty(res, STATUS_OK);
}

/** `?h=&w=` of the two resize routes; moby rejects a missing or non-numeric value. */
export function sizeOf(query: URLSearchParams): { height: number; width: number } {
  const height = intValue(query, 'h') ?? 0;
  const width = intValue(query, 'w') ?? 0;
  if (height < 0 || width < 0) throw invalidParameter('invalid height or width: must be positive');
  return { height, width };
}

/**
 * Logs are stdcopy-framed unless the container has a TTY (then raw, as the process wrote them).
 * With `timestamps`, each line starts with its RFC 3339 time with nine fraction digits and a
 * space, like dockerd;
 * with `details`, then with its json-file attributes (`k=v,k2=v2`) and a space.
 */
export async function logs({ engine, res, params, query, signal, version }: RequestContext): Promise<void> {
  const options: LogsOptions = {
    follow: boolValue(query, 'follow'),
    stdout: boolValue(query, 'stdout'),
    stderr: boolValue(query, 'stderr'),
    since: timestampValue(query, 'since') ?? 0,
    until: timestampValue(query, 'until') ?? 0,
    timestamps: boolValue(query, 'timestamps'),
    tail: tailOf(query.get('tail')),
  };
  if (!options.stdout && !options.stderr) {
    // moby: the same words, as clients show them.
    throw invalidParameter('Bad parameters: you must choose at least one stream');
  }
  const details = boolValue(query, 'details');
  const { tty, entries } = await engine.containers.logs(params.id!, options, signal);
  startStream(res, streamContentType(version, !tty));
  try {
    for await (const entry of entries) {
      const prefix =
        (options.timestamps ? `${rfc3339NanoFixed(entry.time)} ` : '') +
        (details ? logDetailsPrefix(entry.attrs) : '');
      const line = prefix ? Buffer.concat([Buffer.from(prefix), entry.line]) : entry.line;
      await writeChunk(res, tty ? line : stdcopyFrame(entry.stream === 'stderr' ? 2 : 1, line), signal);
    }
  } catch (err) {
    if (!isAbortError(err)) throw err;
  }
  res.end();
}

/** moby: `all`, or a non-negative line count; anything else means all. */
function tailOf(raw: string | null): number | 'all' {
  if (raw === null || raw === '' || raw === 'all') return 'all';
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 'all';
}

/**
 * Docker's stream media types: API 1.42 introduced `multiplexed-stream` for stdcopy-framed
 * bodies; before it every stream said `raw-stream`.
 */
export function streamContentType(version: string, isMultiplexed: boolean): string {
  return isMultiplexed && versionAtLeast(version, '1.42')
    ? 'application/vnd.docker.multiplexed-stream'
    : 'application/vnd.docker.raw-stream';
}
