/**
 * Dockerfile text → nodes: the line grammar of BuildKit's frontend/dockerfile/parser, which
 * moby's classic builder uses too. Parser directives (`# syntax=`, `# escape=`, `# check=`) at
 * the top, comments, line continuations with the escape character (comment and empty lines
 * inside a continuation are dropped), heredocs after RUN/COPY/ADD (`<<EOF`, `<<-EOF` strips
 * leading tabs, `<<"EOF"`/`<<'EOF'` disable expansion), and the `--flags` after the
 * instruction word. What the arguments mean is instructions.ts's business.
 */

/** A parse error; `line` is 1-based. The message is Docker's: `dockerfile parse error on line N: …`. */
export class DockerfileParseError extends Error {
  readonly line: number;
  readonly detail: string;
  constructor(line: number, detail: string) {
    super(line > 0 ? `dockerfile parse error on line ${line}: ${detail}` : detail);
    this.line = line;
    this.detail = detail;
  }
}

export interface Heredoc {
  /** The delimiter word (`EOF`). */
  name: string;
  /** The body, each line with its '\n' (tabs stripped for `<<-`). */
  content: string;
  /** False when the delimiter was quoted: no variable expansion in the body. */
  expand: boolean;
}

export interface Node {
  /** The instruction, lower case (`run`). */
  cmd: string;
  /** The instruction as written (continuations joined), Docker's `Step n/m : <original>`. */
  original: string;
  /** The text after the instruction word and its flags. */
  rest: string;
  /** `--name=value` / `--name` flags as written, in order. */
  flags: string[];
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
}

export interface Directives {
  escape: string;
  syntax?: string;
  check?: string;
}

export interface ParsedDockerfile {
  directives: Directives;
  nodes: Node[];
  /** Warnings Docker prints (empty continuation lines). */
  warnings: string[];
}

const DIRECTIVE_RE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const directives: Directives = { escape: '\\' };
  const warnings: string[] = [];

  // Directives: only at the very top, before any comment, blank line or instruction.
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (seen.has(key)) throw new DockerfileParseError(i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    const value = m[2]!;
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') {
        throw new DockerfileParseError(i + 1, `invalid escape token '${value}' does not match ` + '` or \\');
      }
      directives.escape = value;
    } else if (key === 'syntax') directives.syntax = value;
    else directives.check = value;
  }
  const escapeToken = directives.escape;
  const contRe = new RegExp(`${escapeToken === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const isComment = (l: string) => /^[ \t]*#/.test(l);
  const isBlank = (l: string) => /^[ \t]*$/.test(l);

  const nodes: Node[] = [];
  // Lines before `i` that were directives are comments now.
  for (; i < lines.length; i++) {
    const first = lines[i]!;
    if (isComment(first) || isBlank(first)) continue;
    const startLine = i + 1;
    let line = first.replace(/^[ \t]+/, '');
    let continued = contRe.test(line);
    if (continued) line = line.replace(contRe, '');
    let emptyContinuation = false;
    while (continued && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (isComment(next)) continue;
      if (isBlank(next)) {
        emptyContinuation = true;
        continue;
      }
      continued = contRe.test(next);
      line += continued ? next.replace(contRe, '') : next;
    }
    if (emptyContinuation) {
      warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    }
    const node = splitLine(line, startLine, i + 1);
    if (HEREDOC_INSTRUCTIONS.has(node.cmd)) {
      const markers = findHeredocs(node.rest, escapeToken);
      for (const marker of markers) {
        let content = '';
        let closed = false;
        while (i + 1 < lines.length) {
          i++;
          let body = lines[i]!;
          if (marker.chomp) body = body.replace(/^\t+/, '');
          if (body === marker.name) {
            closed = true;
            break;
          }
          content += `${body}\n`;
        }
        if (!closed) {
          throw new DockerfileParseError(startLine, `unterminated heredoc ${marker.name}`);
        }
        node.heredocs.push({ name: marker.name, content, expand: marker.expand });
      }
      node.endLine = i + 1;
    }
    nodes.push(node);
  }
  return { directives, nodes, warnings };
}

function splitLine(line: string, startLine: number, endLine: number): Node {
  const m = /^(\S+)(?:[ \t]+([\s\S]*))?$/.exec(line.trim());
  const word = m?.[1] ?? '';
  let rest = (m?.[2] ?? '').replace(/[ \t]+$/, '');
  const flags: string[] = [];
  // BuildKit's extractBuilderFlags: leading `--x` words, until a non-flag word or `--`.
  while (true) {
    const f = /^(--\S*)(?:[ \t]+|$)/.exec(rest);
    if (!f) break;
    rest = rest.slice(f[0].length);
    if (f[1] === '--') break;
    flags.push(f[1]!);
  }
  return {
    cmd: word.toLowerCase(),
    original: line.replace(/^[ \t]+/, ''),
    rest,
    flags,
    heredocs: [],
    startLine,
    endLine,
  };
}

function findHeredocs(
  rest: string,
  escapeToken: string,
): Array<{ name: string; chomp: boolean; expand: boolean }> {
  // Heredoc markers inside quotes do not count.
  const out: Array<{ name: string; chomp: boolean; expand: boolean }> = [];
  const marker = /<<(-?)\s*(["']?)([a-zA-Z_][a-zA-Z0-9_]*)\2/y;
  for (let i = 0; i < rest.length; ) {
    const c = rest[i]!;
    if (c === escapeToken) {
      i += 2;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = rest.indexOf(c, i + 1);
      i = end < 0 ? rest.length : end + 1;
      continue;
    }
    marker.lastIndex = i;
    const m = marker.exec(rest);
    if (m) {
      out.push({ name: m[3]!, chomp: m[1] === '-', expand: m[2] === '' });
      i += m[0].length;
      continue;
    }
    i++;
  }
  return out;
}
