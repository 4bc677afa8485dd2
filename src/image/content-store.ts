import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Digest, digestHex, errnoCode, invalidParameter, isDigest, notFound } from '../common/index.ts';
import { syncDir } from '../platform/index.ts';

/** What the store knows about a blob. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What a writer must check before it commits a blob. */
export interface ExpectedBlob {
  digest?: Digest | string;
  size?: number;
}

/**
 * Content-addressed blobs in OCI image layout form: `<root>/blobs/sha256/<hex>`.
 *
 * Lifecycle: `init()` once (creates the folders and removes the half-written files of a crash
 * from `<root>/ingest/`), then any number of concurrent `writer()`s and reads. A blob is
 * written by streaming through a hash into `ingest/<random>`, fsynced, checked against the
 * expected digest and size, and renamed into place; a mismatch or an error deletes the temp
 * file, so a blob path only ever holds complete, verified content. Two writers of the same
 * content both succeed (the second rename replaces identical bytes).
 */
export class ContentStore {
  readonly #blobs: string;
  readonly #ingest: string;

  constructor(options: { root: string }) {
    this.#blobs = join(options.root, 'blobs', 'sha256');
    this.#ingest = join(options.root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.#blobs, { recursive: true });
    await rm(this.#ingest, { recursive: true, force: true });
    await mkdir(this.#ingest, { recursive: true });
  }

  /** The file that holds `digest` (it may not exist). */
  path(digest: Digest): string {
    return join(this.#blobs, digestHex(checkDigest(digest)));
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /** Size of a stored blob; NotFound when absent. */
  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound(`blob ${digest} not found`, { cause: err });
      throw err;
    }
  }

  /** A stream of the blob's bytes; NotFound when absent (checked before the stream is returned). */
  async get(digest: Digest, options: { start?: number; end?: number } = {}): Promise<Readable> {
    let fh: FileHandle;
    try {
      fh = await open(this.path(digest), 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound(`blob ${digest} not found`, { cause: err });
      throw err;
    }
    return fh.createReadStream({ start: options.start, end: options.end });
  }

  /** The whole blob in memory: only for small JSON documents (configs, manifests, indexes). */
  async readBytes(digest: Digest, maxSize = 16 * 1024 * 1024): Promise<Buffer> {
    const { size } = await this.info(digest);
    if (size > maxSize) throw invalidParameter(`blob ${digest} is too large (${size} bytes) to read whole`);
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(this.path(digest))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * A Writable that stores what is written to it. After 'finish', `writer.blob` holds the digest
   * and size; with `expected`, finishing fails (and nothing is stored) on a mismatch.
   *   await pipeline(source, store.writer({ digest }), { signal })
   */
  writer(expected: ExpectedBlob = {}): ContentWriter {
    if (expected.digest !== undefined) checkDigest(expected.digest);
    return new ContentWriter(this.#blobs, this.#ingest, expected);
  }

  /** Streams `source` into the store and returns what was stored. */
  async write(source: Readable, expected: ExpectedBlob = {}, options: { signal?: AbortSignal } = {}) {
    const w = this.writer(expected);
    try {
      await pipeline(source, w, { signal: options.signal });
    } catch (err) {
      // pipeline settles on the first error; wait for the writer to remove its temp file.
      if (!w.closed) await once(w, 'close');
      throw err;
    }
    return w.blob;
  }

  /** Stores a small in-memory blob (a config, a manifest). */
  async writeBytes(data: Uint8Array | string, expected: ExpectedBlob = {}): Promise<BlobInfo> {
    const w = this.writer(expected);
    await new Promise<void>((resolve, reject) => {
      w.on('error', reject);
      w.on('finish', resolve);
      w.end(typeof data === 'string' ? Buffer.from(data) : data);
    });
    return w.blob;
  }

  /** Removes a blob; removing an absent blob is not an error. */
  async delete(digest: Digest): Promise<void> {
    try {
      await unlink(this.path(digest));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  /** Every stored digest. */
  async list(): Promise<Digest[]> {
    const names = await readdir(this.#blobs);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }
}

function checkDigest<T extends string>(d: T): T {
  if (!isDigest(d)) throw invalidParameter(`invalid digest: ${d}`);
  return d;
}

/** See ContentStore.writer(). */
export class ContentWriter extends Writable {
  readonly #blobs: string;
  readonly #tmp: string;
  readonly #expected: ExpectedBlob;
  readonly #hash = createHash('sha256');
  #fh: FileHandle | undefined;
  #size = 0;
  #result: BlobInfo | undefined;

  constructor(blobs: string, ingest: string, expected: ExpectedBlob) {
    super();
    this.#blobs = blobs;
    this.#tmp = join(ingest, randomBytes(12).toString('hex'));
    this.#expected = expected;
  }

  /** The stored blob; only valid after 'finish'. */
  get blob(): BlobInfo {
    if (!this.#result) throw new Error('blob read before the writer finished');
    return this.#result;
  }

  override _construct(done: (err?: Error | null) => void): void {
    open(this.#tmp, 'wx', 0o644).then(
      (fh) => {
        this.#fh = fh;
        done();
      },
      (err: Error) => done(err),
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    writeAll(this.#fh!, chunk).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#commit().then(() => done(), done);
  }

  async #commit(): Promise<void> {
    const fh = this.#fh!;
    await fh.sync();
    await fh.close();
    this.#fh = undefined;
    const digest = `sha256:${this.#hash.digest('hex')}` as Digest;
    const { digest: want, size: wantSize } = this.#expected;
    if (want !== undefined && want !== digest) {
      throw invalidParameter(`digest mismatch: expected ${want}, got ${digest}`);
    }
    if (wantSize !== undefined && wantSize !== this.#size) {
      throw invalidParameter(`size mismatch for ${digest}: expected ${wantSize} bytes, got ${this.#size}`);
    }
    await rename(this.#tmp, join(this.#blobs, digestHex(digest)));
    await syncDir(this.#blobs);
    this.#result = { digest, size: this.#size };
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.#result) {
      done(err);
      return;
    }
    const fh = this.#fh;
    this.#fh = undefined;
    const cleanup = async () => {
      await fh?.close().catch(() => {});
      await rm(this.#tmp, { force: true });
    };
    cleanup().then(
      () => done(err),
      () => done(err),
    );
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}
