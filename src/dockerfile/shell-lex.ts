/**
 * The shell-word lexer of Dockerfile instructions: BuildKit's frontend/dockerfile/shell lexer
 * (lex.go) rewritten from its documented behaviour. It expands `$VAR`, `${VAR}`, the
 * modifiers `${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?e} ${V?e} ${V#p} ${V##p} ${V%p} ${V%%p}
 * ${V/p/r} ${V//p/r}`, removes quotes (`'…'` literal, `"…"` expanding) and the escape
 * character, and (processWords) splits unquoted whitespace into words.
 *
 * Variables come from a lookup that distinguishes unset (undefined) from empty ('').
 */

/** An error of the lexer; the parser adds "failed to process …" and the line. */
export class ShellLexError extends Error {}

export type EnvLookup = (name: string) => string | undefined;

/** `["A=b", …]` (last one wins, as Docker's env lists) as a lookup. */
export function envLookup(
  ...lists: Array<readonly string[] | Record<string, string | undefined>>
): EnvLookup {
  const map = new Map<string, string>();
  for (const list of lists) {
    if (Array.isArray(list)) {
      for (const kv of list as readonly string[]) {
        const i = kv.indexOf('=');
        if (i < 0) map.set(kv, '');
        else map.set(kv.slice(0, i), kv.slice(i + 1));
      }
    } else {
      for (const [k, v] of Object.entries(list)) if (v !== undefined) map.set(k, v);
    }
  }
  return (name) => map.get(name);
}

const EOF = '';

class Scanner {
  readonly #src: string;
  #pos = 0;
  constructor(src: string) {
    this.#src = src;
  }
  peek(): string {
    return this.#pos < this.#src.length ? this.#src[this.#pos]! : EOF;
  }
  next(): string {
    return this.#pos < this.#src.length ? this.#src[this.#pos++]! : EOF;
  }
}

interface Word {
  text: string;
  /** The word had quotes (so "" is a word of its own). */
  quoted: boolean;
}

class Lexer {
  readonly #s: Scanner;
  readonly #escape: string;
  readonly #env: EnvLookup;
  /** Word splitting (processWords) is on. */
  readonly #split: boolean;
  readonly words: Word[] = [];
  #cur: Word = { text: '', quoted: false };

  constructor(scanner: Scanner, escapeToken: string, env: EnvLookup, split: boolean) {
    this.#s = scanner;
    this.#escape = escapeToken;
    this.#env = env;
    this.#split = split;
  }

  finish(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#cur.text !== '' || this.#cur.quoted) this.words.push(this.#cur);
    this.#cur = { text: '', quoted: false };
  }

  /** Processes until `stop` (or the end); returns the text when not splitting. */
  run(stop: string): string {
    let out = '';
    const s = this.#s;
    while (true) {
      const ch = s.peek();
      if (ch === EOF) break;
      if (stop !== EOF && ch === stop) {
        s.next();
        return out;
      }
      if (ch === "'") {
        s.next();
        const t = this.#single();
        out += t;
        this.#cur.text += t;
        this.#cur.quoted = true;
      } else if (ch === '"') {
        s.next();
        const t = this.#double();
        out += t;
        this.#cur.text += t;
        this.#cur.quoted = true;
      } else if (ch === '$') {
        s.next();
        const t = this.#dollar();
        if (this.#split && stop === EOF) {
          // An unquoted expansion is split on whitespace, as the shell does.
          const parts = t.split(/[ \t\r\n]+/);
          parts.forEach((p, i) => {
            if (i > 0) this.#flush();
            this.#cur.text += p;
          });
        } else this.#cur.text += t;
        out += t;
      } else if (this.#split && stop === EOF && /[ \t\r\n]/.test(ch)) {
        s.next();
        out += ch;
        this.#flush();
      } else {
        s.next();
        let c = ch;
        if (ch === this.#escape) {
          c = s.next();
          if (c === EOF) break;
        }
        out += c;
        this.#cur.text += c;
      }
    }
    if (stop !== EOF) throw new ShellLexError(`missing '${stop}'`);
    return out;
  }

  #single(): string {
    let out = '';
    while (true) {
      const ch = this.#s.next();
      if (ch === EOF)
        throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  #double(): string {
    let out = '';
    const s = this.#s;
    while (true) {
      const ch = s.peek();
      if (ch === EOF)
        throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        s.next();
        return out;
      }
      if (ch === '$') {
        s.next();
        out += this.#dollar();
        continue;
      }
      s.next();
      if (ch === this.#escape) {
        const n = s.peek();
        if (n === EOF)
          throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
        // Inside double quotes the escape only applies to ", $ and itself.
        if (n === '"' || n === '$' || n === this.#escape) {
          out += s.next();
        } else out += ch;
        continue;
      }
      out += ch;
    }
  }

  #name(): string {
    const s = this.#s;
    if (/[0-9]/.test(s.peek())) return s.next();
    let name = '';
    while (/[A-Za-z0-9_]/.test(s.peek()) && s.peek() !== EOF) name += s.next();
    return name;
  }

  /** A nested word (the `w` of `${V:-w}`), processed up to `stop` without splitting. */
  #word(stop: string): string {
    return new Lexer(this.#s, this.#escape, this.#env, false).run(stop);
  }

  #dollar(): string {
    const s = this.#s;
    if (s.peek() !== '{') {
      const name = this.#name();
      if (name === '') return '$';
      return this.#env(name) ?? '';
    }
    s.next();
    if (s.peek() === '{' || s.peek() === '}') throw new ShellLexError('bad substitution');
    const name = this.#name();
    if (name === '') throw new ShellLexError('bad substitution');
    const value = this.#env(name);
    const ch = s.next();
    switch (ch) {
      case '}':
        return value ?? '';
      case ':': {
        const mod = s.next();
        const word = this.#word('}');
        switch (mod) {
          case '-':
            return value === undefined || value === '' ? word : value;
          case '+':
            return value === undefined || value === '' ? '' : word;
          case '?':
            if (value === undefined || value === '') {
              throw new ShellLexError(`${name}: ${word || 'is not allowed to be unset or empty'}`);
            }
            return value;
          default:
            throw new ShellLexError(`unsupported modifier (${mod}) in substitution`);
        }
      }
      case '-': {
        const word = this.#word('}');
        return value === undefined ? word : value;
      }
      case '+': {
        const word = this.#word('}');
        return value === undefined ? '' : word;
      }
      case '?': {
        const word = this.#word('}');
        if (value === undefined) throw new ShellLexError(`${name}: ${word || 'is not allowed to be unset'}`);
        return value;
      }
      case '#':
      case '%': {
        let longest = false;
        if (s.peek() === ch) {
          s.next();
          longest = true;
        }
        const pattern = this.#word('}');
        return trimPattern(value ?? '', pattern, ch === '#' ? 'prefix' : 'suffix', longest);
      }
      case '/': {
        let all = false;
        if (s.peek() === '/') {
          s.next();
          all = true;
        }
        const pattern = this.#word('/');
        const replacement = this.#word('}');
        return replacePattern(value ?? '', pattern, replacement, all);
      }
      case EOF:
        throw new ShellLexError("missing '}'");
      default:
        throw new ShellLexError(`unsupported modifier (${ch}) in substitution`);
    }
  }
}

/** Shell glob (`*`, `?`, `[…]`) to a RegExp source, as used by `#`, `%` and `/`. */
export function globToRegExpSource(pattern: string): string {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRe(pattern[++i]!);
    } else re += escapeRe(c);
  }
  return re;
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', longest: boolean): string {
  const re = new RegExp(`^${globToRegExpSource(pattern)}$`);
  if (side === 'prefix') {
    const lengths = [...Array(value.length + 1).keys()];
    if (longest) lengths.reverse();
    for (const n of lengths) if (re.test(value.slice(0, n))) return value.slice(n);
    return value;
  }
  const starts = [...Array(value.length + 1).keys()];
  if (!longest) starts.reverse();
  for (const n of starts) if (re.test(value.slice(n))) return value.slice(0, n);
  return value;
}

function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  if (pattern === '') return value;
  const re = new RegExp(globToRegExpSource(pattern), all ? 'g' : '');
  return value.replace(re, () => replacement);
}

/** Expands one word (ENV values, WORKDIR, USER…): quotes removed, no splitting. */
export function processWord(word: string, env: EnvLookup, escapeToken = '\\'): string {
  return new Lexer(new Scanner(word), escapeToken, env, false).run(EOF);
}

/** Expands and splits into words (COPY sources, EXPOSE ports…): unquoted whitespace separates. */
export function processWords(text: string, env: EnvLookup, escapeToken = '\\'): string[] {
  const l = new Lexer(new Scanner(text), escapeToken, env, true);
  l.run(EOF);
  l.finish();
  return l.words.map((w) => w.text);
}
