/**
 * Reading one compose file: YAML 1.2 with `<<` merge keys and compose's `!reset` / `!override`
 * tags (compose-spec "Merge and override"), reporting syntax errors with line and column.
 */
import { type CollectionTag, parseDocument, type ScalarTag, YAMLMap, YAMLSeq } from 'yaml';
import { invalidParameter } from '../common/errors.ts';

/** `!reset`: removes the value inherited from an earlier file. */
export const RESET = Symbol('compose !reset');

/** `!override`: replaces the earlier file's value instead of merging with it. */
export class Override {
  constructor(readonly value: unknown) {}
}

const resetScalar: ScalarTag = { tag: '!reset', resolve: () => RESET as never };
const resetMap: CollectionTag = {
  tag: '!reset',
  collection: 'map',
  nodeClass: YAMLMap,
  resolve: () => RESET as never,
} as unknown as CollectionTag;
const resetSeq: CollectionTag = {
  tag: '!reset',
  collection: 'seq',
  nodeClass: YAMLSeq,
  resolve: () => RESET as never,
} as unknown as CollectionTag;
const overrideMap = {
  tag: '!override',
  collection: 'map',
  nodeClass: YAMLMap,
  resolve: (m: YAMLMap) => new Override(m.toJSON()) as never,
} as unknown as CollectionTag;
const overrideSeq = {
  tag: '!override',
  collection: 'seq',
  nodeClass: YAMLSeq,
  resolve: (s: YAMLSeq) => new Override(s.toJSON()) as never,
} as unknown as CollectionTag;

/**
 * yaml.v3 (which compose-go reads with) takes a plain integer with a leading 0 as octal, as Go's
 * strconv.ParseInt(s, 0, 64) does: `mode: 0440` is 288, not 440.
 */
const goOctalInt: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^[-+]?0[0-7_]+$/,
  resolve: (s: string) => {
    const neg = s.startsWith('-');
    const n = Number.parseInt(s.replace(/^[-+]/, '').replaceAll('_', ''), 8);
    return neg ? -n : n;
  },
};

/** Parses compose YAML text; `name` is the file name used in error messages. */
export function parseComposeYaml(text: string, name: string): Record<string, unknown> {
  const doc = parseDocument(text, {
    merge: true,
    customTags: (tags) => [goOctalInt, ...tags, resetScalar, resetMap, resetSeq, overrideMap, overrideSeq],
    prettyErrors: true,
  });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw invalidParameter(
      `${name}${pos ? `:${pos.line}:${pos.col}` : ''}: yaml: ${first.message.split('\n')[0]}`,
    );
  }
  const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParameter(`${name}: top-level object must be a mapping`);
  }
  return value as Record<string, unknown>;
}

/** Removes the tag markers from a single file's model (when there is nothing to merge with). */
export function stripMarkers(node: unknown): unknown {
  if (node === RESET) return undefined;
  if (node instanceof Override) return stripMarkers(node.value);
  if (Array.isArray(node)) return node.map(stripMarkers).filter((v) => v !== undefined);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const s = stripMarkers(v);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return node;
}
