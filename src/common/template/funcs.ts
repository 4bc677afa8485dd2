/**
 * Template functions: Go's builtins (text/template/funcs.go) and Docker's extras
 * (docker/cli templates/templates.go), each with the Go parameter types the
 * executor needs to check arity and convert arguments the way Go does.
 */
import { goTypeName, sortedKeys, sprint, sprintf, sprintln } from './go-fmt.ts';

/**
 * Go parameter types, as far as they change behaviour:
 * - 'value': reflect.Value; a missing value (undefined) passes through.
 * - 'any': interface{}; a missing value becomes nil (null).
 * - 'string' | 'int' | 'bool' | 'strings' ([]string): checked; a missing value is an error.
 */
export type ParamType = 'value' | 'any' | 'string' | 'int' | 'bool' | 'strings';

export interface FuncSpec {
  params: ParamType[];
  /** Type of the ...rest parameter, when the function is variadic. */
  variadic?: ParamType;
  fn: (...args: unknown[]) => unknown;
}

/** Go's name for a parameter type, for messages like `invalid value; expected string`. */
export function goParamTypeName(t: ParamType): string {
  switch (t) {
    case 'value':
      return 'reflect.Value';
    case 'any':
      return 'interface {}';
    case 'strings':
      return '[]string';
    default:
      return t;
  }
}

/** An error raised by a function; the executor reports it as `error calling NAME: MSG`. */
export class FuncError extends Error {}

/** Go's isTrue. Every JS value has a truth value. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'string':
      return v.length > 0;
    case 'function':
      return true;
  }
  if (Array.isArray(v)) return v.length > 0;
  return sortedKeys(v as object).length > 0;
}

const utf8 = new TextEncoder();
const byteLength = (s: string) => utf8.encode(s).length;

type Kind = 'invalid' | 'bool' | 'number' | 'string' | 'other';
function basicKind(v: unknown): Kind {
  if (v === undefined || v === null) return 'invalid';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
  }
  return 'other';
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';
const errNoComparison = 'missing argument for comparison';

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new FuncError(errNoComparison);
  const k1 = basicKind(arg1);
  for (const arg of arg2) {
    const k2 = basicKind(arg);
    let equal = false;
    if (k1 !== k2) {
      if (k1 !== 'invalid' && k2 !== 'invalid') throw new FuncError(errBadComparison);
    } else if (k1 === 'invalid') {
      equal = true;
    } else if (k1 === 'other') {
      throw new FuncError(`non-comparable type ${sprintf('%s', [arg])}: ${goTypeName(arg)}`);
    } else {
      equal = arg1 === arg || (k1 === 'number' && Number(arg1) === Number(arg));
    }
    if (equal) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k1 === 'other' || k2 === 'invalid' || k2 === 'other') {
    throw new FuncError(errBadComparisonType);
  }
  if (k1 !== k2) throw new FuncError(errBadComparison);
  if (k1 === 'bool') throw new FuncError(errBadComparisonType);
  return (a as number | string) < (b as number | string);
}

function length(v: unknown): number {
  if (v === null) throw new FuncError('len of nil pointer');
  if (v === undefined) throw new FuncError('len of untyped nil');
  if (typeof v === 'string') return byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'object') return sortedKeys(v).length;
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

function indexArg(index: unknown, cap: number): number {
  if (index === undefined || index === null) throw new FuncError('cannot index slice/array with nil');
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new FuncError(`cannot index slice/array with type ${goTypeName(index)}`);
  }
  if (index < 0 || index > cap) throw new FuncError(`index out of range: ${index}`);
  return index;
}

/** The zero value `index` returns for a missing map key: "" for string maps (labels), else nil. */
function zeroOfElem(o: Record<string, unknown>): unknown {
  const keys = Object.keys(o);
  return keys.every((k) => typeof o[k] === 'string') ? '' : null;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('index of untyped nil');
  for (const idx of indexes) {
    if (item === undefined || item === null) throw new FuncError('index of nil pointer');
    if (typeof item === 'string') {
      const bytes = utf8.encode(item);
      const x = indexArg(idx, bytes.length);
      if (x === bytes.length) throw new FuncError('reflect: string index out of range');
      item = bytes[x]!;
    } else if (Array.isArray(item)) {
      const x = indexArg(idx, item.length);
      if (x === item.length) throw new FuncError('reflect: slice index out of range');
      item = item[x] ?? null;
    } else if (typeof item === 'object') {
      if (idx === undefined || idx === null) throw new FuncError('value is nil; should be of type string');
      if (typeof idx !== 'string') throw new FuncError(`value has type ${goTypeName(idx)}; should be string`);
      const o = item as Record<string, unknown>;
      const v = Object.hasOwn(o, idx) ? o[idx] : undefined;
      item = v === undefined ? zeroOfElem(o) : v;
    } else {
      throw new FuncError(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
    len = byteLength(item);
  } else if (Array.isArray(item)) {
    len = item.length;
  } else {
    throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, len);
  });
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) {
    throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  }
  if (typeof item === 'string') {
    return new TextDecoder().decode(utf8.encode(item).slice(idx[0], idx[1]));
  }
  return (item as unknown[]).slice(idx[0], idx[1]);
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new FuncError('call of nil');
  if (typeof fn !== 'function') throw new FuncError(`non-function of type ${goTypeName(fn)}`);
  return fn(...args);
}

/** text/template's evalArgs: one string as is, else fmt.Sprint with nil shown as <no value>. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/["'&<>\0]/g, (c) => {
    switch (c) {
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        return '\uFFFD';
    }
  });
}

export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (c >= 0x80 && !/[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]/u.test(ch)) {
      out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    } else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8.encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export const builtinFuncs: Readonly<Record<string, FuncSpec>> = {
  // and/or are short-circuited by the executor; these bodies are never called with all args.
  and: {
    params: ['value'],
    variadic: 'value',
    fn: (...a) => a.find((v) => !truth(v)) ?? a[a.length - 1],
  },
  or: { params: ['value'], variadic: 'value', fn: (...a) => a.find((v) => truth(v)) ?? a[a.length - 1] },
  not: { params: ['value'], fn: (v) => !truth(v) },
  call: { params: ['value'], variadic: 'value', fn: call },
  html: { params: [], variadic: 'any', fn: (...a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', fn: (...a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', fn: (...a) => queryEscape(evalArgs(a)) },
  index: { params: ['value'], variadic: 'value', fn: index },
  slice: { params: ['value'], variadic: 'value', fn: slice },
  len: { params: ['value'], fn: length },
  print: { params: [], variadic: 'any', fn: (...a) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', fn: (f, ...a) => sprintf(f as string, a) },
  println: { params: [], variadic: 'any', fn: (...a) => sprintln(a) },
  eq: { params: ['value'], variadic: 'value', fn: eq },
  ne: { params: ['value', 'value'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['value', 'value'], fn: lt },
  le: { params: ['value', 'value'], fn: (a, b) => lt(a, b) || eq(a, b) },
  gt: { params: ['value', 'value'], fn: (a, b) => !(lt(a, b) || eq(a, b)) },
  ge: { params: ['value', 'value'], fn: (a, b) => !lt(a, b) },
};

// ---------------------------------------------------------------------------
// Docker's functions (docker/cli templates.basicFunctions)

/**
 * Go's compact JSON encoding. The template function `json` is json.NewEncoder with
 * SetEscapeHTML(false) (docker/cli; checked against docker CLI 28.2.2: <, > and &
 * stay as they are). `docker inspect --format json` uses json.Marshal instead, which
 * escapes them as \u003c, \u003e and \u0026: pass escapeHTML for that. U+2028 and
 * U+2029 are always escaped, as Go does.
 */
export function goJson(v: unknown, escapeHTML = false): string {
  const s =
    JSON.stringify(v === undefined ? null : v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)) ?? 'null';
  const pattern = escapeHTML ? /[\u2028\u2029<>&]/g : /[\u2028\u2029]/g;
  return s.replace(pattern, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** strings.Title: upper-cases the first letter of each word. */
export function goTitle(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) {
    if (/[0-9a-zA-Z_]/.test(ch)) return false;
    return true;
  }
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function goSplit(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

function truncate(s: string, n: number): string {
  const bytes = utf8.encode(s);
  if (bytes.length < n) return s;
  return new TextDecoder().decode(bytes.slice(0, Math.max(n, 0)));
}

function padWithSpace(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  return ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0));
}

export const dockerFuncs: Readonly<Record<string, FuncSpec>> = {
  json: { params: ['any'], fn: (v) => goJson(v) },
  split: { params: ['string', 'string'], fn: (s, sep) => goSplit(s as string, sep as string) },
  join: { params: ['strings', 'string'], fn: (a, sep) => ((a as string[] | null) ?? []).join(sep as string) },
  title: { params: ['string'], fn: (s) => goTitle(s as string) },
  lower: { params: ['string'], fn: (s) => (s as string).toLowerCase() },
  upper: { params: ['string'], fn: (s) => (s as string).toUpperCase() },
  pad: {
    params: ['string', 'int', 'int'],
    fn: (s, p, q) => padWithSpace(s as string, p as number, q as number),
  },
  truncate: { params: ['string', 'int'], fn: (s, n) => truncate(s as string, n as number) },
};

/**
 * docker/cli templates.HeaderFunctions: while rendering a table header, these
 * return the header text unchanged (pad is not overridden, to keep alignment).
 */
export const dockerHeaderFuncs: Readonly<Record<string, FuncSpec>> = {
  json: { params: ['string'], fn: (v) => v },
  split: { params: ['string', 'string'], fn: (v) => v },
  join: { params: ['string', 'string'], fn: (v) => v },
  title: { params: ['string'], fn: (v) => v },
  lower: { params: ['string'], fn: (v) => v },
  upper: { params: ['string'], fn: (v) => v },
  truncate: { params: ['string', 'int'], fn: (v) => v },
};
