/**
 * Command-line parsing the way runc's (urfave/cli v1) does it: options come before the
 * positional arguments (the first non-option, or "--", ends them), `--name value`,
 * `--name=value`, one-letter aliases, repeatable string options. Unknown options are an error
 * with urfave's wording ("flag provided but not defined: -x").
 */
export interface OptionDef {
  name: string;
  alias?: string;
  /** 'bool' takes no value; 'string' one; 'list' one per use, collected. */
  kind: 'bool' | 'string' | 'list';
}

export interface Parsed {
  bools: Set<string>;
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  args: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], defs: readonly OptionDef[]): Parsed {
  const out: Parsed = { bools: new Set(), strings: new Map(), lists: new Map(), args: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const def = defs.find((d) => d.name === name || d.alias === name);
    if (!def) throw new UsageError(`flag provided but not defined: -${name}`);
    if (def.kind === 'bool') {
      if (eq >= 0) {
        const v = body.slice(eq + 1);
        if (v === 'false') out.bools.delete(def.name);
        else if (v === 'true') out.bools.add(def.name);
        else throw new UsageError(`invalid boolean value "${v}" for -${name}`);
      } else out.bools.add(def.name);
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      value = next;
    }
    if (def.kind === 'string') out.strings.set(def.name, value);
    else out.lists.set(def.name, [...(out.lists.get(def.name) ?? []), value]);
  }
  out.args = argv.slice(i) as string[];
  return out;
}
