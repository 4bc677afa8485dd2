import { join } from 'node:path';
import { type Digest, isDigest, type Logger } from '../common/index.ts';
import { writeJsonAtomic } from '../platform/index.ts';
import { readJsonFile } from './json-file.ts';
import {
  familiarName,
  familiarString,
  type NamedReference,
  parseNormalizedNamed,
  referenceString,
} from './reference.ts';

/** Docker's `repositories.json`: familiar repository → familiar reference → image ID. */
interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

/**
 * The references (tags and digests) that name images, kept in memory in insertion order and
 * saved as `<root>/repositories.json` in Docker's format (familiar names as keys). Keys in
 * memory are full normalised strings (`docker.io/library/busybox:latest`). The ImageStore
 * owns one and serialises its mutations; `save()` writes the whole file atomically.
 */
export class ReferenceStore {
  readonly #path: string;
  readonly #log: Logger;
  readonly #refs = new Map<string, Digest>();

  constructor(options: { root: string; log: Logger }) {
    this.#path = join(options.root, 'repositories.json');
    this.#log = options.log;
  }

  /** Loads the file, keeping only references to images for which `exists` is true. */
  async load(exists: (id: Digest) => boolean): Promise<void> {
    this.#refs.clear();
    const file = await readJsonFile<RepositoriesFile>(this.#path, this.#log);
    for (const byRef of Object.values(file?.Repositories ?? {})) {
      for (const [ref, id] of Object.entries(byRef)) {
        if (!isDigest(id) || !exists(id)) continue;
        try {
          this.#refs.set(referenceString(parseNormalizedNamed(ref)), id);
        } catch {
          this.#log.warn('invalid reference in repositories.json', { ref });
        }
      }
    }
  }

  /** The image a normalised reference names (tag or digest form), if any. */
  get(ref: NamedReference): Digest | undefined {
    return this.#refs.get(referenceString(ref));
  }

  set(ref: NamedReference, id: Digest): void {
    this.#refs.set(referenceString(ref), id);
  }

  delete(ref: NamedReference): boolean {
    return this.#refs.delete(referenceString(ref));
  }

  /** The references to `id`, in the order they were made. */
  referencesTo(id: Digest): NamedReference[] {
    const out: NamedReference[] = [];
    for (const [ref, target] of this.#refs) if (target === id) out.push(parseNormalizedNamed(ref));
    return out;
  }

  async save(): Promise<void> {
    const file: RepositoriesFile = { Repositories: {} };
    for (const [ref, id] of this.#refs) {
      const r = parseNormalizedNamed(ref);
      const repo = familiarName(r);
      file.Repositories[repo] ??= {};
      file.Repositories[repo][familiarString(r)] = id;
    }
    await writeJsonAtomic(this.#path, file);
  }
}
