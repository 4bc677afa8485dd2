/**
 * Go text/template for `--format`: parse once, execute per object.
 *
 *   const t = parseTemplate('{{.Name}}: {{join .Cmd " "}}');   // throws TemplateError('parse')
 *   t.execute({ Name: 'web', Cmd: ['nginx', '-g'] });           // 'web: nginx -g'; throws TemplateError('exec')
 *
 * Docker's functions (json, join, split, title, lower, upper, pad, truncate) are
 * always available next to Go's builtins; `options.funcs` adds more (and may
 * override either), each taking any number of arguments.
 */
import { TemplateError } from './errors.ts';
import { type ExecContext, ExecState, type MissingKey } from './exec.ts';
import { builtinFuncs, dockerFuncs, type FuncSpec } from './funcs.ts';
import type { Tree } from './nodes.ts';
import { parseTrees } from './parse.ts';

export interface TemplateOptions {
  /** Extra functions, called with the evaluated arguments; a throw becomes `error calling NAME: ...`. */
  funcs?: Record<string, (...a: unknown[]) => unknown>;
  /** Template name shown in messages (Go's template.New(name)); Docker uses "". */
  name?: string;
  /** Go's Option("missingkey=..."): 'default' prints <no value>, 'error' fails. */
  missingKey?: MissingKey;
}

export interface Template {
  /** Name of the top-level template. */
  readonly name: string;
  /** Renders the top-level template on `data`. Throws TemplateError('exec'). */
  execute(data: unknown): string;
  /** Renders a template defined with {{define}} or {{block}}. */
  executeTemplate(name: string, data: unknown, funcs?: Record<string, FuncSpec>): string;
  /**
   * Like execute, but returns what was written before an error together with the
   * error (Go's Execute leaves partial output in the writer). Used for table headers.
   */
  executePartial(data: unknown, funcs?: Record<string, FuncSpec>): { output: string; error?: TemplateError };
  /** Names of all templates in the set (top level and defined), sorted. */
  definedTemplates(): string[];
}

export function parseTemplate(text: string, options: TemplateOptions = {}): Template {
  const name = options.name ?? '';
  const extra: Record<string, FuncSpec> = { ...dockerFuncs };
  for (const [k, fn] of Object.entries(options.funcs ?? {})) extra[k] = { params: [], variadic: 'any', fn };
  const hasFunction = (n: string) => Object.hasOwn(extra, n) || Object.hasOwn(builtinFuncs, n);
  const trees = parseTrees(name, text, { hasFunction });
  return new GoTemplate(name, trees, extra, options.missingKey ?? 'default');
}

class GoTemplate implements Template {
  readonly name: string;
  readonly #trees: Map<string, Tree>;
  readonly #funcs: Record<string, FuncSpec>;
  readonly #missingKey: MissingKey;

  constructor(
    name: string,
    trees: Map<string, Tree>,
    funcs: Record<string, FuncSpec>,
    missingKey: MissingKey,
  ) {
    this.name = name;
    this.#trees = trees;
    this.#funcs = funcs;
    this.#missingKey = missingKey;
  }

  execute(data: unknown): string {
    return this.executeTemplate(this.name, data);
  }

  executeTemplate(name: string, data: unknown, funcs?: Record<string, FuncSpec>): string {
    const r = this.#run(name, data, funcs);
    if (r.error) throw r.error;
    return r.output;
  }

  executePartial(data: unknown, funcs?: Record<string, FuncSpec>): { output: string; error?: TemplateError } {
    return this.#run(this.name, data, funcs);
  }

  definedTemplates(): string[] {
    return [...this.#trees.keys()].sort();
  }

  #run(
    name: string,
    data: unknown,
    funcs?: Record<string, FuncSpec>,
  ): { output: string; error?: TemplateError } {
    const all = { ...this.#funcs, ...funcs };
    const ctx: ExecContext = {
      trees: this.#trees,
      missingKey: this.#missingKey,
      findFunction: (n) => {
        if (Object.hasOwn(all, n)) return { spec: all[n]!, isBuiltin: false };
        if (Object.hasOwn(builtinFuncs, n)) return { spec: builtinFuncs[n]!, isBuiltin: true };
        return undefined;
      },
    };
    const out: string[] = [];
    // Go passes a nil interface as an invalid value: null and undefined are both "no value".
    const dot = data === null ? undefined : data;
    try {
      new ExecState(ctx, name, dot, out).run(dot);
      return { output: out.join('') };
    } catch (e) {
      if (e instanceof TemplateError) return { output: out.join(''), error: e };
      if (e instanceof RangeError) {
        const error = new TemplateError(
          `template: ${name}: exceeded maximum template depth (100000)`,
          'exec',
          {
            cause: e,
          },
        );
        return { output: out.join(''), error };
      }
      throw e;
    }
  }
}
