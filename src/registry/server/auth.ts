/**
 * Access control for berth's registry server: htpasswd Basic auth, as distribution's htpasswd
 * access controller (bcrypt entries only, `user:$2y$…` lines; Debian's `htpasswd -B` makes them).
 * An authenticated user may do everything; anonymous requests get a 401 with a Basic challenge.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import bcrypt from 'bcryptjs';
import { invalidParameter } from '../../common/index.ts';

export type AccessDecision =
  | { allowed: true; user?: string }
  | { allowed: false; challenge: string; detail?: unknown };

export interface Authenticator {
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
