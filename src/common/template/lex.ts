/**
 * Lexer for Go's text/template (a port of the state machine in Go's
 * src/text/template/parse/lex.go, without copying its code). The whole input
 * is tokenised up front; an error becomes the last token, exactly as Go's
 * lexer emits an itemError and then stops.
 */

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'comment'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

const keywords: ReadonlySet<ItemType> = new Set<ItemType>([
  'block',
  'break',
  'continue',
  'dot',
  'define',
  'else',
  'end',
  'if',
  'nil',
  'range',
  'template',
  'with',
]);

const keywordWords: Readonly<Record<string, ItemType>> = {
  '.': 'dot',
  block: 'block',
  break: 'break',
  continue: 'continue',
  define: 'define',
  else: 'else',
  end: 'end',
  if: 'if',
  nil: 'nil',
  range: 'range',
  template: 'template',
  with: 'with',
};

export interface Item {
  type: ItemType;
  /** Offset of the token in the input (UTF-16 index). */
  pos: number;
  val: string;
  /** 1-based line of the token start. */
  line: number;
}

/** Go's item.String(), used in "unexpected X in Y" messages. */
export function itemString(i: Item): string {
  if (i.type === 'eof') return 'EOF';
  if (i.type === 'error') return i.val;
  if (keywords.has(i.type)) return `<${i.val}>`;
  if (i.val.length > 10) return `${goQuote(i.val.slice(0, 10))}...`;
  return goQuote(i.val);
}

/** strconv.Quote for the ASCII-ish strings that appear in messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (!isPrintable(c)) {
      out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** Approximation of Go's unicode.IsPrint for quoting. */
export function isPrintable(c: number): boolean {
  if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c === 0xad) return false;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  if (c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0x200b && c <= 0x200f)) return false;
  if (c >= 0xe000 && c <= 0xf8ff) return false;
  if (c === 0xfffe || c === 0xffff || c > 0x10ffff) return false;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(String.fromCodePoint(c));
}

const leftDelim = '{{';
const rightDelim = '}}';
const leftComment = '/*';
const rightComment = '*/';

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphaNumeric = (c: string | undefined) => c !== undefined && c !== '' && /[\p{L}\p{Nd}_]/u.test(c);

function hasLeftTrimMarker(s: string): boolean {
  return s.length >= 2 && s[0] === '-' && isSpace(s[1]);
}

function hasRightTrimMarker(s: string): boolean {
  return s.length >= 2 && isSpace(s[0]) && s[1] === '-';
}

function leftTrimLength(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return i;
}

function rightTrimLength(s: string): number {
  let i = s.length;
  while (i > 0 && isSpace(s[i - 1])) i--;
  return s.length - i;
}

export interface LexOptions {
  /** Whether `break`/`continue` are keywords (false when a function of that name exists). */
  breakOK: boolean;
  continueOK: boolean;
}

/** Tokenises the whole template; the result always ends with an 'eof' or 'error' item. */
export function lex(input: string, options: LexOptions): Item[] {
  const items: Item[] = [];
  let start = 0;
  let pos = 0;
  let parenDepth = 0;
  let failed = false;

  // Tokens arrive in order, so line counting can be incremental.
  let lineCursor = 0;
  let lineCount = 1;
  const lineOf = (p: number) => {
    for (; lineCursor < p; lineCursor++) if (input.charCodeAt(lineCursor) === 10) lineCount++;
    return lineCount;
  };

  const emit = (type: ItemType) => {
    items.push({ type, pos: start, val: input.slice(start, pos), line: lineOf(start) });
    start = pos;
  };
  const ignore = () => {
    start = pos;
  };
  const errorf = (msg: string) => {
    items.push({ type: 'error', pos: start, val: msg, line: lineOf(start) });
    failed = true;
  };
  // next() returns '' at end of input; code points are handled as whole characters.
  const next = (): string => {
    if (pos >= input.length) return '';
    const cp = input.codePointAt(pos)!;
    const ch = String.fromCodePoint(cp);
    pos += ch.length;
    return ch;
  };
  let lastWidth = 0;
  const nextTracked = (): string => {
    const before = pos;
    const ch = next();
    lastWidth = pos - before;
    return ch;
  };
  const backup = () => {
    pos -= lastWidth;
  };
  const peek = (): string => {
    const ch = nextTracked();
    backup();
    return ch;
  };
  const accept = (valid: string): boolean => {
    const ch = nextTracked();
    if (ch !== '' && valid.includes(ch)) return true;
    backup();
    return false;
  };
  const acceptRun = (valid: string) => {
    for (;;) {
      const ch = nextTracked();
      if (ch === '' || !valid.includes(ch)) {
        backup();
        return;
      }
    }
  };
  const atRightDelim = (): { delim: boolean; trimSpace: boolean } => {
    const rest = input.slice(pos);
    if (hasRightTrimMarker(rest) && rest.startsWith(rightDelim, 2)) return { delim: true, trimSpace: true };
    if (rest.startsWith(rightDelim)) return { delim: true, trimSpace: false };
    return { delim: false, trimSpace: false };
  };
  const atTerminator = (): boolean => {
    const r = peek();
    if (r === '' || isSpace(r)) return true;
    if ('.,|:)('.includes(r)) return true;
    return input.startsWith(rightDelim, pos);
  };

  type State = (() => State) | null;

  const lexText = (): State => {
    const x = input.indexOf(leftDelim, pos);
    if (x >= 0) {
      let end = x;
      if (hasLeftTrimMarker(input.slice(x + leftDelim.length))) {
        end = x - rightTrimLength(input.slice(pos, x));
      }
      pos = end;
      if (pos > start) emit('text');
      pos = x;
      start = x;
      return lexLeftDelim;
    }
    pos = input.length;
    if (pos > start) emit('text');
    items.push({ type: 'eof', pos, val: '', line: lineOf(pos) });
    return null;
  };

  const lexLeftDelim = (): State => {
    pos += leftDelim.length;
    const trimSpace = hasLeftTrimMarker(input.slice(pos));
    const afterMarker = trimSpace ? 2 : 0;
    if (input.startsWith(leftComment, pos + afterMarker)) {
      pos += afterMarker;
      ignore();
      return lexComment;
    }
    emit('leftDelim');
    pos += afterMarker;
    ignore();
    parenDepth = 0;
    return lexInsideAction;
  };

  const lexComment = (): State => {
    pos += leftComment.length;
    const x = input.indexOf(rightComment, pos);
    if (x < 0) {
      errorf('unclosed comment');
      return null;
    }
    pos = x + rightComment.length;
    const { delim, trimSpace } = atRightDelim();
    if (!delim) {
      errorf('comment ends before closing delimiter');
      return null;
    }
    // Comments are dropped (Go's lexer only emits them in ParseComments mode).
    if (trimSpace) pos += 2;
    pos += rightDelim.length;
    if (trimSpace) pos += leftTrimLength(input.slice(pos));
    ignore();
    return lexText;
  };

  const lexRightDelim = (): State => {
    const { trimSpace } = atRightDelim();
    if (trimSpace) {
      pos += 2;
      ignore();
    }
    pos += rightDelim.length;
    emit('rightDelim');
    if (trimSpace) {
      pos += leftTrimLength(input.slice(pos));
      ignore();
    }
    return lexText;
  };

  const lexInsideAction = (): State => {
    const { delim } = atRightDelim();
    if (delim) {
      if (parenDepth === 0) return lexRightDelim;
      errorf('unclosed left paren');
      return null;
    }
    const r = nextTracked();
    if (r === '') {
      errorf('unclosed action');
      return null;
    }
    if (isSpace(r)) {
      backup();
      return lexSpace;
    }
    switch (r) {
      case '=':
        emit('assign');
        return lexInsideAction;
      case ':':
        if (nextTracked() !== '=') {
          errorf('expected :=');
          return null;
        }
        emit('declare');
        return lexInsideAction;
      case '|':
        emit('pipe');
        return lexInsideAction;
      case '"':
        return lexQuote;
      case '`':
        return lexRawQuote;
      case '$':
        return lexVariable;
      case "'":
        return lexChar;
      case '(':
        emit('leftParen');
        parenDepth++;
        return lexInsideAction;
      case ')':
        // Go emits the paren before reporting the imbalance, so the parser may fail first.
        emit('rightParen');
        parenDepth--;
        if (parenDepth < 0) {
          errorf(`unexpected right paren ${goRuneDesc(0x29)}`);
          return null;
        }
        return lexInsideAction;
    }
    if (r === '.') {
      // A '.' followed by a non-digit is a field; otherwise it starts a number.
      if (pos < input.length) {
        const c = input[pos]!;
        if (c < '0' || c > '9') return lexField;
      }
    }
    if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
      backup();
      return lexNumber;
    }
    if (isAlphaNumeric(r)) {
      backup();
      return lexIdentifier;
    }
    const cp = r.codePointAt(0)!;
    if (cp <= 0x7f && cp >= 0x20 && cp !== 0x7f) {
      emit('char');
      return lexInsideAction;
    }
    errorf(`unrecognized character in action: ${goRuneDesc(cp)}`);
    return null;
  };

  const lexSpace = (): State => {
    let numSpaces = 0;
    while (isSpace(peek())) {
      nextTracked();
      numSpaces++;
    }
    // A space may be the first half of a trim-marked right delimiter " -}}".
    const rest = input.slice(pos - 1);
    if (hasRightTrimMarker(rest) && rest.startsWith(rightDelim, 2)) {
      pos -= 1;
      if (numSpaces === 1) return lexInsideAction;
    }
    emit('space');
    return lexInsideAction;
  };

  const lexIdentifier = (): State => {
    for (;;) {
      const r = nextTracked();
      if (isAlphaNumeric(r)) continue;
      backup();
      const word = input.slice(start, pos);
      if (!atTerminator()) {
        errorf(`bad character ${goRuneDesc(r.codePointAt(0) ?? 0)}`);
        return null;
      }
      const kw = keywordWords[word];
      if (kw !== undefined && kw !== 'dot') {
        if ((kw === 'break' && !options.breakOK) || (kw === 'continue' && !options.continueOK)) {
          emit('identifier');
        } else emit(kw);
      } else if (word[0] === '.') emit('field');
      else if (word === 'true' || word === 'false') emit('bool');
      else emit('identifier');
      return lexInsideAction;
    }
  };

  const lexFieldOrVariable = (type: 'field' | 'variable'): State => {
    if (atTerminator()) {
      emit(type === 'variable' ? 'variable' : 'dot');
      return lexInsideAction;
    }
    let r: string;
    for (;;) {
      r = nextTracked();
      if (!isAlphaNumeric(r)) {
        backup();
        break;
      }
    }
    if (!atTerminator()) {
      errorf(`bad character ${goRuneDesc(r.codePointAt(0) ?? 0)}`);
      return null;
    }
    emit(type);
    return lexInsideAction;
  };
  const lexField = (): State => lexFieldOrVariable('field');
  const lexVariable = (): State => {
    if (atTerminator()) {
      emit('variable');
      return lexInsideAction;
    }
    return lexFieldOrVariable('variable');
  };

  const lexChar = (): State => {
    for (;;) {
      const r = nextTracked();
      if (r === '\\') {
        const e = nextTracked();
        if (e !== '' && e !== '\n') continue;
      }
      if (r === '\\' || r === '' || r === '\n') {
        errorf('unterminated character constant');
        return null;
      }
      if (r === "'") break;
    }
    emit('charConstant');
    return lexInsideAction;
  };

  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(peek())) {
      nextTracked();
      return false;
    }
    return true;
  };

  const lexNumber = (): State => {
    if (!scanNumber()) {
      errorf(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
      return null;
    }
    const sign = peek();
    if (sign === '+' || sign === '-') {
      // Complex constants (1+2i) are not supported by this port.
      scanNumber();
      errorf(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
      return null;
    }
    emit('number');
    return lexInsideAction;
  };

  const lexQuote = (): State => {
    for (;;) {
      const r = nextTracked();
      if (r === '\\') {
        const e = nextTracked();
        if (e !== '' && e !== '\n') continue;
      }
      if (r === '\\' || r === '' || r === '\n') {
        errorf('unterminated quoted string');
        return null;
      }
      if (r === '"') break;
    }
    emit('string');
    return lexInsideAction;
  };

  const lexRawQuote = (): State => {
    const x = input.indexOf('`', pos);
    if (x < 0) {
      errorf('unterminated raw quoted string');
      return null;
    }
    pos = x + 1;
    emit('rawString');
    return lexInsideAction;
  };

  let state: State = lexText;
  while (state !== null && !failed) state = state();
  return items;
}

/** Go's %#U: U+0041 'A'. */
export function goRuneDesc(cp: number): string {
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrintable(cp) ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
