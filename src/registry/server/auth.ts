/**
 * Access control for berth's registry server: htpasswd Basic auth, as distribution's htpasswd
 * access controller (bcrypt entries only, `user:$2y$…` lines; Debian's `htpasswd -B` makes them).
 * An authenticated user may do everything; anonymous requests get a 401 with a Basic challenge.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
import { invalidParameter } from '../../common/index.ts';

export type AccessDecision =
  | { allowed: true; user?: string }
  | { allowed: false; challenge: string; detail?: unknown };

export interface Authenticator {
  /** A token endpoint the registry serves on its own listener (token auth), if any. */
  issue?(req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }>;
  authorize(
    req: IncomingMessage,
    access: { type: string; name: string; actions: string[] } | undefined,
  ): Promise<AccessDecision>;
}

/** Parses an htpasswd file; only bcrypt hashes are accepted (as distribution). */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at <= 0) throw invalidParameter(`htpasswd line ${i + 1}: expected user:hash`);
    const hash = line.slice(at + 1);
    if (!/^\$2[abxy]?\$\d\d\$/.test(hash))
      throw invalidParameter(`htpasswd line ${i + 1}: only bcrypt hashes are supported`);
    users.set(line.slice(0, at), hash);
  }
  return users;
}

export class HtpasswdAuthenticator implements Authenticator {
  readonly #users: Map<string, string>;
  readonly #realm: string;
  /** Verified `user:password` pairs: bcrypt is deliberately slow, and clients send Basic on every request. */
  readonly #verified = new Map<string, string>();

  constructor(users: Map<string, string>, realm = 'berth-registry') {
    this.#users = users;
    this.#realm = realm;
  }

  static async fromFile(path: string, realm?: string): Promise<HtpasswdAuthenticator> {
    return new HtpasswdAuthenticator(parseHtpasswd(await readFile(path, 'utf8')), realm);
  }

  async authorize(req: IncomingMessage): Promise<AccessDecision> {
    const challenge = `Basic realm="${this.#realm}"`;
    const h = req.headers.authorization ?? '';
    const m = /^Basic\s+(\S+)$/i.exec(h);
    if (!m) return { allowed: false, challenge };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    if (at < 0) return { allowed: false, challenge };
    const user = decoded.slice(0, at);
    const password = decoded.slice(at + 1);
    const hash = this.#users.get(user);
    if (!hash) return { allowed: false, challenge };
    if (this.#verified.get(decoded) === hash) return { allowed: true, user };
    if (!(await bcrypt.compare(password, hash))) return { allowed: false, challenge };
    this.#verified.set(decoded, hash);
    return { allowed: true, user };
  }
}

type Access = { type: string; name: string; actions: string[] };

/** Parses `type:name:actions` (token.md scope grammar: the name may contain ':'). */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first).replace(/\(.*\)$/, ''),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/**
 * Docker's token authentication (distribution docs spec/auth/token.md) served by the registry
 * itself: `GET /token?service=…&scope=…` checks Basic credentials against the htpasswd users and
 * issues an ES256 JWT granting the asked scopes (authenticated users get every action;
 * anonymous callers get nothing), and registry requests must carry `Bearer <token>` whose
 * `access` claim covers what they need, or get a 401 Bearer challenge naming realm, service
 * and scope.
 */
export class TokenAuthenticator implements Authenticator {
  readonly #users: HtpasswdAuthenticator;
  readonly #service: string;
  readonly #keys: Promise<{ privateKey: KeyLike; publicKey: KeyLike }>;
  readonly #ttlSeconds: number;

  constructor(users: HtpasswdAuthenticator, options: { service?: string; ttlSeconds?: number } = {}) {
    this.#users = users;
    this.#service = options.service ?? 'berth-registry';
    this.#ttlSeconds = options.ttlSeconds ?? 300;
    this.#keys = generateKeyPair('ES256') as Promise<{ privateKey: KeyLike; publicKey: KeyLike }>;
  }

  /** The token endpoint's path on the registry's own listener. */
  static readonly PATH = '/token';

  #realm(req: IncomingMessage): string {
    const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    return `${proto}://${req.headers.host ?? 'localhost'}${TokenAuthenticator.PATH}`;
  }

  /** Serves GET /token; answers 401 for wrong credentials (not for anonymous callers). */
  async issue(req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }> {
    let user: string | undefined;
    if (req.headers.authorization) {
      const r = await this.#users.authorize(req);
      if (!r.allowed)
        return { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] } };
      user = r.user;
    }
    const access = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .map(parseScope)
      .filter((a): a is Access => a !== undefined)
      .map((a) => ({ ...a, actions: user ? a.actions : [] }));
    const { privateKey } = await this.#keys;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'berth' })
      .setIssuer('berth-registry')
      .setSubject(user ?? '')
      .setAudience(url.searchParams.get('service') ?? this.#service)
      .setIssuedAt(now)
      .setNotBefore(now - 1)
      .setExpirationTime(now + this.#ttlSeconds)
      .setJti(randomBytes(12).toString('hex'))
      .sign(privateKey);
    return {
      status: 200,
      body: {
        token,
        access_token: token,
        expires_in: this.#ttlSeconds,
        issued_at: new Date(now * 1000).toISOString(),
      },
    };
  }

  async authorize(req: IncomingMessage, need: Access | undefined): Promise<AccessDecision> {
    const scope = need ? ` scope="${need.type}:${need.name}:${need.actions.join(',')}"` : '';
    const challenge = `Bearer realm="${this.#realm(req)}",service="${this.#service}"${scope ? `,${scope.trim()}` : ''}`;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return { allowed: false, challenge };
    try {
      const { publicKey } = await this.#keys;
      const { payload } = await jwtVerify(m[1]!, publicKey, {
        audience: this.#service,
        issuer: 'berth-registry',
      });
      if (!need) return { allowed: true, user: String(payload.sub ?? '') };
      const granted = (payload.access as Access[] | undefined) ?? [];
      const ok = need.actions.every((want) =>
        granted.some(
          (g) =>
            g.type === need.type &&
            g.name === need.name &&
            (g.actions.includes(want) || g.actions.includes('*')),
        ),
      );
      return ok
        ? { allowed: true, user: String(payload.sub ?? '') }
        : { allowed: false, challenge, detail: [need] };
    } catch {
      return { allowed: false, challenge };
    }
  }
}
