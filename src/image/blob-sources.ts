/**
 * Where blobs came from and went to (moby's distribution/metadata V2MetadataService): for each
 * blob digest, the repositories (`domain/path`, e.g. `127.0.0.1:5000/team/app`) it was pulled
 * from, pushed to or found in, oldest first, at most 50 per blob. A push to another repository
 * of the same registry mounts the blob from one of them instead of uploading it.
 *
 * Saved as `<root>/distribution/blob-sources.json` (written atomically, saves serialised);
 * losing it only costs uploads, so an unreadable file is logged and ignored.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, isDigest, type Logger } from '../common/index.ts';
import { writeJsonAtomic } from '../platform/index.ts';
import { readJsonFile } from './json-file.ts';

const MAX_PER_BLOB = 50;

export class BlobSources {
  readonly #dir: string;
  readonly #path: string;
  readonly #log: Logger;
  readonly #sources = new Map<Digest, string[]>();
  #saving: Promise<void> = Promise.resolve();

  constructor(options: { root: string; log: Logger }) {
    this.#dir = join(options.root, 'distribution');
    this.#path = join(this.#dir, 'blob-sources.json');
    this.#log = options.log;
  }

  async load(): Promise<void> {
    this.#sources.clear();
    const file = await readJsonFile<Record<string, unknown>>(this.#path, this.#log);
    for (const [digest, repos] of Object.entries(file ?? {})) {
      if (!isDigest(digest) || !Array.isArray(repos)) continue;
      const list = repos.filter((r): r is string => typeof r === 'string');
      if (list.length) this.#sources.set(digest, list.slice(-MAX_PER_BLOB));
    }
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
      await writeJsonAtomic(this.#path, Object.fromEntries(this.#sources));
    });
    this.#saving = next.catch(() => {});
    return next;
  }
}
