/**
 * The parts of Go's fmt package that templates reach: %v printing of the values
 * we meet (JSON-like JS values), Sprint, Sprintln and Sprintf.
 *
 * Values: `null`/`undefined` are Go's nil interface, booleans are bool, integral
 * numbers are int, other numbers float64, strings string, arrays []interface{},
 * plain objects map[string]interface{} (keys printed sorted, as fmt does).
 */
import { isPrintable } from './lex.ts';

/** The Go type name that fmt and error messages would show for a value. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return isGoInt(v) ? 'int' : 'float64';
    case 'bigint':
      return 'int64';
    case 'function':
      return 'func(...interface {}) (interface {}, error)';
  }
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/**
 * JSON numbers do not say whether they were ints: integral values that JS holds
 * exactly are treated as Go ints, everything else as float64 (so 1e21 prints 1e+21).
 */
export function isGoInt(v: number): boolean {
  return Number.isSafeInteger(v);
}

/** Object keys in the order fmt prints map keys (sorted). */
export function sortedKeys(o: object): string[] {
  return Object.keys(o)
    .filter((k) => (o as Record<string, unknown>)[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------
// Float formatting (strconv.FormatFloat semantics)

interface Decimal {
  /** Significant digits without leading zeros; trailing zeros trimmed. */
  d: string;
  /** Decimal point position: value = 0.d × 10^dp. */
  dp: number;
}

/** The exact decimal value of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return trimDecimal(digits, dp);
}

function trimDecimal(digits: string, dp: number): Decimal {
  let i = 0;
  while (i < digits.length && digits[i] === '0') i++;
  let j = digits.length;
  while (j > i && digits[j - 1] === '0') j--;
  if (i === j) return { d: '', dp: 0 };
  return { d: digits.slice(i, j), dp: dp - i };
}

/** The shortest digits that round-trip (what Go's 'g' with precision -1 uses). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const s = x.toExponential(); // e.g. "1.2345e+2": JS gives the shortest round-trip digits
  const [mant, e] = s.split('e') as [string, string];
  const digits = mant.replace('.', '');
  return trimDecimal(digits, Number(e) + 1);
}

/** Rounds to nd significant digits, half to even on exact ties (Go's decimal.Round). */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0) return { d: '', dp: 0 };
  if (nd >= a.d.length) return a;
  const next = a.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < a.d.length)
    up = true; // more non-zero digits follow (trailing zeros are trimmed)
  else up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimDecimal(a.d.slice(0, nd), a.dp);
  const ds = a.d.slice(0, nd).split('');
  let i = nd - 1;
  while (i >= 0 && ds[i] === '9') {
    ds[i] = '0';
    i--;
  }
  if (i < 0) return trimDecimal('1' + ds.join(''), a.dp + 1);
  ds[i] = String(Number(ds[i]) + 1);
  return trimDecimal(ds.join(''), a.dp);
}

const digitAt = (a: Decimal, i: number) => (i >= 0 && i < a.d.length ? a.d[i]! : '0');

function fmtE(a: Decimal, prec: number, e: 'e' | 'E'): string {
  let s = a.d.length === 0 ? '0' : a.d[0]!;
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(a, i);
  }
  const exp = a.d.length === 0 ? 0 : a.dp - 1;
  const ae = Math.abs(exp);
  return s + e + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' + ae : String(ae));
}

function fmtF(a: Decimal, prec: number): string {
  let s = '';
  if (a.dp > 0) {
    for (let i = 0; i < a.dp; i++) s += digitAt(a, i);
  } else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(a, a.dp + i);
  }
  return s;
}

/**
 * strconv.FormatFloat(x, fmt, prec, 64) for fmt in e, E, f, F, g, G.
 * prec -1 means the shortest representation.
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let digs: Decimal;
  if (shortest) {
    digs = shortestDecimal(ax);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (fmt === 'f' || fmt === 'F') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else {
    const exact = exactDecimal(ax);
    if (fmt === 'e' || fmt === 'E') digs = roundDecimal(exact, prec + 1);
    else if (fmt === 'f' || fmt === 'F') digs = roundDecimal(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      digs = roundDecimal(exact, prec);
    }
  }
  let body: string;
  switch (fmt) {
    case 'e':
    case 'E':
      body = fmtE(digs, prec, fmt);
      break;
    case 'f':
    case 'F':
      body = fmtF(digs, prec);
      break;
    default: {
      let eprec = prec;
      const nd = digs.d.length === 0 ? 1 : digs.d.length;
      const dp = digs.d.length === 0 ? 1 : digs.dp;
      if (eprec > nd && nd >= dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > nd) prec = nd;
        body = fmtE(digs, prec - 1, fmt === 'G' ? 'E' : 'e');
      } else {
        if (prec > dp) prec = nd;
        body = fmtF(digs, Math.max(prec - dp, 0));
      }
    }
  }
  return (neg ? '-' : '') + body;
}

// ---------------------------------------------------------------------------
// Printing

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | null;
  prec: number | null;
}

const noSpec: Spec = {
  minus: false,
  plus: false,
  sharp: false,
  space: false,
  zero: false,
  width: null,
  prec: null,
};

const runeCount = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function pad(s: string, spec: Spec, zeroOK = true): string {
  if (spec.width === null) return s;
  const n = spec.width - runeCount(s);
  if (n <= 0) return s;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && zeroOK) {
    // Zero padding goes after a sign.
    if (s[0] === '-' || s[0] === '+' || s[0] === ' ') return s[0] + '0'.repeat(n) + s.slice(1);
    return '0'.repeat(n) + s;
  }
  return ' '.repeat(n) + s;
}

function truncateRunes(s: string, n: number): string {
  let out = '';
  let i = 0;
  for (const ch of s) {
    if (i++ >= n) break;
    out += ch;
  }
  return out;
}

/** strconv.Quote (or QuoteToASCII when ascii is set). */
export function quoteGo(s: string, ascii = false): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c < 0x80 && c >= 0x20 && c !== 0x7f) out += ch;
    else if (!ascii && isPrintable(c)) out += ch;
    else out += escapeRune(c);
  }
  return out + '"';
}

function escapeRune(c: number): string {
  switch (c) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (c < 0x20 || c === 0x7f) return '\\x' + c.toString(16).padStart(2, '0');
  if (c >= 0xd800 && c <= 0xdfff) return '\\ufffd';
  if (c < 0x10000) return '\\u' + c.toString(16).padStart(4, '0');
  return '\\U' + c.toString(16).padStart(8, '0');
}

function quoteRune(c: number, ascii: boolean): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x5c) return "'\\\\'";
  if (c >= 0x20 && c < 0x7f) return `'${String.fromCodePoint(c)}'`;
  if (!ascii && isPrintable(c)) return `'${String.fromCodePoint(c)}'`;
  return `'${escapeRune(c)}'`;
}

function fmtInteger(v: number | bigint, verb: string, spec: Spec): string {
  const big = BigInt(v);
  const neg = big < 0n;
  const abs = neg ? -big : big;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'b':
      digits = abs.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
      digits = abs.toString(8);
      if (spec.sharp) prefix = '0';
      break;
    case 'O':
      digits = abs.toString(8);
      prefix = '0o';
      break;
    case 'x':
      digits = abs.toString(16);
      if (spec.sharp) prefix = '0x';
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = '0X';
      break;
    default:
      digits = abs.toString(10);
  }
  if (spec.prec !== null) {
    if (spec.prec === 0 && abs === 0n) digits = '';
    else if (digits.length < spec.prec) digits = '0'.repeat(spec.prec - digits.length) + digits;
  } else if (spec.zero && !spec.minus && spec.width !== null) {
    const sign = neg || spec.plus || spec.space ? 1 : 0;
    const want = spec.width - sign - prefix.length;
    if (digits.length < want) digits = '0'.repeat(want - digits.length) + digits;
  }
  if (prefix === '0' && digits.startsWith('0')) prefix = '';
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + prefix + digits, { ...spec, zero: false });
}

function fmtFloatVerb(x: number, verb: string, spec: Spec): string {
  let fmt = verb;
  let prec = spec.prec ?? -1;
  if (verb === 'v') fmt = 'g';
  else if ('eEfF'.includes(verb) && spec.prec === null) prec = 6;
  let s = formatFloat(x, fmt, prec);
  if (spec.plus && s[0] !== '-') s = '+' + s;
  else if (spec.space && s[0] !== '-') s = ' ' + s;
  else if (!spec.plus && s === '+Inf') s = 'Inf';
  if (spec.sharp && !s.includes('.') && /^[+ -]?\d/.test(s) && 'vgGeE'.includes(verb)) {
    const e = s.search(/[eE]/);
    s = e < 0 ? s + '.' : s.slice(0, e) + '.' + s.slice(e);
  }
  // Infinities and NaN are padded with spaces, never zeros.
  return pad(s, spec, Number.isFinite(x));
}

function fmtString(s: string, verb: string, spec: Spec): string {
  if (spec.prec !== null && verb !== 'x' && verb !== 'X') s = truncateRunes(s, spec.prec);
  switch (verb) {
    case 'v':
    case 's':
      return pad(s, spec);
    case 'q':
      if (
        spec.sharp &&
        !s.includes('`') &&
        ![...s].some((c) => c !== '\t' && !isPrintable(c.codePointAt(0)!))
      ) {
        return pad('`' + s + '`', spec);
      }
      return pad(quoteGo(s, spec.plus), spec);
    case 'x':
    case 'X': {
      let bytes = [...new TextEncoder().encode(s)];
      if (spec.prec !== null) bytes = bytes.slice(0, spec.prec);
      const parts = bytes.map((b) => {
        const h = b.toString(16).padStart(2, '0');
        return verb === 'X' ? h.toUpperCase() : h;
      });
      const pre = spec.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      const out = spec.space ? parts.map((p) => pre + p).join(' ') : pre + parts.join('');
      return pad(out, spec);
    }
  }
  return badVerb(s, verb, spec);
}

function badVerb(arg: unknown, verb: string, spec: Spec): string {
  if (arg === null || arg === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(arg)}=${printArg(arg, 'v', spec)})`;
}

/** fmt's printArg: one operand with one verb. */
function printArg(arg: unknown, verb: string, spec: Spec): string {
  if (arg === null || arg === undefined) {
    if (verb === 'T' || verb === 'v') return pad('<nil>', spec);
    return badVerb(arg, verb, spec);
  }
  if (verb === 'T') return pad(goTypeName(arg), spec);
  switch (typeof arg) {
    case 'boolean':
      if (verb === 't' || verb === 'v') return pad(arg ? 'true' : 'false', spec);
      return badVerb(arg, verb, spec);
    case 'bigint':
    case 'number': {
      const isInt = typeof arg === 'bigint' || isGoInt(arg);
      if (isInt && 'vdbBoOxXcqU'.includes(verb)) {
        const n = typeof arg === 'bigint' ? arg : arg;
        if (verb === 'c') return pad(String.fromCodePoint(Number(n)), spec);
        if (verb === 'q') return pad(quoteRune(Number(n), spec.plus), spec);
        if (verb === 'U') {
          let u = 'U+' + Number(n).toString(16).toUpperCase().padStart(4, '0');
          if (spec.sharp && isPrintable(Number(n))) u += ` '${String.fromCodePoint(Number(n))}'`;
          return pad(u, spec);
        }
        return fmtInteger(n, verb === 'v' ? 'd' : verb, spec);
      }
      // Numbers from JSON do not say whether they were floats: float verbs take integers too.
      if ('veEfFgG'.includes(verb)) return fmtFloatVerb(Number(arg), verb, spec);
      return badVerb(arg, verb, spec);
    }
    case 'string':
      return fmtString(arg, verb, spec);
    case 'function':
      return badVerb(arg, verb, spec);
  }
  // Inside composites a nil element prints as <nil> whatever the verb.
  const elem = (e: unknown) => (e === null || e === undefined ? pad('<nil>', spec) : printArg(e, verb, spec));
  if (Array.isArray(arg)) {
    return '[' + arg.map(elem).join(' ') + ']';
  }
  const o = arg as Record<string, unknown>;
  const parts = sortedKeys(o).map((k) => `${printArg(k, verb, spec)}:${elem(o[k])}`);
  return 'map[' + parts.join(' ') + ']';
}

/** fmt's %v of a single value, as text/template prints an action's result. */
export function formatValue(v: unknown): string {
  return printArg(v, 'v', noSpec);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printArg(a, 'v', noSpec);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: spaces always, newline at the end. */
export function sprintln(args: unknown[]): string {
  return args.map((a) => printArg(a, 'v', noSpec)).join(' ') + '\n';
}

/** fmt.Sprintf with Go's verbs, flags, width, precision, [n] indexes and error forms. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  const end = format.length;
  let i = 0;

  // parseArgNumber: "[n]" at format[i]; returns the 0-based index and the length consumed.
  const argNumber = (): void => {
    if (i >= end || format[i] !== '[') return;
    reordered = true;
    const close = format.indexOf(']', i + 1);
    if (close < 0) {
      goodArgNum = false;
      return;
    }
    const text = format.slice(i + 1, close);
    const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    i = close + 1;
    if (Number.isNaN(n) || n < 1 || n > args.length) {
      goodArgNum = false;
      return;
    }
    argNum = n - 1;
  };
  const intFromArg = (): { value: number | null; ok: boolean } => {
    if (argNum >= args.length) {
      argNum++;
      return { value: null, ok: false };
    }
    const a = args[argNum++];
    if (typeof a === 'number' && Number.isInteger(a) && Math.abs(a) <= 1e6) return { value: a, ok: true };
    return { value: null, ok: false };
  };

  while (i < end) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) out += format.slice(lasti, i);
    if (i >= end) break;
    i++; // skip %
    const spec: Spec = { ...noSpec };
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          spec.sharp = true;
          break;
        case '0':
          spec.zero = !spec.minus;
          break;
        case '+':
          spec.plus = true;
          break;
        case '-':
          spec.minus = true;
          spec.zero = false;
          break;
        case ' ':
          spec.space = true;
          break;
        default:
          break flags;
      }
    }
    argNumber();
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg();
      if (!w.ok) out += '%!(BADWIDTH)';
      else if (w.value !== null && w.value < 0) {
        spec.width = -w.value;
        spec.minus = true;
        spec.zero = false;
      } else spec.width = w.value;
    } else {
      const m = /^[0-9]+/.exec(format.slice(i));
      if (m) {
        spec.width = Number(m[0]);
        i += m[0].length;
      }
    }
    if (i < end && format[i] === '.') {
      i++;
      argNumber();
      if (i < end && format[i] === '*') {
        i++;
        const p = intFromArg();
        if (!p.ok || (p.value !== null && p.value < 0)) {
          spec.prec = null;
          out += '%!(BADPREC)';
        } else spec.prec = p.value;
      } else {
        const m = /^[0-9]+/.exec(format.slice(i));
        spec.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    argNumber();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    if (verb === 'w') {
      out += badVerb(arg, verb, spec);
      continue;
    }
    out += printArg(arg, verb, spec);
  }
  if (!reordered && argNum < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argNum)
        .map((a) =>
          a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${printArg(a, 'v', noSpec)}`,
        )
        .join(', ') +
      ')';
  }
  return out;
}
