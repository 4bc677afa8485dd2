/**
 * Moving bytes over a hijacked attach/exec connection (docker/cli hijack.go): the terminal in
 * raw mode when there is a TTY, stdin to the socket (half-closing it at EOF), the socket to
 * stdout/stderr (demultiplexed when there is no TTY), and docker's detach keys (Ctrl-P Ctrl-Q by
 * default) watched on stdin when there is a TTY. The daemon applies detach keys only with a
 * TTY (moby container/stream/attach.go), and so do we.
 *
 * Lifecycle: streamHijacked resolves when the output ends (the process exited or the daemon
 * closed the connection) or the user typed the detach keys; it always restores the terminal
 * and stops reading stdin before it settles.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import { outputFrames } from '../client/index.ts';
import { loadChildProcess } from '../common/index.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** moby/term ToBytes: `ctrl-p,ctrl-q` → [16, 17]; `a,b` → [97, 98]. */
export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(k);
    if (!m) throw new Error(`Unknown character: '${key}'`);
    const c = m[1] as string;
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if (c === '@') out.push(0);
    else if (c === '[') out.push(27);
    else if (c === '\\') out.push(28);
    else if (c === ']') out.push(29);
    else if (c === '^') out.push(30);
    else if (c === '_') out.push(31);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return out;
}

/**
 * moby/term EscapeProxy as a function: feed stdin chunks, get back the bytes to forward and
 * whether the sequence completed. Bytes that start the sequence are held back until it is
 * known whether they complete it; a mismatch releases them.
 */
export class DetachKeyWatcher {
  readonly #keys: number[];
  #matched = 0;

  constructor(keys: number[]) {
    this.#keys = keys;
  }

  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.#keys.length > 0 && byte === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      if (this.#matched > 0) {
        out.push(...this.#keys.slice(0, this.#matched));
        this.#matched = 0;
        if (byte === this.#keys[0]) {
          this.#matched = 1;
          continue;
        }
      }
      out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

export interface HijackStreams {
  socket: Duplex;
  tty: boolean;
  /** Where stdin comes from, or undefined when stdin is not attached. */
  stdin?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout?: Writable;
  stderr?: Writable;
  detachKeys?: string;
}

export interface HijackResult {
  detached: boolean;
}

/**
 * libuv's raw mode keeps output processing (ONLCR), so the container's "\r\n" would reach the
 * screen as "\r\r\n"; Docker's raw terminal (moby/term MakeRaw) turns it off. Leaving raw mode
 * restores the terminal's saved settings, OPOST included.
 */
function rawOutput(stdin: Readable): void {
  const fd = (stdin as Readable & { fd?: number }).fd;
  if (typeof fd !== 'number') return;
  loadChildProcess().spawnSync('stty', ['-opost'], { stdio: [fd, 'ignore', 'ignore'] });
}

export async function streamHijacked(s: HijackStreams): Promise<HijackResult> {
  const { socket, tty, stdin } = s;
  const rawMode = tty && stdin?.isTTY === true && typeof stdin.setRawMode === 'function';
  if (rawMode) {
    stdin.setRawMode?.(true);
    rawOutput(stdin);
  }
  const watcher =
    tty && stdin ? new DetachKeyWatcher(parseDetachKeys(s.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;

  let finish: (r: HijackResult) => void = () => {};
  const done = new Promise<HijackResult>((resolve) => {
    finish = resolve;
  });

  const onData = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!watcher) {
      socket.write(buf);
      return;
    }
    const { forward, detached } = watcher.feed(buf);
    if (forward.length) socket.write(forward);
    if (detached) finish({ detached: true });
  };
  const onEnd = () => {
    // Half-close: the container sees EOF on stdin and output keeps flowing (hijack.go CloseWrite).
    if (!socket.writableEnded) socket.end();
  };
  if (stdin) {
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  }

  const output = (async () => {
    try {
      for await (const frame of outputFrames(socket as unknown as Readable, tty)) {
        const target = frame.stream === 2 ? (s.stderr ?? s.stdout) : s.stdout;
        if (frame.stream === 3) continue;
        if (target && !target.write(frame.payload)) {
          await new Promise((r) => target.once('drain', r));
        }
      }
    } catch {
      // A reset connection ends the session like EOF does (docker logs it at debug level).
    }
    finish({ detached: false });
  })();

  const result = await done;
  if (stdin) {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
  }
  if (rawMode) stdin.setRawMode?.(false);
  if (!result.detached) await output;
  socket.destroy();
  return result;
}
