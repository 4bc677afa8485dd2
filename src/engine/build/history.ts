/**
 * The wording of the classic builder's history comments (moby builder/dockerfile/dispatchers.go
 * and internals.go, as dockerd 20.10 writes them — test/fixtures/dockerfiles/ holds recordings):
 *
 * - metadata steps commit with `Cmd = [shell…, "#(nop) ", comment]`, so `created_by`, the
 *   elements joined by a space, has two spaces after `#(nop)`;
 * - WORKDIR, COPY and ADD commit with `Cmd = [shell…, "#(nop) " + comment]`: one space;
 * - `HEALTHCHECK %q` of the health config struct prints Go's `&{["CMD" "x"] "5s" "3s" "0s" '\x04'}`
 *   (durations by Duration.String, the retry count as a quoted rune);
 * - `docker build --label k=v` appends one `LABEL k=v` step per label, in key order, to the
 *   last stage (moby addNodesForLabelOption), so only the final image carries them.
 */
import type { Instruction, Stage } from '../../dockerfile/index.ts';

/** The Cmd of a metadata step's run config (what the cache compares and history shows). */
export function metaCmd(shell: string[], comment: string): string[] {
  return [...shell, '#(nop) ', comment];
}

/** The Cmd of a WORKDIR/COPY/ADD step's run config. */
export function fsCmd(shell: string[], comment: string): string[] {
  return [...shell, `#(nop) ${comment}`];
}

/** Go's time.Duration.String of a count of nanoseconds: `0s`, `1.5s`, `1m30s`, `2h0m0s`, `500ms`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  const sign = neg ? '-' : '';
  if (u < 1e9) {
    // Under a second: the largest unit that keeps an integer part (ns, µs, ms).
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${fraction(u, div)}${unit}`;
  }
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  const s = `${fraction(u, 1e9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

/** `value / div` with the fractional digits Go prints (trailing zeros dropped). */
function fraction(value: number, div: number): string {
  const whole = Math.floor(value / div);
  const rest = value - whole * div;
  if (rest === 0) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Go's %q of an integer: a quoted rune literal (strconv.QuoteRune). */
export function goQuoteRune(n: number): string {
  const named: Record<number, string> = {
    7: '\\a',
    8: '\\b',
    9: '\\t',
    10: '\\n',
    11: '\\v',
    12: '\\f',
    13: '\\r',
    39: "\\'",
    92: '\\\\',
  };
  if (named[n] !== undefined) return `'${named[n]}'`;
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  if (n < 0x20 || n === 0x7f) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  if (n >= 0x80 && n < 0xa0) return `'\\u${n.toString(16).padStart(4, '0')}'`;
  if (n > 0x10ffff) return "'\\ufffd'"; // not a rune: Go prints the replacement character
  return `'${String.fromCodePoint(n)}'`;
}

/** `HEALTHCHECK %q` of a health config, as moby's dispatchHealthcheck commits it. */
export function healthcheckComment(hc: {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}): string {
  const test = `[${(hc.Test ?? []).map((s) => JSON.stringify(s)).join(' ')}]`;
  const d = (v?: number) => `"${goDuration(v ?? 0)}"`;
  // StartInterval only exists from API 1.44 on (Docker 25+, which then prints it too).
  const startInterval = hc.StartInterval !== undefined ? ` ${d(hc.StartInterval)}` : '';
  return `HEALTHCHECK &{${test} ${d(hc.Interval)} ${d(hc.Timeout)} ${d(hc.StartPeriod)}${startInterval} ${goQuoteRune(hc.Retries ?? 0)}}`;
}

/** EXPOSE's comment: the words as written, sorted (moby parseExpose), then expanded. */
export function exposeWords(raw: string[]): string[] {
  return [...raw].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The stages with one `LABEL k=v` step per `--label` (sorted by key) appended to the last. */
export function withCliLabels(stages: Stage[], labels: Record<string, string>): Stage[] {
  const keys = Object.keys(labels).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const last = stages[stages.length - 1];
  if (keys.length === 0 || !last) return stages;
  const line = last.instructions.at(-1)?.node.endLine ?? last.from.node.endLine;
  const steps: Instruction[] = keys.map((key) => {
    const original = `LABEL ${key}=${labels[key]}`;
    return {
      kind: 'label',
      pairs: [{ key, value: labels[key]! }],
      node: {
        cmd: 'label',
        original,
        rest: `${key}=${labels[key]}`,
        flags: [],
        heredocs: [],
        startLine: line,
        endLine: line,
      },
    };
  });
  return [...stages.slice(0, -1), { ...last, instructions: [...last.instructions, ...steps] }];
}
