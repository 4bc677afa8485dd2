/**
 * Docker's JSON progress messages (moby pkg/jsonmessage, pkg/progress) and a queue that lets
 * parallel transfers report into one ordered stream.
 */
import { type Readable, Transform } from 'node:stream';

/** One progress line, as Docker writes it on pull/push/load streams. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: Record<string, unknown>;
}

/** Docker's progress bar text: `[=====>      ]  1.23MB/4.56MB` (jsonmessage.JSONProgress.String). */
export function progressText(current: number, total: number): string {
  if (total <= 0) return humanSize(current);
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const arrow = filled > 0 && filled < width ? '>' : filled === width ? '=' : '';
  const bar = `${'='.repeat(Math.max(0, filled - (arrow === '>' ? 1 : 0) - (arrow === '=' ? 1 : 0)))}${arrow}${' '.repeat(width - filled)}`;
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** go-units HumanSize: decimal units with 3 significant digits. */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** Layer ids in progress lines are the first 12 hex digits of the digest. */
export function progressId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * Many producers, one consumer: `push()` from anywhere, iterate once. `close()` ends the
 * iteration after what was queued; `fail(err)` ends it with that error.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  #error: unknown;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  close(): void {
    this.#done = true;
    this.#wake?.();
  }

  fail(err: unknown): void {
    this.#error ??= err;
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift()!;
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((r) => {
        this.#wake = r;
      });
      this.#wake = undefined;
    }
  }
}

/**
 * A throttled reporter of one layer's transfer (`Downloading`, `Extracting`, `Pushing`): the
 * byte count becomes Docker's progress message with the bar text.
 */
export function layerProgress(
  queue: MessageQueue<ProgressMessage>,
  status: string,
  id: string,
  total: number,
): (n: number, force?: boolean) => void {
  return throttle((n) =>
    queue.push({ status, progressDetail: { current: n, total }, progress: progressText(n, total), id }),
  );
}

/**
 * Yields what `work` pushes into `queue` until the work ends, then ends (or throws its error).
 * An early return (the consumer went away) still waits for the work to settle.
 */
export async function* drain<T>(queue: MessageQueue<T>, work: Promise<unknown>): AsyncGenerator<T> {
  work.then(
    () => queue.close(),
    (err) => queue.fail(err),
  );
  try {
    yield* queue;
  } finally {
    await work.catch(() => {});
  }
}

/** A Transform-free byte counter: calls `onProgress(total so far)` at most every `everyMs`. */
export function throttle(fn: (n: number) => void, everyMs = 100): (n: number, force?: boolean) => void {
  let last = 0;
  return (n, force = false) => {
    const now = Date.now();
    if (force || now - last >= everyMs) {
      last = now;
      fn(n);
    }
  };
}

/**
 * `source` passed through a byte counter. A 'data' listener on `source` itself would start it
 * flowing before the HTTP client reads it, and chunks emitted while the request waits for a
 * connection would be lost (the registry then sees a short body).
 */
export function countBytes(source: Readable, onBytes: (n: number) => void): Readable {
  let n = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      onBytes(n);
      done(null, chunk);
    },
  });
  source.on('error', (err) => counter.destroy(err));
  counter.on('close', () => source.destroy());
  return source.pipe(counter);
}
