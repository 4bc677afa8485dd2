/**
 * Parser for Go's text/template, following the grammar and error messages of
 * Go's src/text/template/parse/parse.go. It produces one Tree per template
 * name: the top-level text plus every {{define}} and {{block}}.
 */
import { TemplateError } from './errors.ts';
import { goQuote, type Item, type ItemType, itemString, lex } from './lex.ts';
import {
  type CommandNode,
  isEmptyTree,
  type ListNode,
  type Node,
  type NumberNode,
  nodeString,
  type PipeNode,
  type Tree,
  type VariableNode,
} from './nodes.ts';
import { unquoteGo } from './unquote.ts';
export interface ParseOptions {
  /** Names of every function the template may call (builtins and extras). */
  hasFunction: (name: string) => boolean;
}

/**
 * Parses `text` as the template `name`. Returns every tree defined by the text,
 * keyed by name (the top-level one under `name`). Throws TemplateError('parse').
 */
export function parseTrees(name: string, text: string, options: ParseOptions): Map<string, Tree> {
  const items = lex(text, {
    breakOK: !options.hasFunction('break'),
    continueOK: !options.hasFunction('continue'),
  });
  const trees = new Map<string, Tree>();
  const parser = new Parser(items, text, name, options, trees);
  parser.parseTop(name);
  return trees;
}

class Parser {
  readonly #items: Item[];
  #next = 0;
  // Go's parser keeps a 3-token look-ahead; token[0] is the last lexed item,
  // whose line goes into error messages.
  readonly #token: Item[] = [];
  #peekCount = 0;
  #vars: string[] = ['$'];
  #rangeDepth = 0;
  #actionLine = 0;
  #tree: Tree;
  readonly #text: string;
  readonly #parseName: string;
  readonly #options: ParseOptions;
  readonly #trees: Map<string, Tree>;

  constructor(
    items: Item[],
    text: string,
    parseName: string,
    options: ParseOptions,
    trees: Map<string, Tree>,
  ) {
    this.#items = items;
    this.#text = text;
    this.#parseName = parseName;
    this.#options = options;
    this.#trees = trees;
    this.#tree = this.#newTree(parseName);
  }

  #newTree(name: string): Tree {
    return { name, parseName: this.#parseName, text: this.#text, root: null as unknown as ListNode };
  }

  #lexNext(): Item {
    const it = this.#items[this.#next];
    if (it === undefined) return this.#items[this.#items.length - 1]!;
    this.#next++;
    return it;
  }

  #nextItem(): Item {
    if (this.#peekCount > 0) this.#peekCount--;
    else this.#token[0] = this.#lexNext();
    return this.#token[this.#peekCount]!;
  }
  #backup(): void {
    this.#peekCount++;
  }
  #backup2(t1: Item): void {
    this.#token[1] = t1;
    this.#peekCount = 2;
  }
  #backup3(t2: Item, t1: Item): void {
    this.#token[1] = t1;
    this.#token[2] = t2;
    this.#peekCount = 3;
  }
  #peek(): Item {
    if (this.#peekCount > 0) return this.#token[this.#peekCount - 1]!;
    this.#peekCount = 1;
    this.#token[0] = this.#lexNext();
    return this.#token[0];
  }
  #nextNonSpace(): Item {
    let t: Item;
    do t = this.#nextItem();
    while (t.type === 'space');
    return t;
  }
  #peekNonSpace(): Item {
    const t = this.#nextNonSpace();
    this.#backup();
    return t;
  }

  #errorf(msg: string): never {
    const line = this.#token[0]?.line ?? 1;
    throw new TemplateError(`template: ${this.#parseName}:${line}: ${msg}`, 'parse');
  }
  #expect(type: ItemType, context: string): Item {
    const t = this.#nextNonSpace();
    if (t.type !== type) this.#unexpected(t, context);
    return t;
  }
  #expectOneOf(a: ItemType, b: ItemType, context: string): Item {
    const t = this.#nextNonSpace();
    if (t.type !== a && t.type !== b) this.#unexpected(t, context);
    return t;
  }
  #unexpected(t: Item, context: string): never {
    if (t.type === 'error') {
      let extra = '';
      if (this.#actionLine !== 0 && this.#actionLine !== t.line) {
        extra = ` in action started at ${this.#parseName}:${this.#actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.#errorf(`${t.val}${extra}`);
    }
    this.#errorf(`unexpected ${itemString(t)} in ${context}`);
  }
  #unquote(t: Item): string {
    try {
      return unquoteGo(t.val);
    } catch {
      return this.#errorf('invalid syntax');
    }
  }

  #list(pos: number): ListNode {
    return { type: 'list', pos, tree: this.#tree, nodes: [] };
  }

  #addTree(tree: Tree): void {
    const old = this.#trees.get(tree.name);
    if (old === undefined || isEmptyTree(old.root)) {
      this.#trees.set(tree.name, tree);
      return;
    }
    if (!isEmptyTree(tree.root))
      this.#errorf(`template: multiple definition of template ${goQuote(tree.name)}`);
  }

  parseTop(name: string): void {
    const tree = this.#tree;
    tree.root = this.#list(this.#peek().pos);
    while (this.#peek().type !== 'eof') {
      if (this.#peek().type === 'leftDelim') {
        const delim = this.#nextItem();
        if (this.#nextNonSpace().type === 'define') {
          this.#withTree(this.#newTree('definition'), () => this.#parseDefinition());
          continue;
        }
        this.#backup2(delim);
      }
      const n = this.#textOrAction();
      if (n.type === 'end' || n.type === 'else') this.#errorf(`unexpected ${nodeString(n)}`);
      tree.root.nodes.push(n);
    }
    tree.name = name;
    this.#addTree(tree);
  }

  /** Parses a nested template (define/block) with its own variable scope. */
  #withTree<T>(tree: Tree, body: () => T): T {
    const saved = { tree: this.#tree, vars: this.#vars, rangeDepth: this.#rangeDepth };
    this.#tree = tree;
    this.#vars = ['$'];
    this.#rangeDepth = 0;
    try {
      return body();
    } finally {
      this.#tree = saved.tree;
      this.#vars = saved.vars;
      this.#rangeDepth = saved.rangeDepth;
    }
  }

  #parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.#expectOneOf('string', 'rawString', context);
    this.#tree.name = this.#unquote(nameTok);
    this.#expect('rightDelim', context);
    const [list, end] = this.#itemList();
    if (end.type !== 'end') this.#errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.#tree.root = list;
    this.#addTree(this.#tree);
  }

  #itemList(): [ListNode, Node] {
    const list = this.#list(this.#peekNonSpace().pos);
    while (this.#peekNonSpace().type !== 'eof') {
      const n = this.#textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    return this.#errorf('unexpected EOF');
  }

  #textOrAction(): Node {
    const t = this.#nextNonSpace();
    switch (t.type) {
      case 'text':
        return { type: 'text', pos: t.pos, tree: this.#tree, text: t.val };
      case 'leftDelim': {
        this.#actionLine = t.line;
        try {
          return this.#action();
        } finally {
          this.#actionLine = 0;
        }
      }
      default:
        return this.#unexpected(t, 'input');
    }
  }

  #action(): Node {
    const t = this.#nextNonSpace();
    switch (t.type) {
      case 'block':
        return this.#blockControl();
      case 'break':
        return this.#breakControl(t, 'break');
      case 'continue':
        return this.#breakControl(t, 'continue');
      case 'else':
        return this.#elseControl();
      case 'end':
        return { type: 'end', pos: this.#expect('rightDelim', 'end').pos, tree: this.#tree };
      case 'if':
        return this.#branch('if');
      case 'range':
        return this.#branch('range');
      case 'template':
        return this.#templateControl();
      case 'with':
        return this.#branch('with');
    }
    this.#backup();
    const tok = this.#peek();
    const pipe = this.#pipeline('command', 'rightDelim');
    return { type: 'action', pos: tok.pos, line: tok.line, tree: this.#tree, pipe };
  }

  #breakControl(t: Item, kind: 'break' | 'continue'): Node {
    const next = this.#nextNonSpace();
    if (next.type !== 'rightDelim') this.#unexpected(next, `{{${kind}}}`);
    if (this.#rangeDepth === 0) this.#errorf(`{{${kind}}} outside {{range}}`);
    return { type: kind, pos: t.pos, line: t.line, tree: this.#tree };
  }

  #elseControl(): Node {
    const peek = this.#peekNonSpace();
    // "{{else if ...}}" and "{{else with ...}}" are treated as "{{else}}{{if ...}}".
    if (peek.type === 'if' || peek.type === 'with') {
      return { type: 'else', pos: peek.pos, line: peek.line, tree: this.#tree };
    }
    const t = this.#expect('rightDelim', 'else');
    return { type: 'else', pos: t.pos, line: t.line, tree: this.#tree };
  }

  #branch(context: 'if' | 'range' | 'with'): Node {
    const mark = this.#vars.length;
    try {
      const pipe = this.#pipeline(context, 'rightDelim');
      if (context === 'range') this.#rangeDepth++;
      const [list, first] = this.#itemList();
      let next = first;
      if (context === 'range') this.#rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        const p = this.#peek().type;
        if ((context === 'if' && p === 'if') || (context === 'with' && p === 'with')) {
          // The chained if/with consumes the shared {{end}}.
          this.#nextItem();
          elseList = this.#list(next.pos);
          elseList.nodes.push(this.#branch(context));
        } else {
          [elseList, next] = this.#itemList();
          if (next.type !== 'end') this.#errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { type: context, pos: pipe.pos, line: pipe.line, tree: this.#tree, pipe, list, elseList };
    } finally {
      this.#vars.length = mark;
    }
  }

  #parseTemplateName(t: Item, context: string): string {
    if (t.type === 'string' || t.type === 'rawString') return this.#unquote(t);
    return this.#unexpected(t, context);
  }

  #templateControl(): Node {
    const context = 'template clause';
    const t = this.#nextNonSpace();
    const name = this.#parseTemplateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.#nextNonSpace().type !== 'rightDelim') {
      this.#backup();
      pipe = this.#pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: t.pos, line: t.line, tree: this.#tree, name, pipe };
  }

  #blockControl(): Node {
    const context = 'block clause';
    const t = this.#nextNonSpace();
    const name = this.#parseTemplateName(t, context);
    const pipe = this.#pipeline(context, 'rightDelim');
    const block = this.#newTree(name);
    this.#withTree(block, () => {
      const [list, end] = this.#itemList();
      if (end.type !== 'end') this.#errorf(`unexpected ${nodeString(end)} in ${context}`);
      block.root = list;
      this.#addTree(block);
    });
    return { type: 'template', pos: t.pos, line: t.line, tree: this.#tree, name, pipe };
  }

  #pipeline(context: string, end: ItemType): PipeNode {
    const tok = this.#peekNonSpace();
    const pipe: PipeNode = {
      type: 'pipe',
      pos: tok.pos,
      line: tok.line,
      tree: this.#tree,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    for (;;) {
      const v = this.#peekNonSpace();
      if (v.type !== 'variable') break;
      this.#nextItem();
      // "$x foo" needs 3-token look-ahead to tell an argument from a declaration.
      const tokenAfterVariable = this.#peek();
      const next = this.#peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.#nextNonSpace();
        pipe.decl.push(this.#variable(v.pos, v.val));
        this.#vars.push(v.val);
      } else if (next.type === 'char' && next.val === ',') {
        this.#nextNonSpace();
        pipe.decl.push(this.#variable(v.pos, v.val));
        this.#vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.#peekNonSpace().type;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.#errorf('range can only initialize variables');
        }
        this.#errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.type === 'space') {
        this.#backup3(v, tokenAfterVariable);
      } else {
        this.#backup2(v);
      }
      break;
    }
    for (;;) {
      const t = this.#nextNonSpace();
      if (t.type === end) {
        this.#checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.#backup();
          pipe.cmds.push(this.#command());
          break;
        default:
          this.#unexpected(t, context);
      }
    }
  }

  #checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.#errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.#errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  #command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.#peekNonSpace().pos, tree: this.#tree, args: [] };
    for (;;) {
      this.#peekNonSpace();
      const operand = this.#operand();
      if (operand !== null) cmd.args.push(operand);
      const t = this.#nextItem();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.#backup();
      else if (t.type !== 'pipe') this.#unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.#errorf('empty command');
    return cmd;
  }

  #operand(): Node | null {
    const node = this.#term();
    if (node === null) return null;
    if (this.#peek().type !== 'field') return node;
    const pos = this.#peek().pos;
    const fields: string[] = [];
    while (this.#peek().type === 'field') fields.push(this.#nextItem().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos, tree: this.#tree, ident: [...node.ident, ...fields] };
      case 'variable':
        return { type: 'variable', pos, tree: this.#tree, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.#errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      default:
        return { type: 'chain', pos, tree: this.#tree, node, field: fields };
    }
  }

  #term(): Node | null {
    const t = this.#nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.#options.hasFunction(t.val)) this.#errorf(`function ${goQuote(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, tree: this.#tree, ident: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos, tree: this.#tree };
      case 'nil':
        return { type: 'nil', pos: t.pos, tree: this.#tree };
      case 'variable':
        return this.#useVar(t.pos, t.val);
      case 'field':
        return { type: 'field', pos: t.pos, tree: this.#tree, ident: t.val.slice(1).split('.') };
      case 'bool':
        return { type: 'bool', pos: t.pos, tree: this.#tree, value: t.val === 'true' };
      case 'charConstant':
      case 'number':
        return this.#number(t);
      case 'leftParen':
        return this.#pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        return { type: 'string', pos: t.pos, tree: this.#tree, quoted: t.val, text: this.#unquote(t) };
    }
    this.#backup();
    return null;
  }

  #variable(pos: number, name: string): VariableNode {
    return { type: 'variable', pos, tree: this.#tree, ident: name.split('.') };
  }

  #useVar(pos: number, name: string): VariableNode {
    const v = this.#variable(pos, name);
    if (!this.#vars.includes(v.ident[0]!)) this.#errorf(`undefined variable ${goQuote(v.ident[0]!)}`);
    return v;
  }

  #number(t: Item): NumberNode {
    const base = { type: 'number' as const, pos: t.pos, tree: this.#tree, text: t.val };
    if (t.type === 'charConstant') {
      let s: string;
      try {
        s = unquoteGo(t.val);
      } catch (e) {
        return this.#errorf(
          (e as Error).message === 'malformed' ? `malformed character constant: ${t.val}` : 'invalid syntax',
        );
      }
      const cp = s.codePointAt(0)!;
      if (String.fromCodePoint(cp) !== s) this.#errorf(`malformed character constant: ${t.val}`);
      return { ...base, isInt: true, isFloat: true, value: cp };
    }
    const parsed = parseGoNumber(t.val);
    if (parsed === 'overflow') this.#errorf(`integer overflow: ${goQuote(t.val)}`);
    if (parsed === null) this.#errorf(`illegal number syntax: ${goQuote(t.val)}`);
    return { ...base, ...parsed };
  }
}

const intPattern =
  /^[+-]?(0[xX](_?[0-9a-fA-F])+|0[bB](_?[01])+|0[oO](_?[0-7])+|0(_?[0-7])*|[1-9](_?[0-9])*)$/;
const decFloatPattern =
  /^[+-]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?$/;
const hexFloatPattern =
  /^([+-]?)0[xX](_?[0-9a-fA-F](_?[0-9a-fA-F])*)?(\.([0-9a-fA-F](_?[0-9a-fA-F])*)?)?[pP]([+-]?[0-9](_?[0-9])*)$/;

/**
 * Go's parse.newNumber for the constants templates use: integers (decimal,
 * 0x, 0o, 0b, leading-0 octal, underscores), decimal and hex floats.
 */
export function parseGoNumber(
  text: string,
): { isInt: boolean; isFloat: boolean; value: number } | 'overflow' | null {
  if (text.endsWith('i')) return null; // imaginary constants are not supported
  if (intPattern.test(text)) {
    const neg = text.startsWith('-');
    let body = text.replace(/^[+-]/, '').replaceAll('_', '');
    if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
    const big = BigInt(body);
    const v = neg ? -big : big;
    if (v > 0xffffffffffffffffn || v < -0x8000000000000000n) {
      return 'overflow';
    }
    if (v > 0x7fffffffffffffffn) return { isInt: false, isFloat: true, value: Number(v) };
    return { isInt: true, isFloat: true, value: Number(v) };
  }
  let f: number | null = null;
  if (decFloatPattern.test(text) && /[0-9]/.test(text)) {
    f = Number(text.replaceAll('_', ''));
  } else {
    const m = hexFloatPattern.exec(text);
    // Groups: 1 sign, 2 integer digits, 5 fraction digits, 7 binary exponent.
    if (m && (m[2] !== undefined || (m[5] !== undefined && m[5] !== ''))) {
      const mant = ((m[2] ?? '') + (m[5] ?? '')).replaceAll('_', '');
      const fracDigits = (m[5] ?? '').replaceAll('_', '').length;
      const exp = Number(m[7]!.replaceAll('_', '')) - 4 * fracDigits;
      f = Number(BigInt('0x' + (mant === '' ? '0' : mant))) * 2 ** exp;
      if (m[1] === '-') f = -f;
    }
  }
  if (f === null || Number.isNaN(f)) return null;
  if (!/[.eEpP]/.test(text)) return 'overflow';
  const isInt = Number.isInteger(f) && Math.abs(f) < 2 ** 63;
  return { isInt, isFloat: true, value: f };
}
