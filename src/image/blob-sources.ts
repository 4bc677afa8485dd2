/**
 * Where blobs came from and went to (moby's distribution/metadata V2MetadataService): for each
 * blob digest, the repositories (`domain/path`, e.g. `127.0.0.1:5000/team/app`) it was pulled
 * from, pushed to or found in, oldest first, at most 50 per blob; and for each local layer
 * (by diff ID) the compressed blob a push made of it. A push to another repository of the same
 * registry mounts the blob from one of them instead of uploading it, and a local layer pushed
 * before is looked for and mounted by that blob's digest without compressing it again.
 *
 * Saved as `<root>/distribution/blob-sources.json` (`{"repositories": {digest: [repo…]},
 * "compressed": {diffID: descriptor}}`, written atomically, saves serialised); losing it only
 * costs uploads, so an unreadable file is logged and ignored.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, isDigest, type Logger } from '../common/index.ts';
import { writeJsonAtomic } from '../platform/index.ts';
import { readJsonFile } from './json-file.ts';

const MAX_PER_BLOB = 50;

/** The compressed blob a push made of a layer. */
export interface CompressedBlob {
  mediaType: string;
  digest: Digest;
  size: number;
}

interface SourcesFile {
  repositories?: Record<string, unknown>;
  compressed?: Record<string, Partial<CompressedBlob>>;
}

export class BlobSources {
  readonly #dir: string;
  readonly #path: string;
  readonly #log: Logger;
  readonly #sources = new Map<Digest, string[]>();
  readonly #compressed = new Map<Digest, CompressedBlob>();
  #saving: Promise<void> = Promise.resolve();

  constructor(options: { root: string; log: Logger }) {
    this.#dir = join(options.root, 'distribution');
    this.#path = join(this.#dir, 'blob-sources.json');
    this.#log = options.log;
  }

  async load(): Promise<void> {
    this.#sources.clear();
    this.#compressed.clear();
    const file = await readJsonFile<SourcesFile>(this.#path, this.#log);
    for (const [digest, repos] of Object.entries(file?.repositories ?? {})) {
      if (!isDigest(digest) || !Array.isArray(repos)) continue;
      const list = repos.filter((r): r is string => typeof r === 'string');
      if (list.length) this.#sources.set(digest, list.slice(-MAX_PER_BLOB));
    }
    for (const [diffId, c] of Object.entries(file?.compressed ?? {})) {
      if (!isDigest(diffId) || !c || !isDigest(c.digest ?? '') || typeof c.size !== 'number') continue;
      if (typeof c.mediaType !== 'string') continue;
      this.#compressed.set(diffId, { mediaType: c.mediaType, digest: c.digest!, size: c.size });
    }
  }

  /** The compressed blob last pushed for the layer with this diff ID, if any. */
  compressed(diffId: Digest | string): CompressedBlob | undefined {
    const c = this.#compressed.get(diffId as Digest);
    return c ? { ...c } : undefined;
  }

  /** Records the compressed blob made of a layer. */
  async setCompressed(diffId: Digest | string, blob: CompressedBlob): Promise<void> {
    if (!isDigest(diffId) || !isDigest(blob.digest)) return;
    this.#compressed.set(diffId, { mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
    await this.#save();
  }

  /** The repositories known to hold `digest`, oldest first. */
  get(digest: Digest | string): string[] {
    return [...(this.#sources.get(digest as Digest) ?? [])];
  }

  /** Records that `repository` holds each of `digests` (as the newest entry). */
  async add(digests: string | readonly string[], repository: string): Promise<void> {
    for (const digest of typeof digests === 'string' ? [digests] : digests) {
      if (!isDigest(digest)) continue;
      const list = (this.#sources.get(digest) ?? []).filter((r) => r !== repository);
      list.push(repository);
      this.#sources.set(digest, list.slice(-MAX_PER_BLOB));
    }
    await this.#save();
  }

  /** Forgets that `repository` holds `digest` (a mount from it failed). */
  async remove(digest: Digest | string, repository: string): Promise<void> {
    const list = this.#sources.get(digest as Digest);
    if (!list?.includes(repository)) return;
    const rest = list.filter((r) => r !== repository);
    if (rest.length) this.#sources.set(digest as Digest, rest);
    else this.#sources.delete(digest as Digest);
    await this.#save();
  }

  #save(): Promise<void> {
    const next = this.#saving.then(async () => {
      await mkdir(this.#dir, { recursive: true });
      const file: SourcesFile = {
        repositories: Object.fromEntries(this.#sources),
        compressed: Object.fromEntries(this.#compressed),
      };
      await writeJsonAtomic(this.#path, file);
    });
    this.#saving = next.catch(() => {});
    return next;
  }
}
