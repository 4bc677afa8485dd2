/**
 * `berth build` output. Without a terminal (CI, pipes, files) it is the daemon's stream as is:
 * Docker's classic lines (`Step n/m : …`, ` ---> Using cache`, `Successfully built …`).
 * On a terminal the same lines are coloured (steps bold cyan, cache hits green, the builder's
 * bookkeeping dim, success green, warnings yellow) and a summary closes the build:
 * `Built 1a2b3c4d5e6f in 3.2s: 7 steps, 5 from cache, tagged app:1`.
 * NO_COLOR (any value) or TERM=dumb keeps the plain form on a terminal too.
 */
/** SGR codes: [on, off] (util.styleText's table; it is not used because Node 20's skips colour
 * when process.stdout, rather than the stream written to, is not a terminal). */
const SGR = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
  cyan: [36, 39],
} as const;
type Style = keyof typeof SGR | Array<keyof typeof SGR>;

function styleText(style: Style, text: string): string {
  let out = text;
  for (const s of [style].flat().reverse()) out = `\x1b[${SGR[s][0]}m${out}\x1b[${SGR[s][1]}m`;
  return out;
}

export interface BuildOutputTarget {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function useColor(out: BuildOutputTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!out.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export class BuildOutput {
  readonly #out: BuildOutputTarget;
  readonly #color: boolean;
  readonly #started = Date.now();
  #steps = 0;
  #cached = 0;
  #tags: string[] = [];

  constructor(out: BuildOutputTarget, options: { color: boolean }) {
    this.#out = out;
    this.#color = options.color;
  }

  /** One `stream` text of the build. */
  stream(text: string): void {
    if (/^Step \d+\/\d+ : /.test(text)) this.#steps++;
    if (text === ' ---> Using cache\n') this.#cached++;
    const tagged = /^Successfully tagged (.*)\n$/.exec(text);
    if (tagged) this.#tags.push(tagged[1]!);
    this.#out.write(this.#color ? colorLine(text) : text);
  }

  /** Any other status line of the stream (pull progress while a FROM image is pulled). */
  status(text: string): void {
    this.#out.write(`${this.#color ? styleText('dim', text) : text}\n`);
  }

  /** After success: on a terminal, a one-line summary. */
  finish(imageId: string): void {
    if (!this.#color) return;
    const secs = ((Date.now() - this.#started) / 1000).toFixed(1);
    const id = imageId.replace(/^sha256:/, '').slice(0, 12);
    const tags = this.#tags.length > 0 ? `, tagged ${this.#tags.join(', ')}` : '';
    const steps = `${this.#steps} step${this.#steps === 1 ? '' : 's'}, ${this.#cached} from cache`;
    this.#out.write(`${styleText(['bold', 'green'], `Built ${id}`)} in ${secs}s: ${steps}${tags}\n`);
  }
}

const LINE_STYLES: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [
    /^(Step \d+\/\d+)( : )(.*)\n$/s,
    (m) => `${paint(['bold', 'cyan'], m[1]!)}${m[2]}${paint('bold', m[3]!)}\n`,
  ],
  [/^( ---> )(Using cache)\n$/, (m) => `${paint('dim', m[1]!)}${paint('green', m[2]!)}\n`],
  [/^( ---> )(Running in [0-9a-f]+)\n$/, (m) => `${paint('dim', m[1]! + m[2]!)}\n`],
  [/^( ---> )([0-9a-f]*)\n$/, (m) => `${paint('dim', m[1]!)}${paint('yellow', m[2]!)}\n`],
  [/^(Removing intermediate container [0-9a-f]+)\n$/, (m) => `${paint('dim', m[1]!)}\n`],
  [/^(Successfully (?:built|tagged) .*)\n$/, (m) => `${paint('green', m[1]!)}\n`],
  [/^(\[Warning\] .*)\n$/s, (m) => `${paint('yellow', m[1]!)}\n`],
  [/^(# Executing \d+ build triggers?)\n$/, (m) => `${paint('magenta', m[1]!)}\n`],
];

const paint = (style: Style, text: string) => styleText(style, text);

/** The builder's own lines, coloured; anything else (RUN output) unchanged. */
export function colorLine(text: string): string {
  for (const [re, fmt] of LINE_STYLES) {
    const m = re.exec(text);
    if (m) return fmt(m);
  }
  return text;
}
