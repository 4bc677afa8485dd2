/**
 * Compose variable interpolation (compose-spec "Interpolation"): `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}` (unset or empty / unset), `${VAR:?err}` / `${VAR?err}`
 * (required), `${VAR:+alt}` / `${VAR+alt}` (replacement), and `$$` for a literal `$`.
 * Defaults may themselves contain interpolation, as compose-go allows.
 */
import { invalidParameter } from '../common/errors.ts';
import { Override } from './yaml-file.ts';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolates one string; `where` names the field for error messages. */
export function interpolateString(input: string, lookup: Lookup, where = ''): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = matchingBrace(input, i + 1);
      if (end < 0) throw invalidParameter(`Invalid template: "${input}"${where ? ` in ${where}` : ''}`);
      out += expandBraced(input.slice(i + 2, end), lookup, where, input);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(input.slice(i + 1));
    if (m) {
      out += lookup(m[0]) ?? '';
      i += 1 + m[0].length;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let j = open; j < s.length; j++) {
    if (s[j] === '{') depth++;
    else if (s[j] === '}') {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function expandBraced(body: string, lookup: Lookup, where: string, whole: string): string {
  const m = NAME.exec(body);
  if (!m) throw invalidParameter(`Invalid template: "${whole}"${where ? ` in ${where}` : ''}`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') return value ?? '';
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw invalidParameter(`Invalid template: "${whole}"${where ? ` in ${where}` : ''}`);
  const arg = () => interpolateString(rest.slice(op.length), lookup, where);
  const strict = op.startsWith(':');
  const missing = strict ? value === undefined || value === '' : value === undefined;
  switch (op.at(-1)) {
    case '-':
      return missing ? arg() : (value as string);
    case '?':
      if (missing) {
        const msg = arg();
        throw invalidParameter(`required variable ${name} is missing a value${msg ? `: ${msg}` : ''}`);
      }
      return value as string;
    default:
      return missing ? '' : arg();
  }
}

type Cast = 'int' | 'float' | 'bool';

/**
 * compose-go's interpolation type casts (loader/interpolate.go): a string at one of these paths
 * becomes a number or a boolean, so `scale: ${N}` is the integer N. `*` is any key, `[]` any
 * list index.
 */
const CASTS: [string, Cast][] = [
  ...(
    [
      ['cpu_count', 'int'],
      ['cpu_percent', 'float'],
      ['cpu_period', 'int'],
      ['cpu_quota', 'int'],
      ['cpu_rt_period', 'int'],
      ['cpu_rt_runtime', 'int'],
      ['cpus', 'float'],
      ['cpu_shares', 'int'],
      ['init', 'bool'],
      ['deploy.replicas', 'int'],
      ['deploy.update_config.parallelism', 'int'],
      ['deploy.update_config.max_failure_ratio', 'float'],
      ['deploy.rollback_config.parallelism', 'int'],
      ['deploy.rollback_config.max_failure_ratio', 'float'],
      ['deploy.restart_policy.max_attempts', 'int'],
      ['deploy.placement.max_replicas_per_node', 'int'],
      ['healthcheck.retries', 'int'],
      ['healthcheck.disable', 'bool'],
      ['oom_kill_disable', 'bool'],
      ['oom_score_adj', 'int'],
      ['pids_limit', 'int'],
      ['ports.[].target', 'int'],
      ['privileged', 'bool'],
      ['read_only', 'bool'],
      ['scale', 'int'],
      ['stdin_open', 'bool'],
      ['tty', 'bool'],
      ['ulimits.*', 'int'],
      ['ulimits.*.hard', 'int'],
      ['ulimits.*.soft', 'int'],
      ['volumes.[].read_only', 'bool'],
      ['volumes.[].volume.nocopy', 'bool'],
    ] as [string, Cast][]
  ).map(([p, c]): [string, Cast] => [`services.*.${p}`, c]),
  ['networks.*.external', 'bool'],
  ['networks.*.internal', 'bool'],
  ['networks.*.attachable', 'bool'],
  ['networks.*.enable_ipv4', 'bool'],
  ['networks.*.enable_ipv6', 'bool'],
  ['volumes.*.external', 'bool'],
  ['secrets.*.external', 'bool'],
  ['configs.*.external', 'bool'],
];

function castFor(path: string[]): Cast | undefined {
  for (const [pattern, cast] of CASTS) {
    const parts = pattern.split('.');
    if (parts.length !== path.length) continue;
    if (parts.every((p, i) => p === '*' || (p === '[]' ? /^\d+$/.test(path[i] as string) : p === path[i])))
      return cast;
  }
  return undefined;
}

function castValue(value: string, cast: Cast, where: string): unknown {
  if (cast === 'bool') {
    const v = value.toLowerCase();
    if (['true', 'y', 'yes', 'on'].includes(v)) return true;
    if (['false', 'n', 'no', 'off'].includes(v)) return false;
    throw invalidParameter(`failed to cast to expected type: invalid boolean: ${value} in ${where}`);
  }
  const n = cast === 'int' ? (/^[-+]?\d+$/.test(value) ? Number(value) : Number.NaN) : Number(value);
  if (value.trim() === '' || Number.isNaN(n))
    throw invalidParameter(
      `failed to cast to expected type: invalid syntax: ${JSON.stringify(value)} in ${where}`,
    );
  return n;
}

/** Interpolates every string value (not keys) in a parsed compose document, in place order. */
export function interpolateTree(node: unknown, lookup: Lookup, path: string[] = []): unknown {
  if (typeof node === 'string') {
    const value = interpolateString(node, lookup, path.join('.'));
    const cast = castFor(path);
    return cast ? castValue(value, cast, path.join('.')) : value;
  }
  if (node instanceof Override) return new Override(interpolateTree(node.value, lookup, path));
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, lookup, [...path, String(i)]));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateTree(v, lookup, [...path, k]);
    return out;
  }
  return node;
}
