/**
 * A small regex router shaped like dockerd's gorilla/mux setup (moby api/server/server.go):
 * every route is served both bare and under `/v{version}`, and path variables may contain '/'
 * when declared `{name:.*}` (image names such as `localhost:5000/a/b:tag`). Plain `{id}`
 * matches one segment. Routes are tried in the order they were added.
 */

export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
  /** The `{version}` of a `/v{version}/…` URL, or undefined for a bare path. */
  urlVersion: string | undefined;
}

interface CompiledRoute<H> {
  method: string;
  regex: RegExp;
  names: string[];
  handler: H;
}

const VERSION_PREFIX = '(?:/v([0-9.]+))?';

export class Router<H> {
  #routes: CompiledRoute<H>[] = [];

  /** Adds a route. `pattern` uses `{name}` for one segment and `{name:.*}` / `{name:.+}` for several. */
  add(method: string, pattern: string, handler: H): this {
    const names: string[] = [];
    let source = '';
    let last = 0;
    for (const m of pattern.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)(?::(\.\*|\.\+))?\}/g)) {
      source += escapeRegex(pattern.slice(last, m.index));
      names.push(m[1]!);
      source += m[2] === undefined ? '([^/]+)' : `(${m[2]})`;
      last = m.index + m[0].length;
    }
    source += escapeRegex(pattern.slice(last));
    this.#routes.push({ method, regex: new RegExp(`^${VERSION_PREFIX}${source}$`), names, handler });
    return this;
  }

  /** The first route matching `method` and the (already decoded) `path`, or undefined. */
  match(method: string, path: string): RouteMatch<H> | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = m[i + 2] ?? '';
      });
      return { handler: route.handler, params, urlVersion: m[1] };
    }
    return undefined;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
