/**
 * The distribution protocol client (reference/distribution-endpoints.md): one RegistryClient per
 * registry host, speaking HTTPS (or plain HTTP for insecure registries: loopback, as Docker's
 * default insecure 127.0.0.0/8, and `--insecure-registry` hosts, after HTTPS fails, as Docker's
 * registry fallback does), answering 401 challenges with Basic credentials or Bearer tokens
 * fetched from the challenge's realm, cached per scope until they expire.
 *
 * Lifecycle: construct per operation (pull, push, login); requests share undici's pool.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { BerthError, invalidParameter, notFound, unauthorized, unavailable } from '../common/index.ts';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token (docker login's IdentityToken). */
  identityToken?: string;
  /** A bearer token to send as is. */
  registryToken?: string;
}

export interface RegistryClientOptions {
  /** `host[:port]` as in the reference (`docker.io` means Docker Hub's API host). */
  domain: string;
  credentials?: Credentials;
  /**
   * Insecure registries (dockerd --insecure-registry): `host[:port]` entries or CIDRs the
   * registry's address falls in. They may be reached over plain HTTP and their certificates are
   * not verified. Loopback always is insecure.
   */
  insecureRegistries?: string[];
  /** A fixed endpoint (a registry mirror's URL, e.g. http://10.0.0.5:5000) instead of `https://domain`. */
  endpoint?: string;
  /** Per-request timeout while waiting for headers/body data (ms). */
  timeoutMs?: number;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & {
    text(): Promise<string>;
    json(): Promise<unknown>;
    arrayBuffer(): Promise<ArrayBuffer>;
    dump?(): Promise<void>;
  };
}

type Challenge = { scheme: 'basic' } | { scheme: 'bearer'; realm: string; service?: string };

const agent = new Agent({ connections: 16, pipelining: 1, connect: { timeout: 10_000 } });
/** For insecure registries: TLS without certificate verification, as dockerd's InsecureSkipVerify. */
const insecureAgent = new Agent({
  connections: 16,
  pipelining: 1,
  connect: { timeout: 10_000, rejectUnauthorized: false },
});

/** Docker's canonical API host for docker.io. */
export function registryHost(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? 'registry-1.docker.io' : domain;
}

/** Loopback hosts are insecure registries by default (Docker: 127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.split(':')[0]!;
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Whether `domain` is an insecure registry (dockerd's isSecureIndex inverted): loopback, an
 * exact `host[:port]` entry, or an address (the literal one or the name's, looked up) inside
 * a CIDR entry.
 */
export async function isInsecureRegistry(domain: string, entries: readonly string[]): Promise<boolean> {
  if (isLoopbackHost(domain) || entries.includes(domain)) return true;
  const cidrs = entries.filter((e) => e.includes('/'));
  if (cidrs.length === 0) return false;
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.split(':')[0]!;
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const [addr = '', bits = ''] = cidr.split('/');
    const family = isIP(addr);
    if (family) blocks.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  }
  const addresses = isIP(host)
    ? [{ address: host, family: isIP(host) }]
    : await lookup(host, { all: true }).catch(() => []);
  return addresses.some((a) => blocks.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
}

/** Parses `WWW-Authenticate` (RFC 6750 §3 parameters, quoted or not). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme === 'bearer' && params.realm) {
    return { scheme: 'bearer', realm: params.realm, ...(params.service ? { service: params.service } : {}) };
  }
  return undefined;
}

/** Docker's registry error body: the first error's message, or the status text. */
async function errorText(res: RegistryResponse): Promise<string> {
  const text = await res.body.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const e = parsed.errors?.[0];
    if (e) return `${e.code ? `${e.code.toLowerCase().replace(/_/g, ' ')}: ` : ''}${e.message ?? ''}`.trim();
  } catch {}
  return text.trim().slice(0, 200) || `HTTP ${res.status}`;
}

export class RegistryClient {
  readonly domain: string;
  readonly #host: string;
  readonly #credentials: Credentials | undefined;
  readonly #insecureEntries: readonly string[];
  readonly #endpoint: string | undefined;
  #insecure = false;
  readonly #timeoutMs: number;
  #base: string | undefined;
  #challenge: Challenge | undefined;
  readonly #tokens = new Map<string, { token: string; expires: number }>();

  constructor(options: RegistryClientOptions) {
    this.domain = options.domain;
    this.#host = registryHost(options.domain);
    this.#credentials = options.credentials;
    this.#insecureEntries = options.insecureRegistries ?? [];
    this.#endpoint = options.endpoint?.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** `GET /v2/`: finds the scheme (https, else http for insecure hosts) and the auth challenge. */
  async ping(signal?: AbortSignal): Promise<void> {
    if (this.#base) return;
    const endpointHost = this.#endpoint ? new URL(this.#endpoint).host : undefined;
    this.#insecure = await isInsecureRegistry(endpointHost ?? this.domain, this.#insecureEntries);
    const candidates = this.#endpoint
      ? [this.#endpoint]
      : this.#insecure
        ? [`https://${this.#host}`, `http://${this.#host}`]
        : [`https://${this.#host}`];
    let lastErr: unknown;
    for (const base of candidates) {
      try {
        const res = await this.#raw('GET', `${base}/v2/`, {}, signal);
        await res.body.dump?.().catch(() => {});
        this.#base = base;
        if (res.status === 401) this.#challenge = parseChallenge(header(res, 'www-authenticate'));
        else if (res.status >= 400 && res.status !== 404)
          throw unavailable(`registry ${this.domain} answered /v2/ with ${res.status}`);
        return;
      } catch (err) {
        lastErr = err;
        if (err instanceof BerthError) throw err;
      }
    }
    throw unavailable(`registry ${this.domain} is unreachable: ${(lastErr as Error)?.message ?? lastErr}`, {
      cause: lastErr,
    });
  }

  /**
   * A request to `/v2/<path>` with the scope(s) it needs; answers a 401 challenge once and
   * retries. The body (when given as a function) is re-created for the retry.
   */
  async request(
    method: string,
    path: string,
    options: {
      scopes: string[];
      headers?: Record<string, string>;
      body?: () => Readable | Buffer | string;
      signal?: AbortSignal;
      /** Absolute URL (an upload Location) instead of path. */
      url?: string;
    },
  ): Promise<RegistryResponse> {
    await this.ping(options.signal);
    const url = options.url ?? `${this.#base}/v2/${path}`;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.#authorization(options.scopes, options.signal);
      const headers = { ...(options.headers ?? {}), ...(auth ? { authorization: auth } : {}) };
      const res = await this.#raw(method, url, headers, options.signal, options.body?.());
      if (res.status === 401 && attempt === 0) {
        const challenge = parseChallenge(header(res, 'www-authenticate'));
        await res.body.dump?.().catch(() => {});
        if (challenge) {
          this.#challenge = challenge;
          this.#tokens.clear();
          continue;
        }
      }
      if (res.status === 401) {
        const text = await errorText(res);
        throw unauthorized(
          `unauthorized: ${text.replace(/^unauthorized: /, '') || 'authentication required'}`,
        );
      }
      return res;
    }
  }

  /** A request that must answer one of `ok`; others become BerthErrors with the registry's text. */
  async expect(
    method: string,
    path: string,
    ok: number[],
    options: Parameters<RegistryClient['request']>[2],
  ): Promise<RegistryResponse> {
    const res = await this.request(method, path, options);
    if (ok.includes(res.status)) return res;
    const text = await errorText(res);
    if (res.status === 404) throw notFound(text);
    if (res.status === 403) throw new BerthError('Forbidden', `denied: ${text}`);
    if (res.status >= 500 || res.status === 429) throw unavailable(`${method} ${path}: ${text}`);
    throw invalidParameter(`${method} ${path}: ${text}`);
  }

  /**
   * `docker login`: GET /v2/ with the credentials (Basic, or a token fetched with them); an
   * Unauthorized error when the registry refuses them.
   */
  async login(signal?: AbortSignal): Promise<void> {
    const res = await this.request('GET', '', { scopes: [], ...(signal ? { signal } : {}) });
    await res.body.dump?.().catch(() => {});
    if (res.status !== 200) throw unavailable(`login to ${this.domain}: registry answered ${res.status}`);
  }

  /** Resolves a (possibly relative) Location header against the registry. */
  resolveLocation(location: string): string {
    return new URL(location, `${this.#base}/`).toString();
  }

  async #raw(
    method: string,
    url: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
    body?: Readable | Buffer | string,
  ): Promise<RegistryResponse> {
    const res = await request(url, {
      method: method as 'GET',
      headers: { 'user-agent': 'berth/0.1 (docker compatible)', ...headers },
      ...(body !== undefined ? { body } : {}),
      dispatcher: this.#insecure ? insecureAgent : agent,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      maxRedirections: 0,
      ...(signal ? { signal } : {}),
    } as Parameters<typeof request>[1]);
    if ((res.statusCode === 307 || res.statusCode === 302 || res.statusCode === 301) && method === 'GET') {
      // Blob storage redirects: follow without the registry's Authorization header (a Range stays).
      const loc = header({ headers: res.headers } as RegistryResponse, 'location');
      await res.body.dump().catch(() => {});
      const { authorization: _, ...rest } = headers;
      if (loc) return this.#raw(method, new URL(loc, url).toString(), rest, signal);
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body as unknown as RegistryResponse['body'],
    };
  }

  async #authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const c = this.#challenge;
    const cred = this.#credentials;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      if (!cred?.username) return undefined;
      return `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
    }
    if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
    const key = scopes.join(' ');
    const cached = this.#tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.#fetchToken(c, scopes, signal);
    return `Bearer ${token}`;
  }

  /** The token endpoint, GET form (token.md), with Basic credentials when we have them. */
  async #fetchToken(c: { realm: string; service?: string }, scopes: string[], signal?: AbortSignal) {
    const url = new URL(c.realm);
    if (c.service) url.searchParams.set('service', c.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    url.searchParams.set('client_id', 'docker');
    const cred = this.#credentials;
    const headers: Record<string, string> = {};
    if (cred?.username) {
      headers.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
    }
    const res = await this.#raw('GET', url.toString(), headers, signal);
    if (res.status === 401 || res.status === 403) {
      await res.body.dump?.().catch(() => {});
      throw unauthorized('unauthorized: incorrect username or password');
    }
    if (res.status !== 200)
      throw unavailable(`token server ${url.origin} answered ${res.status}: ${await errorText(res)}`);
    const body = (await res.body.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw unavailable(`token server ${url.origin} sent no token`);
    const ttl = Math.max(60, body.expires_in ?? 60) * 1000;
    this.#tokens.set(scopes.join(' '), { token, expires: Date.now() + ttl - 5_000 });
    return token;
  }
}

export function header(res: Pick<RegistryResponse, 'headers'>, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
