/**
 * `docker search` (moby registry/search.go, search_endpoint_v1.go, search_session.go): the term
 * names an index (`host[:port]/rest`, or Docker Hub when the first part is no host name), the
 * index is asked over the v1 search API (`GET /v1/search?q=<rest>&n=<limit>`), and the results
 * are filtered by `is-official`, `is-automated` and `stars` as dockerd does. Docker Hub is
 * asked at https://index.docker.io/v1/ without a ping; another index is pinged at `/v1/_ping`
 * over HTTPS, then over HTTP when it is an insecure registry (loopback, --insecure-registry).
 */
import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { BerthError, invalidParameter } from '../common/index.ts';
import { type Credentials, isInsecureRegistry } from './client.ts';

export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  /** Deprecated by Docker: always false in results. */
  is_automated: boolean;
  description: string;
}

export interface SearchOptions {
  limit?: number;
  /** The API's filters (`{"is-official":["true"],"stars":["3"]}`). */
  filters?: Record<string, string[]>;
  credentials?: Credentials;
  insecureRegistries?: string[];
  signal?: AbortSignal;
  /** Per-request timeout (ms); default 15 s, so an unreachable index fails quickly. */
  timeoutMs?: number;
}

const HUB_INDEX = 'https://index.docker.io/v1/';
const DEFAULT_LIMIT = 25;
const FILTERS = new Set(['is-automated', 'is-official', 'stars']);

const agent = new Agent({ connect: { timeout: 10_000 } });
const insecureAgent = new Agent({ connect: { timeout: 10_000, rejectUnauthorized: false } });

/** registry.splitReposSearchTerm: `[index/]remote`; the index is Docker Hub's unless named. */
export function splitSearchTerm(term: string): { index: string; remote: string } {
  const slash = term.indexOf('/');
  const first = slash < 0 ? term : term.slice(0, slash);
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost'))
    return { index: 'docker.io', remote: term };
  return { index: first, remote: term.slice(slash + 1) };
}

/** filters.Args.GetBoolOrDefault: one truthy or falsy value. */
function boolFilter(filters: Record<string, string[]>, key: string): boolean | undefined {
  const values = filters[key];
  if (!values || values.length === 0) return undefined;
  const t = values.some((v) => ['1', 'true', 'True', 'TRUE'].includes(v));
  const f = values.some((v) => ['0', 'false', 'False', 'FALSE'].includes(v));
  // filters' invalidFilter prints the values as Go prints a []string.
  if (values.length > 1 || t === f) throw invalidParameter(`invalid filter '${key}=[${values.join(' ')}]'`);
  return t;
}

/** Validates the filters and returns the result predicate (moby's Service.Search). */
export function searchFilter(filters: Record<string, string[]>): {
  none: boolean;
  keep: (r: SearchResult) => boolean;
} {
  for (const key of Object.keys(filters))
    if (!FILTERS.has(key)) throw invalidParameter(`invalid filter '${key}'`);
  // is-automated is deprecated: asking for automated builds finds none.
  if (boolFilter(filters, 'is-automated')) return { none: true, keep: () => false };
  const official = boolFilter(filters, 'is-official');
  let stars = 0;
  for (const v of filters.stars ?? []) {
    if (!/^[+-]?\d+$/.test(v))
      throw invalidParameter(`invalid filter 'stars=${v}': strconv.Atoi: parsing "${v}": invalid syntax`);
    stars = Math.max(stars, Number(v));
  }
  return {
    none: false,
    keep: (r) =>
      (official === undefined || r.is_official === official) && (!filters.stars || r.star_count >= stars),
  };
}

/** Go's net/http error text for a failed request: `Get "<url>": <cause>`. */
function requestError(url: string, err: unknown): BerthError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const c = e.cause ?? e;
  const host = new URL(url).hostname;
  let why = c.message ?? String(err);
  if (c.code === 'ENOTFOUND' || c.code === 'EAI_AGAIN') {
    const server = getServers()[0];
    const on = server ? ` on ${isIP(server) === 6 ? `[${server}]` : server}:53` : '';
    why = `dial tcp: lookup ${host}${on}: no such host`;
  } else if (c.code === 'ECONNREFUSED') why = `dial tcp ${new URL(url).host}: connect: connection refused`;
  return new BerthError('Internal', `Get "${url}": ${why}`, { cause: err });
}

async function get(
  url: string,
  headers: Record<string, string>,
  insecure: boolean,
  options: SearchOptions,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { 'user-agent': 'berth/0.1 (docker compatible)', ...headers },
      dispatcher: insecure ? insecureAgent : agent,
      headersTimeout: options.timeoutMs ?? 15_000,
      bodyTimeout: options.timeoutMs ?? 15_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw requestError(url, err);
  }
}

/** newV1Endpoint: the index's v1 root, pinged over HTTPS, then HTTP for an insecure one. */
async function v1Endpoint(
  index: string,
  options: SearchOptions,
): Promise<{ base: string; insecure: boolean }> {
  if (index === 'docker.io') return { base: HUB_INDEX, insecure: false };
  const insecure = await isInsecureRegistry(index, options.insecureRegistries ?? []);
  const https = `https://${index}/v1/`;
  try {
    await get(`${https}_ping`, {}, insecure, options);
    return { base: https, insecure };
  } catch (err) {
    if (options.signal?.aborted) throw err;
    const why = (err as Error).message;
    if (!insecure) {
      throw invalidParameter(
        `invalid registry endpoint ${https}: ${why}. If this private registry supports only HTTP or HTTPS with an unknown CA certificate, please add \`--insecure-registry ${index}\` to the daemon's arguments. In the case of HTTPS, if you have access to the registry's CA certificate, no need for the flag; simply place the CA certificate at /etc/docker/certs.d/${index}/ca.crt`,
      );
    }
    const http = `http://${index}/v1/`;
    try {
      await get(`${http}_ping`, {}, insecure, options);
    } catch (err2) {
      if (options.signal?.aborted) throw err2;
      throw invalidParameter(
        `invalid registry endpoint "${http}". HTTPS attempt: ${why}. HTTP attempt: ${(err2 as Error).message}`,
      );
    }
    return { base: http, insecure };
  }
}

/** `GET /images/search`: the index's results for the term, filtered. */
export async function searchImages(term: string, options: SearchOptions = {}): Promise<SearchResult[]> {
  const filter = searchFilter(options.filters ?? {});
  if (filter.none) return [];
  if (/^https?:\/\//.test(term))
    throw invalidParameter(`invalid repository name: repository name (${term}) should not have a scheme`);
  const split = splitSearchTerm(term);
  const index = split.index === 'index.docker.io' ? 'docker.io' : split.index;
  if (index.startsWith('-') || index.endsWith('-'))
    throw invalidParameter(`invalid index name (${index}). Cannot begin or end with a hyphen.`);
  // Docker Hub stores official images under library/; its search knows them without it.
  const remote = index === 'docker.io' ? split.remote.replace(/^library\//, '') : split.remote;
  const endpoint = await v1Endpoint(index, options);
  const limit = options.limit || DEFAULT_LIMIT;
  if (limit < 1 || limit > 100) throw invalidParameter(`limit ${limit} is outside the range of [1, 100]`);
  const url = `${endpoint.base}search?q=${encodeURIComponent(remote)}&n=${limit}`;
  const headers: Record<string, string> = { 'x-docker-token': 'true' };
  const cred = options.credentials;
  if (cred?.username)
    headers.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
  const res = await get(url, headers, endpoint.insecure, options);
  if (res.status !== 200) throw new BerthError('Internal', `Unexpected status code ${res.status}`);
  let body: { results?: Array<Partial<SearchResult>> | null };
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch (err) {
    throw new BerthError('Internal', `error decoding registry search results: ${(err as Error).message}`);
  }
  return (body.results ?? [])
    .map((r) => ({
      star_count: Number(r.star_count ?? 0),
      is_official: r.is_official === true,
      name: String(r.name ?? ''),
      is_automated: false,
      description: String(r.description ?? ''),
    }))
    .filter(filter.keep);
}
