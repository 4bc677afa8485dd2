/**
 * Nodes → typed instructions, grouped into stages: the argument grammar of each instruction
 * (BuildKit's parser line_parsers.go and instructions/parse.go, as moby's classic builder uses
 * them). Values stay unexpanded: variables are substituted at build time, per stage, with the
 * ENV and ARG values in scope there (expand.ts).
 */
import { type Heredoc, type Node, DockerfileParseError, type ParsedDockerfile } from './parse.ts';

/** RUN/CMD/ENTRYPOINT/HEALTHCHECK's command: shell form (a string for the shell) or exec form. */
export type CommandForm = { form: 'shell'; text: string } | { form: 'exec'; args: string[] };

export interface KeyValue {
  key: string;
  value: string;
}

export interface HealthcheckInstruction {
  kind: 'healthcheck';
  /** `NONE`, or the command. */
  test: { none: true } | { none: false; command: CommandForm };
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
}

export type InstructionBody =
  | { kind: 'from'; image: string; stageName?: string; platform?: string }
  | {
      kind: 'run';
      command: CommandForm;
      heredocs: Heredoc[];
      /** `--mount`, `--network`, `--device`: parsed, refused by the classic builder when run. */
      flagsUsed: string[];
    }
  | { kind: 'cmd'; command: CommandForm }
  | { kind: 'entrypoint'; command: CommandForm }
  | { kind: 'env'; pairs: KeyValue[] }
  | { kind: 'label'; pairs: KeyValue[] }
  | { kind: 'arg'; args: Array<{ key: string; value?: string }> }
  | {
      kind: 'copy' | 'add';
      sources: string[];
      dest: string;
      from?: string;
      chown?: string;
      chmod?: string;
      link: boolean;
      checksum?: string;
      keepGitDir: boolean;
      heredocs: Heredoc[];
    }
  | { kind: 'workdir'; path: string }
  | { kind: 'user'; user: string }
  | { kind: 'expose'; ports: string[] }
  | { kind: 'volume'; paths: string[] }
  | { kind: 'stopsignal'; signal: string }
  | HealthcheckInstruction
  | { kind: 'shell'; args: string[] }
  | { kind: 'onbuild'; expression: string }
  | { kind: 'maintainer'; name: string };

export type Instruction = InstructionBody & { node: Node };

export interface Stage {
  /** Position in the file (0-based): `COPY --from=0` names stages by it. */
  index: number;
  from: Instruction & { kind: 'from' };
  /** Lower-cased `AS name`, if any. */
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  escape: string;
  /** ARGs before the first FROM (usable in FROM lines only, unless re-declared in a stage). */
  metaArgs: Array<Instruction & { kind: 'arg' }>;
  stages: Stage[];
  warnings: string[];
}

const fail = (node: Node, msg: string): never => {
  throw new DockerfileParseError(node.startLine, msg);
};

/**
 * Flags each instruction accepts, as Docker 28's classic builder parses them (BuildKit's parser
 * built without its labs features): `COPY --parents`, `--exclude` and `RUN --security` are
 * unknown flags there; `RUN --mount/--network/--device` parse but require BuildKit; `--link` and
 * `--keep-git-dir` parse and change nothing in the classic builder.
 */
const FLAGS: Record<string, Record<string, 'string' | 'strings' | 'bool'>> = {
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', device: 'strings' },
  copy: {
    from: 'string',
    chown: 'string',
    chmod: 'string',
    link: 'bool',
  },
  add: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    checksum: 'string',
    'keep-git-dir': 'bool',
  },
  healthcheck: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

/**
 * BuildKit's BFlags.Parse: `--name[=value]` words up to `--`; errors name the flag with its
 * dashes, an unknown one with a close known name suggested (Levenshtein distance under 3).
 * `strings` flags may repeat (the map keeps the first value).
 */
function parseFlags(node: Node): Map<string, string> {
  const allowed = FLAGS[node.cmd] ?? {};
  const out = new Map<string, string>();
  for (const f of node.flags) {
    if (f === '--') break;
    if (!f.startsWith('--')) fail(node, `arg should start with -- : ${f}`);
    const eq = f.indexOf('=');
    const flagName = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? undefined : f.slice(eq + 1);
    const name = flagName.slice(2);
    const type = allowed[name];
    if (!type) {
      const match = suggest(name, Object.keys(allowed));
      fail(node, `unknown flag: ${flagName}${match ? ` (did you mean ${match}?)` : ''}`);
    }
    if (out.has(name)) {
      if (type === 'strings') continue;
      fail(node, `duplicate flag specified: ${flagName}`);
    }
    if (type === 'bool') {
      if (value === '') fail(node, `missing a value on flag: ${flagName}`);
      const v = (value ?? 'true').toLowerCase();
      if (v !== 'true' && v !== 'false')
        fail(node, `expecting boolean value for flag ${flagName}, not: ${value}`);
      out.set(name, v);
    } else {
      if (value === undefined) fail(node, `missing a value on flag: ${flagName}`);
      out.set(name, value!);
    }
  }
  return out;
}

/** BuildKit's suggest.Search: the option closest to `val` within an edit distance of 2. */
function suggest(val: string, options: string[]): string | undefined {
  let match: string | undefined;
  let min = 3;
  for (const opt of options) {
    if (opt === val) return undefined;
    const d = levenshtein(val, opt);
    if (d < min) {
      match = opt;
      min = d;
    }
  }
  return match;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** `["a","b"]` as a string list, or undefined when the text is not a JSON array of strings. */
function tryJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {}
  return undefined;
}

function commandForm(text: string): CommandForm {
  const json = tryJsonArray(text);
  return json ? { form: 'exec', args: json } : { form: 'shell', text };
}

/**
 * Splits on unquoted whitespace keeping quotes and escapes in the words (BuildKit's parseWords):
 * the words are expanded later.
 */
export function splitWordsKeepQuotes(text: string, escapeToken: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let escaped = false;
  for (const c of text) {
    if (escaped) {
      word += c;
      escaped = false;
      continue;
    }
    if (c === escapeToken) {
      escaped = true;
      word += c;
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
      word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (word) words.push(word);
      word = '';
      continue;
    }
    word += c;
  }
  if (word) words.push(word);
  return words;
}

function nameValues(node: Node, escapeToken: string, what: 'ENV' | 'LABEL'): KeyValue[] {
  const words = splitWordsKeepQuotes(node.rest, escapeToken);
  if (words.length === 0) fail(node, `${what} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // Legacy `ENV key value with spaces`.
    const m = /^(\S+)[ \t]+([\s\S]*)$/.exec(node.rest.trim());
    if (!m || m[2]!.trim() === '') fail(node, `${what} must have two arguments`);
    return [{ key: m![1]!, value: m![2]! }];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i < 0) fail(node, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (i === 0) fail(node, `${what} names can not be blank`);
    return { key: w.slice(0, i), value: w.slice(i + 1) };
  });
}

function parseHealthcheck(node: Node, flags: Map<string, string>): HealthcheckInstruction {
  const m = /^(\S+)(?:[ \t]+([\s\S]*))?$/.exec(node.rest.trim());
  if (!m) fail(node, 'HEALTHCHECK requires an argument');
  const type = m![1]!.toUpperCase();
  if (type === 'NONE') {
    if (m![2]) fail(node, 'HEALTHCHECK NONE takes no arguments');
    if (flags.size > 0) fail(node, 'HEALTHCHECK NONE does not accept flags');
    return { kind: 'healthcheck', test: { none: true } };
  }
  if (type !== 'CMD') fail(node, `Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  if (!m![2]) fail(node, 'Missing command after HEALTHCHECK CMD');
  const h: HealthcheckInstruction = {
    kind: 'healthcheck',
    test: { none: false, command: commandForm(m![2]!) },
  };
  const set = (k: keyof HealthcheckInstruction, f: string) => {
    const v = flags.get(f);
    if (v !== undefined) (h as unknown as Record<string, string>)[k] = v;
  };
  set('interval', 'interval');
  set('timeout', 'timeout');
  set('startPeriod', 'start-period');
  set('startInterval', 'start-interval');
  set('retries', 'retries');
  return h;
}

/** One node as an instruction (ONBUILD triggers are parsed the same way when they fire). */
export function parseInstruction(node: Node, escapeToken: string): Instruction {
  const flags = parseFlags(node);
  const rest = node.rest;
  const need = (n: number, msg: string) => {
    if (rest.trim() === '' && n > 0) fail(node, msg);
  };
  const upper = node.cmd.toUpperCase();
  switch (node.cmd) {
    case 'from': {
      const words = rest.trim().split(/\s+/).filter(Boolean);
      if (!(words.length === 1 || (words.length === 3 && words[1]!.toLowerCase() === 'as'))) {
        fail(node, 'FROM requires either one or three arguments');
      }
      const stageName = words[2]?.toLowerCase();
      if (stageName !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(stageName)) {
        fail(
          node,
          `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`,
        );
      }
      return {
        kind: 'from',
        image: words[0]!,
        ...(stageName !== undefined && { stageName }),
        ...(flags.has('platform') && { platform: flags.get('platform')! }),
        node,
      };
    }
    case 'run': {
      if (rest.trim() === '' && node.heredocs.length === 0) fail(node, 'RUN requires at least one argument');
      return {
        kind: 'run',
        command: commandForm(rest),
        heredocs: node.heredocs,
        flagsUsed: [...flags.keys()],
        node,
      };
    }
    case 'cmd':
    case 'entrypoint':
      need(1, `${upper} requires at least one argument`);
      return { kind: node.cmd, command: commandForm(rest), node };
    case 'env':
    case 'label':
      return {
        kind: node.cmd,
        pairs: nameValues(node, escapeToken, node.cmd === 'env' ? 'ENV' : 'LABEL'),
        node,
      };
    case 'arg': {
      const words = splitWordsKeepQuotes(rest, escapeToken);
      if (words.length === 0) fail(node, 'ARG requires at least one argument');
      return {
        kind: 'arg',
        args: words.map((w) => {
          const i = w.indexOf('=');
          if (i === 0) fail(node, 'ARG names can not be blank');
          return i < 0 ? { key: w } : { key: w.slice(0, i), value: w.slice(i + 1) };
        }),
        node,
      };
    }
    case 'copy':
    case 'add': {
      const json = tryJsonArray(rest);
      const words = json ?? splitWordsKeepQuotes(rest, escapeToken);
      const min = node.heredocs.length > 0 ? 1 : 2;
      if (words.length < min)
        fail(
          node,
          `${upper} requires at least two arguments, but only one was provided. Destination could not be determined.`,
        );
      return {
        kind: node.cmd,
        sources: words.slice(0, -1),
        dest: words[words.length - 1]!,
        ...(flags.has('from') && { from: flags.get('from')! }),
        ...(flags.has('chown') && { chown: flags.get('chown')! }),
        ...(flags.has('chmod') && { chmod: flags.get('chmod')! }),
        ...(flags.has('checksum') && { checksum: flags.get('checksum')! }),
        link: flags.get('link') === 'true',
        keepGitDir: flags.get('keep-git-dir') === 'true',
        heredocs: node.heredocs,
        node,
      };
    }
    case 'workdir':
      need(1, 'WORKDIR requires exactly one argument');
      return { kind: 'workdir', path: rest.trim(), node };
    case 'user':
      need(1, 'USER requires exactly one argument');
      return { kind: 'user', user: rest.trim(), node };
    case 'expose':
      need(1, 'EXPOSE requires at least one argument');
      return { kind: 'expose', ports: splitWordsKeepQuotes(rest, escapeToken), node };
    case 'volume': {
      need(1, 'VOLUME requires at least one argument');
      const paths = tryJsonArray(rest) ?? splitWordsKeepQuotes(rest, escapeToken);
      if (paths.some((p) => p.trim() === '')) fail(node, 'VOLUME specified can not be an empty string');
      return { kind: 'volume', paths, node };
    }
    case 'stopsignal':
      need(1, 'STOPSIGNAL requires exactly one argument');
      return { kind: 'stopsignal', signal: rest.trim(), node };
    case 'healthcheck':
      return { ...parseHealthcheck(node, flags), node };
    case 'shell': {
      const json = tryJsonArray(rest);
      if (!json) fail(node, 'SHELL requires the arguments to be in JSON form');
      if (json!.length === 0) fail(node, 'SHELL requires at least one argument');
      return { kind: 'shell', args: json!, node };
    }
    case 'onbuild': {
      need(1, 'ONBUILD requires at least one argument');
      const trigger = rest.trim().split(/\s+/)[0]!.toUpperCase();
      if (trigger === 'ONBUILD') fail(node, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'FROM' || trigger === 'MAINTAINER') {
        fail(node, `${trigger} isn't allowed as an ONBUILD trigger`);
      }
      return { kind: 'onbuild', expression: rest.trim(), node };
    }
    case 'maintainer':
      need(1, 'MAINTAINER requires exactly one argument');
      return { kind: 'maintainer', name: rest.trim(), node };
    default:
      return fail(node, `unknown instruction: ${node.cmd.toUpperCase()}`);
  }
}

/** The stages of a parsed Dockerfile. Errors carry Docker's wording and the line. */
export function toStages(parsed: ParsedDockerfile, name = 'Dockerfile'): Dockerfile {
  if (parsed.nodes.length === 0) {
    throw new DockerfileParseError(0, `the Dockerfile (${name}) cannot be empty`);
  }
  const escapeToken = parsed.directives.escape;
  const metaArgs: Array<Instruction & { kind: 'arg' }> = [];
  const stages: Stage[] = [];
  for (const node of parsed.nodes) {
    const ins = parseInstruction(node, escapeToken);
    if (ins.kind === 'from') {
      const stage: Stage = {
        index: stages.length,
        from: ins,
        instructions: [],
        ...(ins.stageName !== undefined && { name: ins.stageName }),
      };
      if (stage.name !== undefined && stages.some((s) => s.name === stage.name)) {
        fail(node, `duplicate stage name "${stage.name}"`);
      }
      stages.push(stage);
    } else if (stages.length === 0) {
      if (ins.kind !== 'arg') fail(node, 'no build stage in current context');
      metaArgs.push(ins as Instruction & { kind: 'arg' });
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new DockerfileParseError(0, 'file with no instructions');
  return { escape: escapeToken, metaArgs, stages, warnings: parsed.warnings };
}
