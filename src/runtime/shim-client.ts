import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { errnoCode, loadNet, unavailable } from '../common/index.ts';

/**
 * Talks to one container's shim over <stateDir>/shim.sock: one request line per connection
 * (native/runtime/shim.c lists them). Paths too long for sun_path (108 bytes) are reached through
 * /proc/self/fd/<dir fd>/shim.sock.
 */
export async function connectShim(stateDir: string, options?: { signal?: AbortSignal }): Promise<Socket> {
  const direct = join(stateDir, 'shim.sock');
  let dirFd: number | undefined;
  let path = direct;
  if (Buffer.byteLength(direct) > 100) {
    dirFd = openSync(stateDir, 'r');
    path = `/proc/self/fd/${dirFd}/shim.sock`;
  }
  try {
    return await new Promise<Socket>((resolve, reject) => {
      const sock = loadNet().connect({ path, signal: options?.signal });
      sock.once('connect', () => {
        sock.removeListener('error', reject);
        resolve(sock);
      });
      sock.once('error', reject);
    });
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

/** True when the error means "no shim is listening" (it exited, or never started). */
export function isShimGone(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * Sends `line` and resolves with the first reply line (without "\n"), or undefined when the shim
 * closed the connection without one (it was exiting).
 */
export async function shimRequest(
  stateDir: string,
  line: string,
  options?: { signal?: AbortSignal },
): Promise<string | undefined> {
  const sock = await connectShim(stateDir, options);
  return await new Promise<string | undefined>((resolve, reject) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        sock.destroy();
        resolve(buf.slice(0, nl));
      }
    });
    sock.on('end', () => resolve(undefined));
    sock.on('close', () => resolve(undefined));
    sock.on('error', (err) => (isShimGone(err) ? resolve(undefined) : reject(err)));
    sock.write(`${line}\n`);
  });
}

export function shimGone(stateDir: string, options?: { cause?: unknown }) {
  return unavailable(`container shim for ${stateDir} is not running`, options);
}
