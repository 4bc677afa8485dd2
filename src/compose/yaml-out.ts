/**
 * YAML text as gopkg.in/yaml.v3 writes it (what `docker compose config` prints): 2-space indent,
 * sequences indented under their key, no line wrapping, and each string in the style yaml.v3
 * picks: double-quoted when it would read back as another type (null, bool, number, timestamp,
 * YAML 1.1 booleans such as "yes", sexagesimal numbers such as "1:20"), a literal block when it
 * has line breaks, plain when libyaml's scalar analysis allows it, single-quoted otherwise
 * (leading or trailing spaces, indicators such as "- x", "*a", "a: b"), double-quoted when it has
 * characters single quotes cannot carry (tabs and other control characters).
 */
import { Document, isScalar, type Scalar, visit } from 'yaml';

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const BOOLS = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
const OLD_BOOLS = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'on',
  'On',
  'ON',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'off',
  'Off',
  'OFF',
]);
const SPECIAL_FLOATS = /^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/;
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const GO_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[-+]\d{2}:\d{2})?)?$/;

/** Whether yaml.v3 would read the plain scalar back as something other than a string. */
function resolvesToOther(s: string): boolean {
  if (NULLS.has(s) || BOOLS.has(s) || SPECIAL_FLOATS.test(s)) return true;
  const plain = s.replaceAll('_', '');
  if (/^[-+0-9.]/.test(s) && (GO_INT.test(plain) || YAML_FLOAT.test(plain) || TIMESTAMP.test(s))) return true;
  return false;
}

const isBlank = (c: string | undefined) =>
  c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';

function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0) as number;
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    cp === 0x85 ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

type Style = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE' | 'BLOCK_LITERAL';

/** libyaml's yaml_emitter_analyze_scalar + select_scalar_style, for block context. */
export function yamlV3Style(s: string): Style {
  if (s.includes('\n')) return 'BLOCK_LITERAL';
  if (resolvesToOther(s) || BASE60.test(s) || OLD_BOOLS.has(s)) return 'QUOTE_DOUBLE';
  const chars = [...s];
  let blockIndicators = s.startsWith('---') || s.startsWith('...');
  let special = false;
  let precededByWhitespace = true;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const followedByWhitespace = isBlank(chars[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      if ((c === '?' || c === ':') && followedByWhitespace) blockIndicators = true;
      if (c === '-' && followedByWhitespace) blockIndicators = true;
    } else {
      if (c === ':' && followedByWhitespace) blockIndicators = true;
      if (c === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    precededByWhitespace = isBlank(c);
  }
  if (special) return 'QUOTE_DOUBLE';
  const leadingSpace = chars[0] === ' ';
  const trailingSpace = chars.at(-1) === ' ';
  if (leadingSpace || trailingSpace || blockIndicators) return 'QUOTE_SINGLE';
  return 'PLAIN';
}

export function stringifyLikeYamlV3(value: unknown): string {
  const doc = new Document(value, { version: '1.1' });
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string')
        node.type = yamlV3Style(node.value) as Scalar.Type;
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: true, blockQuote: 'literal' });
}
