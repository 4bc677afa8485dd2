/**
 * Elastic tabstops: a port of Go's text/tabwriter as docker/cli forks it
 * (cli/command/formatter/tabwriter, which measures cells in terminal columns
 * with go-runewidth). Docker's tables use `new TabWriter(10, 1, 3, ' ', 0)`.
 *
 * Lifecycle: write() any number of times, then flush() to get the aligned text;
 * the writer is reset and can be reused. Cells are terminated by '\t' (column
 * breaks) and lines by '\n'; a '\f' also ends every column (like flush).
 * Text after the last tab of a line is not part of a column and is not padded.
 */

export const FilterHTML = 1;
export const StripEscape = 2;
export const AlignRight = 4;
export const DiscardEmptyColumns = 8;
export const TabIndent = 16;
export const Debug = 32;

/** Escape character: text between two of these is passed through unaligned. */
export const Escape = '\xff';

interface Cell {
  size: number; // length in UTF-16 units of the cell text in #buf
  width: number; // display width in terminal columns
  htab: boolean; // terminated by '\t'
}

/** go-runewidth's width of one code point (East Asian wide/fullwidth count 2, combining marks 0). */
export function runeWidth(cp: number): number {
  if (cp === 0) return 0;
  if (cp < 32 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (/[\p{Mn}\p{Me}\p{Cf}]/u.test(String.fromCodePoint(cp)) && cp !== 0xad) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x231a && cp <= 0x231b) ||
    (cp >= 0x2329 && cp <= 0x232a) ||
    (cp >= 0x23e9 && cp <= 0x23ec) ||
    (cp >= 0x25fd && cp <= 0x25fe) ||
    (cp >= 0x2614 && cp <= 0x2615) ||
    (cp >= 0x2648 && cp <= 0x2653) ||
    (cp >= 0x26aa && cp <= 0x26ab) ||
    (cp >= 0x26bd && cp <= 0x26be) ||
    (cp >= 0x26c4 && cp <= 0x26c5) ||
    (cp >= 0x2705 && cp <= 0x2705) ||
    (cp >= 0x270a && cp <= 0x270b) ||
    (cp >= 0x2753 && cp <= 0x2755) ||
    (cp >= 0x2795 && cp <= 0x2797) ||
    (cp >= 0x2b1b && cp <= 0x2b1c) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xa960 && cp <= 0xa97f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe10 && cp <= 0xfe19) ||
    (cp >= 0xfe30 && cp <= 0xfe6f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Display width of a string in terminal columns. */
export function stringWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0)!);
  return w;
}

export class TabWriter {
  readonly #minwidth: number;
  readonly #tabwidth: number;
  readonly #padding: number;
  readonly #padchar: string;
  readonly #flags: number;

  #buf = '';
  #pos = 0;
  #cell: Cell = { size: 0, width: 0, htab: false };
  #endChar = '';
  #lines: Cell[][] = [];
  #widths: number[] = [];
  #out = '';

  /**
   * minwidth: minimal cell width including padding; tabwidth: width of a tab when
   * padchar is '\t'; padding: added to a cell's width; padchar: the padding
   * character; flags: FilterHTML | StripEscape | AlignRight | DiscardEmptyColumns | TabIndent | Debug.
   */
  constructor(minwidth: number, tabwidth: number, padding: number, padchar: string, flags: number) {
    if (minwidth < 0 || tabwidth < 0 || padding < 0)
      throw new RangeError('negative minwidth, tabwidth, or padding');
    this.#minwidth = minwidth;
    this.#tabwidth = tabwidth;
    this.#padding = padding;
    this.#padchar = padchar;
    // Tab padding enforces left alignment.
    this.#flags = padchar === '\t' ? flags & ~AlignRight : flags;
    this.#reset();
  }

  #reset(): void {
    this.#buf = '';
    this.#pos = 0;
    this.#cell = { size: 0, width: 0, htab: false };
    this.#endChar = '';
    this.#lines = [[]];
    this.#widths = [];
  }

  #writePadding(textw: number, cellw: number, useTabs: boolean): void {
    if (this.#padchar === '\t' || useTabs) {
      if (this.#tabwidth === 0) return;
      cellw = Math.ceil(cellw / this.#tabwidth) * this.#tabwidth;
      const n = cellw - textw;
      if (n < 0) throw new Error('internal error');
      this.#out += '\t'.repeat(Math.ceil(n / this.#tabwidth));
      return;
    }
    this.#out += this.#padchar.repeat(Math.max(cellw - textw, 0));
  }

  #writeLines(pos0: number, line0: number, line1: number): number {
    let pos = pos0;
    for (let i = line0; i < line1; i++) {
      const line = this.#lines[i]!;
      let useTabs = (this.#flags & TabIndent) !== 0;
      line.forEach((c, j) => {
        if (j > 0 && (this.#flags & Debug) !== 0) this.#out += '|';
        if (c.size === 0) {
          if (j < this.#widths.length) this.#writePadding(c.width, this.#widths[j]!, useTabs);
        } else {
          useTabs = false;
          if ((this.#flags & AlignRight) === 0) {
            this.#out += this.#buf.slice(pos, pos + c.size);
            pos += c.size;
            if (j < this.#widths.length) this.#writePadding(c.width, this.#widths[j]!, false);
          } else {
            if (j < this.#widths.length) this.#writePadding(c.width, this.#widths[j]!, false);
            this.#out += this.#buf.slice(pos, pos + c.size);
            pos += c.size;
          }
        }
      });
      if (i + 1 === this.#lines.length) {
        // Last buffered line has no newline: write the outstanding cell text.
        this.#out += this.#buf.slice(pos, pos + this.#cell.size);
        pos += this.#cell.size;
      } else {
        this.#out += '\n';
      }
    }
    return pos;
  }

  #format(pos0: number, line0: number, line1: number): number {
    let pos = pos0;
    const column = this.#widths.length;
    for (let t = line0; t < line1; t++) {
      let line = this.#lines[t]!;
      if (column >= line.length - 1) continue;
      // This line has a cell in this column: print the lines before the block.
      pos = this.#writeLines(pos, line0, t);
      line0 = t;
      let width = this.#minwidth;
      let discardable = true;
      for (; t < line1; t++) {
        line = this.#lines[t]!;
        if (column >= line.length - 1) break;
        const c = line[column]!;
        width = Math.max(width, c.width + this.#padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && (this.#flags & DiscardEmptyColumns) !== 0) width = 0;
      this.#widths.push(width);
      pos = this.#format(pos, line0, t);
      this.#widths.pop();
      line0 = t;
    }
    return this.#writeLines(pos, line0, line1);
  }

  #append(text: string): void {
    this.#buf += text;
    this.#cell.size += text.length;
  }

  #updateWidth(): void {
    this.#cell.width += stringWidth(this.#buf.slice(this.#pos));
    this.#pos = this.#buf.length;
  }

  #startEscape(ch: string): void {
    if (ch === Escape) this.#endChar = Escape;
    else if (ch === '<') this.#endChar = '>';
    else if (ch === '&') this.#endChar = ';';
  }

  #endEscape(): void {
    if (this.#endChar === Escape) {
      this.#updateWidth();
      if ((this.#flags & StripEscape) === 0) this.#cell.width -= 2;
    } else if (this.#endChar === ';') {
      this.#cell.width++;
    }
    this.#pos = this.#buf.length;
    this.#endChar = '';
  }

  #terminateCell(htab: boolean): number {
    this.#cell.htab = htab;
    const line = this.#lines[this.#lines.length - 1]!;
    line.push(this.#cell);
    this.#cell = { size: 0, width: 0, htab: false };
    return line.length;
  }

  #flushInternal(): void {
    if (this.#cell.size > 0) {
      if (this.#endChar !== '') this.#endEscape();
      this.#terminateCell(false);
    }
    this.#format(0, 0, this.#lines.length);
    this.#reset();
  }

  /** Buffers text; output is produced by flush(). */
  write(s: string): void {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (this.#endChar === '') {
        if (ch === '\t' || ch === '\v' || ch === '\n' || ch === '\f') {
          this.#append(s.slice(n, i));
          this.#updateWidth();
          n = i + 1;
          const ncells = this.#terminateCell(ch === '\t');
          if (ch === '\n' || ch === '\f') {
            this.#lines.push([]);
            if (ch === '\f' || ncells === 1) {
              // A line with one cell cannot affect later alignment: flush early, as Go does.
              this.#flushInternal();
              if (ch === '\f' && (this.#flags & Debug) !== 0) this.#out += '---\n';
            }
          }
        } else if (ch === Escape) {
          this.#append(s.slice(n, i));
          this.#updateWidth();
          n = i;
          if ((this.#flags & StripEscape) !== 0) n++;
          this.#startEscape(Escape);
        } else if ((ch === '<' || ch === '&') && (this.#flags & FilterHTML) !== 0) {
          this.#append(s.slice(n, i));
          this.#updateWidth();
          n = i;
          this.#startEscape(ch);
        }
      } else if (ch === this.#endChar) {
        let j = i + 1;
        if (ch === Escape && (this.#flags & StripEscape) !== 0) j = i;
        this.#append(s.slice(n, j));
        n = i + 1;
        this.#endEscape();
      }
    }
    this.#append(s.slice(n));
  }

  /** Formats everything buffered and returns the text produced since the last flush. */
  flush(): string {
    this.#flushInternal();
    const out = this.#out;
    this.#out = '';
    return out;
  }
}
