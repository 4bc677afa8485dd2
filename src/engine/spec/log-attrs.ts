/**
 * json-file's extra attributes (moby logger.Info.ExtraAttributes): `--log-opt labels=a,b`,
 * `labels-regex=`, `env=X,Y` and `env-regex=` pick container labels and environment variables;
 * each log line then carries them as `"attrs":{…}` (Go's json.Marshal of the map: keys sorted,
 * HTML characters escaped), and `logs --details` prints them before each line.
 */
import { invalidParameter } from '../../common/index.ts';
import { logTag } from './log-tag.ts';

/** The options that select attributes (`tag` adds one more, see log-tag.ts). */
export const ATTRIBUTE_OPTS = ['labels', 'labels-regex', 'env', 'env-regex'] as const;

/**
 * The attributes a container's lines carry, in moby's order of precedence: labels, then
 * labels-regex, then env, then env-regex (a later one overwrites an equal key). A listed name
 * the container lacks is skipped; an env entry without `=` is ignored.
 */
export function logAttributes(
  config: Record<string, string>,
  labels: Record<string, string>,
  env: string[],
): Record<string, string> {
  const extra: Record<string, string> = {};
  const pick = (list: string | undefined, source: Map<string, string>) => {
    if (!list) return;
    for (const name of list.split(',')) {
      const v = source.get(name);
      if (v !== undefined) extra[name] = v;
    }
  };
  const match = (pattern: string | undefined, source: Map<string, string>) => {
    if (!pattern) return;
    const re = goRegexp(pattern);
    for (const [k, v] of source) if (re.test(k)) extra[k] = v;
  };
  const labelMap = new Map(Object.entries(labels));
  const envMap = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i >= 0) envMap.set(e.slice(0, i), e.slice(i + 1));
  }
  pick(config.labels, labelMap);
  match(config['labels-regex'], labelMap);
  pick(config.env, envMap);
  match(config['env-regex'], envMap);
  return extra;
}

/**
 * A Go (RE2) pattern as a JavaScript RegExp, unanchored as Go's MatchString. A leading flag
 * group `(?i)`, `(?s)`, `(?m)` (or a combination) becomes the RegExp's flags; other RE2-only
 * syntax is whatever JavaScript makes of it. Errors read as Go's `error parsing regexp: …`.
 */
export function goRegexp(pattern: string): RegExp {
  let source = pattern;
  let flags = '';
  const m = /^\(\?([ims]+)\)/.exec(source);
  if (m) {
    flags = [...new Set(m[1])].join('');
    source = source.slice(m[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw invalidParameter(
      `error parsing regexp: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );
  }
}

/** Go's encoding/json string: HTML-safe, U+2028/U+2029 escaped, lone surrogates as U+FFFD. */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s.slice(i, i + 2);
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s.charAt(i);
  }
  return `${out}"`;
}

/** Go's json.Marshal of a map[string]string: keys in byte order. */
export function goJsonStringMap(map: Record<string, string>): string {
  const keys = Object.keys(map).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goJsonString(k)}:${goJsonString(map[k] ?? '')}`).join(',')}}`;
}

/**
 * What json-file writes as `attrs` for a container: the raw JSON object, or undefined when
 * there is nothing (moby omits the field then).
 */
export function logAttrsJson(
  config: Record<string, string>,
  labels: Record<string, string>,
  env: string[],
): string | undefined {
  const attrs = logAttributes(config, labels, env);
  return Object.keys(attrs).length ? goJsonStringMap(attrs) : undefined;
}

/**
 * The `attrs` of a container's json-file log (with `tag` when asked for), worked out when it
 * starts as dockerd does when it starts the container's logger: a bad regexp or tag template
 * fails the start, not the create.
 */
export function containerLogAttrs(
  record: {
    id: string;
    name: string;
    image: string;
    imageId: string;
    created: string;
    spec: { path: string; args: string[] };
    config: { Labels?: Record<string, string> | null; Env?: string[] | null };
    hostConfig: { LogConfig?: { Type?: string; Config?: Record<string, string> } };
  },
  logPath: string,
): string | undefined {
  const logConfig = record.hostConfig.LogConfig;
  if ((logConfig?.Type || 'json-file') !== 'json-file') return undefined;
  const config = logConfig?.Config ?? {};
  const labels = record.config.Labels ?? {};
  const env = record.config.Env ?? [];
  try {
    const attrs = logAttributes(config, labels, env);
    const tag = logTag({
      ...{ id: record.id, name: record.name, image: record.image, imageId: record.imageId },
      ...{ created: record.created, path: record.spec.path, args: record.spec.args },
      ...{ env, labels, logPath, config },
    });
    if (tag) attrs.tag = tag;
    return Object.keys(attrs).length ? goJsonStringMap(attrs) : undefined;
  } catch (err) {
    throw invalidParameter(`failed to initialize logging driver: ${(err as Error).message}`);
  }
}
