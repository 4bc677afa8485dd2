/**
 * Executes parsed template trees on plain JS values with the semantics of Go's
 * src/text/template/exec.go. JS objects behave like Go maps (a missing key is
 * "no value"), arrays like slices, null like a nil interface, and undefined
 * like Go's invalid reflect.Value (what a missing map key yields).
 * A function-valued property (own or on a class prototype) is called like a
 * Go method: `{{.Label "com.example"}}`.
 */
import { TemplateError } from './errors.ts';
import { FuncError, type FuncSpec, goParamTypeName, type ParamType, truth } from './funcs.ts';
import { formatValue, goTypeName } from './go-fmt.ts';
import { goQuote } from './lex.ts';
import {
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  nodeString,
  type PipeNode,
  type RangeNode,
  type TemplateNode,
  type Tree,
  type VariableNode,
} from './nodes.ts';

export type MissingKey = 'default' | 'zero' | 'error';

export interface ExecContext {
  trees: ReadonlyMap<string, Tree>;
  /** Looks a function up: extra functions first, then builtins (Go's findFunction). */
  findFunction: (name: string) => { spec: FuncSpec; isBuiltin: boolean } | undefined;
  missingKey: MissingKey;
}

const MISSING: unique symbol = Symbol('missing');
type Final = unknown | typeof MISSING;

const maxExecDepth = 100000;

class BreakSignal {}
class ContinueSignal {}
const breakSignal = new BreakSignal();
const continueSignal = new ContinueSignal();

const utf8 = new TextEncoder();

interface Variable {
  name: string;
  value: unknown;
}

/** A method: a function-valued property, own or from a class prototype (not Object.prototype). */
function methodOf(receiver: object, name: string): ((...a: unknown[]) => unknown) | undefined {
  if (Object.hasOwn(receiver, name)) {
    const v = (receiver as Record<string, unknown>)[name];
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown) : undefined;
  }
  let proto = Object.getPrototypeOf(receiver) as object | null;
  while (proto !== null && proto !== Object.prototype && proto !== Array.prototype) {
    if (Object.hasOwn(proto, name) && name !== 'constructor') {
      const v = (receiver as Record<string, unknown>)[name];
      if (typeof v === 'function') return (v as (...a: unknown[]) => unknown).bind(receiver);
      return undefined;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return undefined;
}

export class ExecState {
  readonly #ctx: ExecContext;
  #name: string;
  #vars: Variable[];
  #depth: number;
  #node: Node | null = null;
  readonly out: string[];

  constructor(ctx: ExecContext, name: string, dot: unknown, out: string[], depth = 0) {
    this.#ctx = ctx;
    this.#name = name;
    this.#vars = [{ name: '$', value: dot }];
    this.#depth = depth;
    this.out = out;
  }

  /** Runs the template `name` on dot; output accumulates in `out` even when it throws. */
  run(dot: unknown): void {
    const tree = this.#ctx.trees.get(this.#name);
    if (tree === undefined) {
      this.#errorf(`${goQuote(this.#name)} is an incomplete or empty template`);
    }
    this.#walk(dot, tree.root);
  }

  #at(node: Node): void {
    this.#node = node;
  }

  #errorf(msg: string): never {
    const name = this.#name;
    const node = this.#node;
    if (node === null) throw new TemplateError(`template: ${name}: ${msg}`, 'exec');
    const tree = node.tree;
    const text = tree.text.slice(0, node.pos);
    const nl = text.lastIndexOf('\n');
    const lineNum = 1 + (text.match(/\n/g)?.length ?? 0);
    const byteNum = utf8.encode(nl < 0 ? text : text.slice(nl + 1)).length;
    let context = nodeString(node);
    if (utf8.encode(context).length > 20) context = [...context].slice(0, 20).join('') + '...';
    throw new TemplateError(
      `template: ${tree.parseName}:${lineNum}:${byteNum}: executing ${goQuote(name)} at <${context}>: ${msg}`,
      'exec',
    );
  }

  // --- variables -----------------------------------------------------------

  #push(name: string, value: unknown): void {
    this.#vars.push({ name, value });
  }
  #setVar(name: string, value: unknown): void {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      if (this.#vars[i]!.name === name) {
        this.#vars[i]!.value = value;
        return;
      }
    }
    this.#errorf(`undefined variable: ${name}`);
  }
  #setTopVar(n: number, value: unknown): void {
    this.#vars[this.#vars.length - n]!.value = value;
  }
  #varValue(name: string): unknown {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      if (this.#vars[i]!.name === name) return this.#vars[i]!.value;
    }
    return this.#errorf(`undefined variable: ${name}`);
  }

  // --- walking ------------------------------------------------------------

  #walk(dot: unknown, node: Node): void {
    this.#at(node);
    switch (node.type) {
      case 'action': {
        const val = this.#evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.#printValue(node, val);
        return;
      }
      case 'break':
        throw breakSignal;
      case 'continue':
        throw continueSignal;
      case 'if':
      case 'with':
        this.#walkIfOrWith(node.type, dot, node.pipe, node.list, node.elseList);
        return;
      case 'list':
        for (const n of node.nodes) this.#walk(dot, n);
        return;
      case 'range':
        this.#walkRange(dot, node);
        return;
      case 'template':
        this.#walkTemplate(dot, node);
        return;
      case 'text':
        this.out.push(node.text);
        return;
      default:
        this.#errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  #walkIfOrWith(
    type: 'if' | 'with',
    dot: unknown,
    pipe: PipeNode,
    list: ListNode,
    elseList: ListNode | null,
  ) {
    const mark = this.#vars.length;
    try {
      const val = this.#evalPipeline(dot, pipe);
      if (truth(val)) this.#walk(type === 'with' ? val : dot, list);
      else if (elseList !== null) this.#walk(dot, elseList);
    } finally {
      this.#vars.length = mark;
    }
  }

  #walkRange(dot: unknown, r: RangeNode): void {
    this.#at(r);
    const mark0 = this.#vars.length;
    try {
      const val = this.#evalPipeline(dot, r.pipe);
      const mark = this.#vars.length;
      const decl = r.pipe.decl;
      const oneIteration = (index: unknown, elem: unknown) => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.#setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.#setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.#setVar(decl[1]!.ident[0]!, elem);
          else this.#setTopVar(2, index);
        }
        try {
          this.#walk(elem, r.list);
        } catch (e) {
          if (e !== continueSignal) throw e;
        } finally {
          this.#vars.length = mark;
        }
      };
      if (Array.isArray(val)) {
        if (val.length > 0) {
          for (let i = 0; i < val.length; i++) oneIteration(i, val[i] ?? null);
          return;
        }
      } else if (val !== undefined && val !== null && typeof val === 'object') {
        const o = val as Record<string, unknown>;
        const keys = Object.keys(o)
          .filter((k) => o[k] !== undefined)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        if (keys.length > 0) {
          for (const k of keys) oneIteration(k, o[k]);
          return;
        }
      } else if (typeof val === 'number' && Number.isInteger(val)) {
        // Go 1.22: range over an integer counts from 0.
        if (decl.length > 1)
          this.#errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        if (val > 0) {
          for (let i = 0; i < val; i++) oneIteration(i, i);
          return;
        }
      } else if (val !== undefined && val !== null) {
        this.#errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (r.elseList !== null) this.#walk(dot, r.elseList);
    } catch (e) {
      if (e !== breakSignal) throw e;
    } finally {
      this.#vars.length = mark0;
    }
  }

  #walkTemplate(dot: unknown, t: TemplateNode): void {
    this.#at(t);
    if (!this.#ctx.trees.has(t.name)) this.#errorf(`template ${goQuote(t.name)} not defined`);
    if (this.#depth >= maxExecDepth) this.#errorf(`exceeded maximum template depth (${maxExecDepth})`);
    const newDot = this.#evalPipeline(dot, t.pipe);
    const sub = new ExecState(this.#ctx, t.name, newDot, this.out, this.#depth + 1);
    sub.run(newDot);
  }

  #printValue(node: Node, v: unknown): void {
    this.#at(node);
    if (v === undefined || v === null) {
      this.out.push('<no value>');
      return;
    }
    if (typeof v === 'function') this.#errorf(`can't print ${nodeString(node)} of type ${goTypeName(v)}`);
    this.out.push(formatValue(v));
  }

  // --- evaluation ---------------------------------------------------------

  #evalPipeline(dot: unknown, pipe: PipeNode | null): unknown {
    if (pipe === null) return undefined;
    this.#at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.#evalCommand(dot, cmd, value);
      // A nil interface{} result digs down to an invalid value, as Go's evalPipeline does.
      if (value === null) value = undefined;
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.#setVar(v.ident[0]!, value);
      else this.#push(v.ident[0]!, value);
    }
    return value;
  }

  #notAFunction(args: Node[] | null, final: Final): void {
    if ((args !== null && args.length > 1) || final !== MISSING) {
      this.#errorf(`can't give argument to non-function ${nodeString(args![0]!)}`);
    }
  }

  #evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.#evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.#evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.#evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.#notAFunction(cmd.args, final);
        return this.#evalPipeline(dot, first);
      case 'variable':
        return this.#evalVariableNode(dot, first, cmd.args, final);
    }
    this.#at(first);
    this.#notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.#errorf('nil is not a command');
      case 'number':
        return this.#idealConstant(first);
      case 'string':
        return first.text;
    }
    return this.#errorf(`can't evaluate command ${goQuote(nodeString(first))}`);
  }

  #idealConstant(n: NumberNode): number {
    this.#at(n);
    return n.value;
  }

  #evalFieldNode(dot: unknown, field: FieldNode, args: Node[] | null, final: Final): unknown {
    this.#at(field);
    return this.#evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  #evalChainNode(dot: unknown, chain: ChainNode, args: Node[] | null, final: Final): unknown {
    this.#at(chain);
    if (chain.node.type === 'nil') this.#errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.#evalArg(dot, 'value', chain.node);
    return this.#evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  #evalVariableNode(dot: unknown, v: VariableNode, args: Node[] | null, final: Final): unknown {
    this.#at(v);
    const value = this.#varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.#notAFunction(args, final);
      return value;
    }
    return this.#evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  #evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: Node,
    ident: string[],
    args: Node[] | null,
    final: Final,
  ): unknown {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) {
      receiver = this.#evalField(dot, ident[i]!, node, null, MISSING, receiver, i > 0);
    }
    return this.#evalField(dot, ident[n - 1]!, node, args, final, receiver, n > 1);
  }

  #evalField(
    dot: unknown,
    name: string,
    node: Node,
    args: Node[] | null,
    final: Final,
    receiver: unknown,
    fromMap = false,
  ): unknown {
    if (receiver === undefined) {
      if (this.#ctx.missingKey === 'error') this.#errorf(`nil data; no entry for key ${goQuote(name)}`);
      return undefined;
    }
    if (receiver === null) this.#errorf(`nil pointer evaluating interface {}.${name}`);
    if (typeof receiver === 'object' && !Array.isArray(receiver)) {
      const method = methodOf(receiver, name);
      if (method !== undefined) {
        return this.#evalCall(
          dot,
          { params: [], variadic: 'any', fn: method },
          false,
          node,
          name,
          args,
          final,
        );
      }
      const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
      if (hasArgs) this.#errorf(`${name} is not a method but has arguments`);
      const o = receiver as Record<string, unknown>;
      const result = Object.hasOwn(o, name) ? o[name] : undefined;
      if (result === undefined) {
        if (this.#ctx.missingKey === 'error') this.#errorf(`map has no entry for key ${goQuote(name)}`);
        if (this.#ctx.missingKey === 'zero') return null;
      }
      return result;
    }
    // A value read out of a map[string]interface{} has the static type interface {}.
    const type = fromMap ? 'interface {}' : goTypeName(receiver);
    return this.#errorf(`can't evaluate field ${name} in type ${type}`);
  }

  #evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: Node[] | null, final: Final): unknown {
    this.#at(node);
    const name = node.ident;
    const found = this.#ctx.findFunction(name);
    if (found === undefined) this.#errorf(`${goQuote(name)} is not a defined function`);
    return this.#evalCall(dot, found.spec, found.isBuiltin, cmd, name, args, final);
  }

  #evalCall(
    dot: unknown,
    spec: FuncSpec,
    isBuiltin: boolean,
    node: Node,
    name: string,
    argNodes: Node[] | null,
    final: Final,
  ): unknown {
    const args = argNodes === null ? [] : argNodes.slice(1);
    let numIn = args.length;
    if (final !== MISSING) numIn++;
    let numFixed = args.length;
    const nParams = spec.params.length + (spec.variadic !== undefined ? 1 : 0);
    if (spec.variadic !== undefined) {
      numFixed = spec.params.length;
      if (numIn < numFixed) {
        this.#errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
      }
    } else if (numIn !== nParams) {
      this.#errorf(`wrong number of args for ${name}: want ${nParams} got ${numIn}`);
    }

    // and/or short-circuit: later arguments are not evaluated.
    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: unknown;
      for (const arg of args) {
        v = this.#evalArg(dot, 'value', arg);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.#validateType(final, 'value');
      return v;
    }

    const argv: unknown[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.#evalArg(dot, spec.params[i]!, args[i]!));
    if (spec.variadic !== undefined) {
      for (; i < args.length; i++) argv.push(this.#evalArg(dot, spec.variadic, args[i]!));
    }
    if (final !== MISSING) {
      let t: ParamType;
      if (spec.variadic !== undefined) t = numIn - 1 < numFixed ? spec.params[numIn - 1]! : spec.variadic;
      else t = spec.params[spec.params.length - 1]!;
      argv.push(this.#validateType(final, t));
    }
    try {
      return spec.fn(...argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      if (e instanceof RangeError && /call stack/.test(e.message)) throw e;
      this.#at(node);
      const msg = e instanceof Error ? e.message : String(e);
      return this.#errorf(`error calling ${name}: ${msg}`);
    }
  }

  #evalArg(dot: unknown, type: ParamType, n: Node): unknown {
    this.#at(n);
    switch (n.type) {
      case 'dot':
        return this.#validateType(dot, type);
      case 'nil':
        if (type === 'value' || type === 'any' || type === 'strings') return null;
        return this.#errorf(`cannot assign nil to ${goParamTypeName(type)}`);
      case 'field':
        return this.#validateType(this.#evalFieldNode(dot, n, [n], MISSING), type);
      case 'variable':
        return this.#validateType(this.#evalVariableNode(dot, n, null, MISSING), type);
      case 'pipe':
        return this.#validateType(this.#evalPipeline(dot, n), type);
      case 'identifier':
        return this.#validateType(this.#evalFunction(dot, n, n, null, MISSING), type);
      case 'chain':
        return this.#validateType(this.#evalChainNode(dot, n, null, MISSING), type);
    }
    switch (type) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.#errorf(`expected bool; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.#errorf(`expected string; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.value;
        return this.#errorf(`expected integer; found ${nodeString(n)}`);
      case 'any':
      case 'value':
        switch (n.type) {
          case 'bool':
            return n.value;
          case 'number':
            return this.#idealConstant(n);
          case 'string':
            return n.text;
        }
    }
    return this.#errorf(`can't handle ${nodeString(n)} for arg of type ${goParamTypeName(type)}`);
  }

  #validateType(value: unknown, type: ParamType): unknown {
    if (value === undefined) {
      if (type === 'value') return undefined;
      if (type === 'any' || type === 'strings') return null;
      this.#errorf(`invalid value; expected ${goParamTypeName(type)}`);
    }
    let ok: boolean;
    switch (type) {
      case 'value':
      case 'any':
        return value;
      case 'string':
        ok = typeof value === 'string';
        break;
      case 'int':
        ok = typeof value === 'number' && Number.isInteger(value);
        break;
      case 'bool':
        ok = typeof value === 'boolean';
        break;
      case 'strings':
        ok = value === null || (Array.isArray(value) && value.every((e) => typeof e === 'string'));
        break;
    }
    if (!ok) {
      const got = value === null ? 'interface {}' : goTypeName(value);
      this.#errorf(`wrong type for value; expected ${goParamTypeName(type)}; got ${got}`);
    }
    return value;
  }
}

export { FuncError };
