import { Transform, type TransformCallback } from 'node:stream';
import { invalidParameter } from './errors.ts';
import { loadCrypto } from './lazy-builtins.ts';

/** A content digest as written in OCI descriptors: `sha256:<64 hex>`. */
export type Digest = string & { readonly brand: 'Digest' };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw invalidParameter(`invalid digest: ${s}`);
  return s;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${loadCrypto().createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** The hex part of a digest: the file name under blobs/sha256/. */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/**
 * A pass-through stream that hashes what flows through it. Read `digest` and `size` after the
 * stream has finished.
 */
export class DigestingStream extends Transform {
  readonly #hash = loadCrypto().createHash('sha256');
  #size = 0;
  #digest: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.#digest = `sha256:${this.#hash.digest('hex')}` as Digest;
    done();
  }

  get size(): number {
    return this.#size;
  }

  get digest(): Digest {
    if (!this.#digest) throw new Error('digest read before the stream finished');
    return this.#digest;
  }
}
