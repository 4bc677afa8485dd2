/**
 * The classic builder's step cache, kept on disk so it survives restarts:
 * `<dataRoot>/build-cache/<sha256 of key>.json` → `{ "imageId": … }`. The key is the parent
 * image, the step's run config (whose Cmd carries the instruction, the build args it uses and,
 * for COPY/ADD, the content hash of the files), as moby's imageCache compares them.
 * A record whose image is gone is a miss.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, errnoCode, sha256, digestHex } from '../../common/index.ts';
import { writeFileAtomic } from '../../platform/index.ts';

export class BuildCache {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  static key(parent: string, runConfig: unknown): string {
    return digestHex(sha256(`${parent}\n${JSON.stringify(runConfig)}`));
  }

  async get(key: string): Promise<Digest | undefined> {
    try {
      const rec = JSON.parse(await readFile(join(this.#root, `${key}.json`), 'utf8')) as { imageId: Digest };
      return rec.imageId;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  async put(key: string, imageId: Digest): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    await writeFileAtomic(join(this.#root, `${key}.json`), JSON.stringify({ imageId }));
  }

  /** `builder prune`: drops every record; resolves with how many there were. */
  async prune(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 0;
      throw err;
    }
    await Promise.all(names.map((n) => rm(join(this.#root, n), { force: true })));
    return names.length;
  }
}
