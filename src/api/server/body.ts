/**
 * Request bodies: reading them, decoding JSON with errors worded like Go's encoding/json (which
 * clients show verbatim), and checking the decoded value against a shape so that a wrong type
 * (`"Memory":"x"`) is a 400 here rather than a crash deeper down. Like Go, field names match
 * case-insensitively and are rewritten to Docker's spelling, unknown fields are ignored, and
 * null is accepted anywhere (it leaves the field unset).
 */
import type { IncomingMessage } from 'node:http';
import { invalidParameter } from '../../common/index.ts';

/** Requests larger than this are refused: no JSON request body Docker accepts comes close. */
const MAX_JSON_BODY = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw invalidParameter(`request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * moby httputils.CheckForJSON: a body sent with a Content-Type must say application/json.
 * (We also accept a body with no Content-Type, which dockerd refuses, to be kind to curl users.)
 */
export function checkJsonContentType(req: IncomingMessage): void {
  const ct = req.headers['content-type'];
  if (ct === undefined || ct === '') return;
  const mediaType = ct.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw invalidParameter(`unsupported Content-Type header (${ct}): must be 'application/json'`);
  }
}

/**
 * Parses `text` as JSON. An empty body is `undefined` (callers decide whether that is allowed);
 * a syntax error is a 400 `invalid JSON: …` with Go's wording for the common cases.
 */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidParameter(`invalid JSON: ${goSyntaxError(text, err)}`, { cause: err });
  }
}

/**
 * Go's encoding/json messages: `invalid character 'x' looking for beginning of value`,
 * `unexpected end of JSON input`. V8 reports a position (or the offending token) we translate.
 */
function goSyntaxError(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/end of JSON input|Unterminated/i.test(message)) return 'unexpected end of JSON input';
  const pos = /position (\d+)/.exec(message);
  const index = pos ? Number(pos[1]) : text.search(/\S/);
  const ch = text[index];
  if (ch === undefined) return 'unexpected end of JSON input';
  const shown = ch === "'" ? "\\'" : ch;
  if (index === text.search(/\S/)) return `invalid character '${shown}' looking for beginning of value`;
  if (/after JSON/.test(message)) return `invalid character '${shown}' after top-level value`;
  return `invalid character '${shown}' at offset ${index + 1}`;
}

// ---- shapes ----------------------------------------------------------------------------------

/**
 * The type a field must have. 'int' is a Go integer (a JSON number without a fraction);
 * `strings` is a Docker StrSlice (a string or an array of strings).
 */
export type Shape =
  | 'string'
  | 'number'
  | 'int'
  | 'bool'
  | 'any'
  | 'strings'
  | { array: Shape }
  | { map: Shape }
  | { struct: string; fields: Record<string, Shape> };

const goTypeNames: Record<string, string> = {
  string: 'string',
  number: 'float64',
  int: 'int64',
  bool: 'bool',
  strings: 'strslice.StrSlice',
};

/**
 * Checks `value` against `shape` and returns it with struct field names in Docker's spelling.
 * A mismatch throws InvalidParameter worded like Go:
 * `json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64`.
 */
export function checkShape(value: unknown, shape: Shape, path: string[] = []): unknown {
  if (value === null || shape === 'any') return value;
  const fail = (): never => {
    const goType = typeof shape === 'string' ? goTypeNames[shape] : describeShape(shape);
    const where = path.length ? ` into Go struct field ${path.join('.')}` : ' into Go value';
    throw invalidParameter(
      `invalid JSON: json: cannot unmarshal ${jsonKind(value)}${where} of type ${goType}`,
    );
  };
  if (typeof shape === 'string') {
    switch (shape) {
      case 'string':
        if (typeof value !== 'string') fail();
        return value;
      case 'bool':
        if (typeof value !== 'boolean') fail();
        return value;
      case 'number':
        if (typeof value !== 'number') fail();
        return value;
      case 'int':
        if (typeof value !== 'number' || !Number.isInteger(value)) fail();
        return value;
      case 'strings':
        if (typeof value === 'string') return value;
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail();
        return value;
    }
  }
  if ('array' in shape) {
    if (!Array.isArray(value)) fail();
    return (value as unknown[]).map((v) => checkShape(v, shape.array, path));
  }
  if (typeof value !== 'object' || Array.isArray(value)) fail();
  const input = value as Record<string, unknown>;
  if ('map' in shape) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) out[k] = checkShape(v, shape.map, path);
    return out;
  }
  const out: Record<string, unknown> = {};
  const lower = new Map(Object.keys(shape.fields).map((k) => [k.toLowerCase(), k]));
  for (const [k, v] of Object.entries(input)) {
    // Go's encoding/json: an exact name match first, then a case-insensitive one.
    const name = k in shape.fields ? k : (lower.get(k.toLowerCase()) ?? k);
    const fieldShape = shape.fields[name];
    const fieldPath = path.length ? [...path, name] : [shape.struct, name];
    out[name] = fieldShape === undefined ? v : checkShape(v, fieldShape, fieldPath);
  }
  return out;
}

function describeShape(shape: Shape): string {
  if (typeof shape === 'string') return goTypeNames[shape] ?? 'interface {}';
  if ('array' in shape) return `[]${describeShape(shape.array)}`;
  if ('map' in shape) return `map[string]${describeShape(shape.map)}`;
  return `container.${shape.struct}`;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}
