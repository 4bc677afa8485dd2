/**
 * The .env / env_file / label_file format as compose-go's dotenv parser reads it: `KEY=VALUE` or
 * `KEY: VALUE`, optional `export `, `#` comments (inline after ` #` in unquoted values), a bare
 * `KEY` inheriting from the lookup, single quotes literal, double quotes with escapes, values
 * (unquoted or double-quoted) interpolated with `${VAR:-default}` etc., variables looked up in
 * `lookup` first and then among the ones already read.
 */
import { invalidParameter } from '../common/errors.ts';
import { interpolateString, type Lookup } from './interpolate.ts';

const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '"': '"',
  '\\': '\\',
};

function expandEscapes(s: string): string {
  return s.replace(
    /\\(?:([abcfnrtv$"\\])|0([0-7]{0,3}))/g,
    (m, c: string | undefined, oct: string | undefined) => {
      if (c === '$') return '$$';
      if (c !== undefined) return ESCAPES[c] ?? m;
      return String.fromCharCode(Number.parseInt(oct || '0', 8));
    },
  );
}

/** Parses `text` into `out` (which also serves as the already-read variables). */
export function parseEnvText(
  text: string,
  out: Record<string, string>,
  lookup: Lookup = () => undefined,
  where = 'env file',
): Record<string, string> {
  const get = (k: string) => lookup(k) ?? out[k];
  let src = text.replace(/\r\n/g, '\n');
  let line = 1;
  for (;;) {
    // Skip blank lines and comments.
    const m = /^\s*/.exec(src) as RegExpExecArray;
    line += (m[0].match(/\n/g) ?? []).length;
    src = src.slice(m[0].length);
    if (!src) break;
    if (src[0] === '#') {
      const nl = src.indexOf('\n');
      if (nl < 0) break;
      src = src.slice(nl);
      continue;
    }
    src = src.replace(/^export\s+/, '');
    const km = /^([^=:\n]*?)\s*([=:\n]|$)/.exec(src) as RegExpExecArray;
    const key = (km[1] as string).trim();
    if (!/^[\p{L}\p{N}_.\-[\]]+$/u.test(key))
      throw invalidParameter(
        `${where}: line ${line}: unexpected character in variable name ${JSON.stringify(key)}`,
      );
    src = src.slice(km[0].length);
    if (km[2] !== '=' && km[2] !== ':') {
      // A bare KEY takes its value from the environment, when set there.
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      line++;
      continue;
    }
    src = src.replace(/^[ \t]+/, '');
    const q = src[0];
    if (q === "'" || q === '"') {
      let value = '';
      let i = 1;
      let escaped = false;
      for (; i < src.length; i++) {
        const ch = src[i] as string;
        if (ch === '\n') line++;
        if (ch !== q) {
          if (!escaped && ch === '\\') {
            escaped = true;
            continue;
          }
          if (escaped) {
            escaped = false;
            value += '\\';
          }
          value += ch;
          continue;
        }
        if (escaped) {
          escaped = false;
          value += ch;
          continue;
        }
        break;
      }
      if (i >= src.length) throw invalidParameter(`${where}: line ${line}: unterminated quoted value`);
      out[key] = q === '"' ? interpolateString(expandEscapes(value), get, key) : value;
      src = src.slice(i + 1);
      // The rest of the line after the closing quote is ignored up to the newline.
      const nl = src.indexOf('\n');
      src = nl < 0 ? '' : src.slice(nl);
      continue;
    }
    const nl = src.indexOf('\n');
    let value = nl < 0 ? src : src.slice(0, nl);
    src = nl < 0 ? '' : src.slice(nl + 1);
    line++;
    const hash = value.indexOf(' #');
    if (hash >= 0) value = value.slice(0, hash);
    out[key] = interpolateString(value.trimEnd(), get, key);
  }
  return out;
}
