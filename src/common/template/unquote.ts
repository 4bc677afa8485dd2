/**
 * Go's strconv.Unquote for the three literal forms a template can hold:
 * "interpreted" strings, `raw` strings and 'c' rune literals. Byte escapes
 * (\xNN, \NNN) are collected as UTF-8 bytes, as Go strings are byte strings.
 */
export function unquoteGo(lit: string): string {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new SyntaxError('invalid syntax');
  const body = lit.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new SyntaxError('invalid syntax');
    return body.replaceAll('\r', '');
  }
  if (q !== '"' && q !== "'") throw new SyntaxError('invalid syntax');
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const pushCp = (cp: number) => {
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new SyntaxError('invalid syntax');
    for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
  };
  let runes = 0;
  for (let i = 0; i < body.length; ) {
    const ch = String.fromCodePoint(body.codePointAt(i)!);
    runes++;
    if (ch === q || ch === '\n') throw new SyntaxError('invalid syntax');
    if (ch !== '\\') {
      pushCp(ch.codePointAt(0)!);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
    if (e !== undefined && simple[e] !== undefined) {
      bytes.push(simple[e]);
    } else if (e === q) {
      bytes.push(q.charCodeAt(0));
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i, i + n);
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw new SyntaxError('invalid syntax');
      i += n;
      const v = Number.parseInt(hex, 16);
      if (e === 'x') {
        if (q === "'") pushCp(v);
        else bytes.push(v);
      } else pushCp(v);
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) throw new SyntaxError('invalid syntax');
      i += 2;
      const v = Number.parseInt(oct, 8);
      if (v > 255) throw new SyntaxError('invalid syntax');
      if (q === "'") pushCp(v);
      else bytes.push(v);
    } else {
      throw new SyntaxError('invalid syntax');
    }
  }
  // Go's UnquoteChar succeeds on the first rune and leaves a tail: a separate error.
  if (q === "'" && runes !== 1) throw new SyntaxError(runes === 0 ? 'invalid syntax' : 'malformed');
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}
