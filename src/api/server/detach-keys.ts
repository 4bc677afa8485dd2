/**
 * Docker's detach keys, applied by the daemon to a TTY session's stdin (moby
 * container/stream/attach.go with term.NewEscapeProxy): when the client types the sequence
 * (default Ctrl-P Ctrl-Q) the session is detached and the connection closed; the container
 * keeps running. Bytes that start the sequence but do not finish it are passed on.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { invalidParameter } from '../../common/index.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** moby pkg/term ToBytes: `ctrl-<a-z@[\]^_>` or single characters, comma separated. */
export function parseDetachKeys(spec: string): number[] {
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const key = raw.trim();
    if (key.length > 1 && key.toLowerCase().startsWith('ctrl-')) {
      const c = key.slice(5).toLowerCase();
      if (c.length !== 1) throw invalidParameter(`Invalid detach keys (${spec}) provided`);
      const code = c.charCodeAt(0);
      if (code >= 0x61 && code <= 0x7a) out.push(code - 0x60);
      else if ('@[\\]^_'.includes(c)) out.push(code & 0x1f);
      else throw invalidParameter(`Invalid detach keys (${spec}) provided`);
    } else if (key.length === 1) {
      out.push(key.charCodeAt(0));
    } else {
      throw invalidParameter(`Invalid detach keys (${spec}) provided`);
    }
  }
  return out;
}

/** Passes stdin through, holding a partial detach sequence; calls `onDetach` on a full one. */
export class DetachKeyFilter extends Transform {
  readonly #keys: number[];
  readonly #onDetach: () => void;
  #held: number[] = [];
  #detached = false;

  constructor(keys: number[], onDetach: () => void) {
    super();
    this.#keys = keys;
    this.#onDetach = onDetach;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.#detached) {
      done();
      return;
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#held.length]) {
        this.#held.push(b);
        if (this.#held.length === this.#keys.length) {
          this.#detached = true;
          if (out.length) this.push(Buffer.from(out));
          this.#onDetach();
          done();
          return;
        }
        continue;
      }
      if (this.#held.length) {
        out.push(...this.#held);
        this.#held = [];
      }
      if (b === this.#keys[0]) this.#held.push(b);
      else out.push(b);
    }
    if (out.length) this.push(Buffer.from(out));
    done();
  }
}
