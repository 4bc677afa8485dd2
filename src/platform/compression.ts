/**
 * Stream compression for layers and archives: gzip through node:zlib, zstd/xz/bzip2 through
 * Debian's command-line tools (Node 20 has no zstd; docker load accepts all four), detected by
 * their magic bytes as Docker's pkg/archive DetectCompression does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { invalidParameter } from '../common/index.ts';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** Docker's DetectCompression: the magic numbers at the start of the stream. */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts([0x1f, 0x8b, 0x08])) return 'gzip';
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (starts([0x42, 0x5a, 0x68])) return 'bzip2';
  return 'none';
}

/** A Duplex that runs `cmd args`, feeding it the input and yielding its stdout; a failing exit is an error. */
function processTransform(cmd: string, args: string[]): Duplex {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString();
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    },
  );
  child.stdin.on('error', () => {});
  async function* output() {
    try {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      const r = await closed;
      if (r.error) throw invalidParameter(`${cmd}: ${r.error.message}`, { cause: r.error });
      if (r.code !== 0) {
        throw invalidParameter(
          `${cmd} ${args.join(' ')} failed: ${stderr.trim() || `exit ${r.code ?? r.signal}`}`,
        );
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
  return Duplex.from({ writable: child.stdin, readable: Readable.from(output()) });
}

/** A Transform that decompresses the given format (identity for 'none'). */
export function decompressor(kind: Compression): Duplex {
  switch (kind) {
    case 'none':
      return new PassThrough();
    case 'gzip':
      return createGunzip();
    case 'zstd':
      return processTransform('zstd', ['-d', '-c', '-q']);
    case 'xz':
      return processTransform('xz', ['-d', '-c', '-q']);
    case 'bzip2':
      return processTransform('bzip2', ['-d', '-c', '-q']);
  }
}

const hasPigz = ['/usr/bin/pigz', '/bin/pigz'].some((p) => existsSync(p));

/**
 * A Transform that compresses: gzip through Debian's pigz when installed (parallel, as Docker's
 * pgzip; `-n` leaves name and time out, so the same input always gives the same bytes), else
 * node:zlib; zstd through the zstd CLI.
 */
export function compressor(kind: 'gzip' | 'zstd'): Duplex {
  if (kind === 'zstd') return processTransform('zstd', ['-3', '-c', '-q', '-T0']);
  return hasPigz ? processTransform('pigz', ['-6', '-n', '-c']) : createGzip({ level: 6 });
}

/**
 * Decompresses `source` whatever it is compressed with (sniffed from its first bytes), as docker
 * load and Docker's layer registration do. The returned stream carries the source's errors.
 */
export function autoDecompress(source: Readable): Readable {
  const out = new PassThrough();
  let decided = false;
  let head = Buffer.alloc(0);
  let inner: Duplex | undefined;
  const decide = () => {
    decided = true;
    inner = decompressor(detectCompression(head));
    inner.on('error', (err) => out.destroy(err));
    inner.pipe(out);
    inner.write(head);
  };
  source.on('data', (c: Buffer) => {
    if (decided) {
      if (!inner!.write(c)) {
        source.pause();
        inner!.once('drain', () => source.resume());
      }
      return;
    }
    head = Buffer.concat([head, c]);
    if (head.length >= 8) decide();
  });
  source.on('end', () => {
    if (!decided) decide();
    inner!.end();
  });
  source.on('error', (err) => out.destroy(err));
  out.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return out;
}
