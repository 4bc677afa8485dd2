/**
 * The classic builder's step cache, kept on disk so it survives restarts:
 * `<dataRoot>/build-cache/<sha256 of key>.json` → `{ "imageId": … }`. The key is the parent
 * image, the step's run config (whose Cmd carries the instruction, the build args it uses and,
 * for COPY/ADD, the content hash of the files), as moby's imageCache compares them.
 * A record whose image is gone is a miss. Records read or written are remembered in memory
 * (this daemon is the directory's only writer), so a cached step reads no file.
 */
import { mkdir, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, errnoCode, sha256, digestHex } from '../../common/index.ts';
import { writeFileAtomic } from '../../platform/index.ts';

/** How many COPY --from source summaries are remembered (the oldest are forgotten first). */
const SUMMARY_LIMIT = 4096;

export class BuildCache {
  readonly #root: string;
  readonly #memo = new Map<string, Digest>();
  readonly #summaries = new Map<string, string>();

  readonly #trackUse: boolean;

  /** `trackUse`: record each hit as a use (builder.gc needs it; costs two syscalls a hit). */
  constructor(root: string, options: { trackUse?: boolean } = {}) {
    this.#root = root;
    this.#trackUse = options.trackUse === true;
  }

  /** `extra`: what else the step's result depends on that the run config does not show. */
  static key(parent: string, runConfig: unknown, extra?: string): string {
    const more = extra === undefined ? '' : `\n${extra}`;
    return digestHex(sha256(`${parent}\n${JSON.stringify(runConfig)}${more}`));
  }

  /**
   * The memo key of a COPY --from's source summary: an image ID names its content (the config
   * lists every layer's digest), so the same sources of the same image always hash the same.
   */
  static summaryKey(imageId: Digest, sources: string[]): string {
    return `${imageId}\n${JSON.stringify(sources)}`;
  }

  /**
   * A COPY --from source summary computed before (in this daemon's lifetime), so a cached step
   * neither mounts the image nor reads its files again.
   */
  sourceSummary(key: string): string | undefined {
    return this.#summaries.get(key);
  }

  rememberSourceSummary(key: string, summary: string): void {
    if (this.#summaries.size >= SUMMARY_LIMIT) this.#summaries.delete(this.#summaries.keys().next().value!);
    this.#summaries.set(key, summary);
  }

  /** The record's image; a hit counts as a use (see #touch). */
  async get(key: string): Promise<Digest | undefined> {
    const imageId = await this.#read(key);
    if (imageId !== undefined) this.#touch(key);
    return imageId;
  }

  async #read(key: string): Promise<Digest | undefined> {
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    try {
      const rec = JSON.parse(await readFile(join(this.#root, `${key}.json`), 'utf8')) as { imageId: Digest };
      this.#memo.set(key, rec.imageId);
      return rec.imageId;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  /**
   * A hit is a use: the record's atime says when it was last used (builder.gc's `unused-for`),
   * set explicitly because relatime mounts update it at most daily. Best effort.
   */
  #touch(key: string): void {
    if (!this.#trackUse) return;
    const path = join(this.#root, `${key}.json`);
    void stat(path)
      .then((st) => utimes(path, new Date(), st.mtime))
      .catch(() => {});
  }

  async put(key: string, imageId: Digest): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    await writeFileAtomic(join(this.#root, `${key}.json`), JSON.stringify({ imageId }));
    this.#memo.set(key, imageId);
  }

  /** Every record: its key, the image it names and when it was written / last read. */
  async list(): Promise<Array<{ key: string; imageId: Digest; created: Date; lastUsed: Date }>> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const out: Array<{ key: string; imageId: Digest; created: Date; lastUsed: Date }> = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const key = name.slice(0, -'.json'.length);
      const imageId = await this.#read(key); // listing is no use
      const st = await stat(join(this.#root, name)).catch(() => undefined);
      if (imageId && st) out.push({ key, imageId, created: st.mtime, lastUsed: st.atime });
    }
    return out;
  }

  /** `builder prune`: drops every record (or those `keep` spares); resolves with the keys dropped. */
  async prune(keep: (rec: { key: string; created: Date }) => boolean = () => false): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const dropped: string[] = [];
    this.#summaries.clear();
    for (const n of names) {
      const key = n.endsWith('.json') ? n.slice(0, -'.json'.length) : n;
      const st = await stat(join(this.#root, n)).catch(() => undefined);
      if (st && keep({ key, created: st.mtime })) continue;
      this.#memo.delete(key);
      await rm(join(this.#root, n), { force: true });
      dropped.push(key);
    }
    return dropped;
  }
}
