/**
 * The registry server's filesystem storage, shaped like distribution's:
 *
 *   <root>/blobs/sha256/<hex>                          every blob and manifest, once (ContentStore)
 *   <root>/ingest/                                     blobs being verified
 *   <root>/uploads/<uuid>                              upload sessions' received bytes
 *   <root>/repositories/<name>/_layers/<hex>           blob linked into the repository
 *   <root>/repositories/<name>/_manifests/revisions/<hex>   manifest in the repository (its media type)
 *   <root>/repositories/<name>/_manifests/tags/<tag>   the digest the tag points at
 *   <root>/repositories/<name>/_referrers/<subject hex>/<hex>  manifests whose subject is <subject>
 *
 * Links are small files written atomically; a blob is visible in a repository only after it is
 * complete and verified, so a crash leaves either the old state or the new one.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, digestHex, errnoCode, isDigest } from '../../common/index.ts';
import { ContentStore } from '../../image/index.ts';
import { writeFileAtomic } from '../../platform/index.ts';

export const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export class RegistryStorage {
  readonly root: string;
  readonly content: ContentStore;

  constructor(root: string) {
    this.root = root;
    this.content = new ContentStore({ root });
  }

  async init(): Promise<void> {
    await this.content.init();
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    await mkdir(join(this.root, 'repositories'), { recursive: true });
  }

  uploadPath(id: string): string {
    return join(this.root, 'uploads', id);
  }

  #repo(name: string, ...parts: string[]): string {
    return join(this.root, 'repositories', name, ...parts);
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
      throw err;
    }
  }

  async #link(path: string, content: string): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFileAtomic(path, content);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return this.#exists(this.#repo(name));
  }

  // ---- blobs ----

  async linkBlob(name: string, digest: Digest): Promise<void> {
    await this.#link(this.#repo(name, '_layers', digestHex(digest)), digest);
  }

  async unlinkBlob(name: string, digest: Digest): Promise<boolean> {
    const p = this.#repo(name, '_layers', digestHex(digest));
    if (!(await this.#exists(p))) return false;
    await rm(p, { force: true });
    return true;
  }

  /** A blob readable through `name`: linked as a layer/config, or a manifest of the repository. */
  async hasBlob(name: string, digest: Digest): Promise<boolean> {
    if (!(await this.content.has(digest))) return false;
    return (
      (await this.#exists(this.#repo(name, '_layers', digestHex(digest)))) ||
      (await this.#exists(this.#repo(name, '_manifests', 'revisions', digestHex(digest))))
    );
  }

  // ---- manifests ----

  async putManifest(name: string, digest: Digest, mediaType: string, tag?: string): Promise<void> {
    await this.#link(this.#repo(name, '_manifests', 'revisions', digestHex(digest)), mediaType);
    if (tag !== undefined) await this.#link(this.#repo(name, '_manifests', 'tags', tag), digest);
  }

  async addReferrer(name: string, subject: Digest, digest: Digest): Promise<void> {
    await this.#link(this.#repo(name, '_referrers', digestHex(subject), digestHex(digest)), digest);
  }

  async referrers(name: string, subject: Digest): Promise<Digest[]> {
    const dir = this.#repo(name, '_referrers', digestHex(subject));
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: Digest[] = [];
    for (const n of names) {
      const d = `sha256:${n}`;
      if (isDigest(d) && (await this.manifestType(name, d))) out.push(d);
    }
    return out;
  }

  /** The digest a tag points at, or undefined. */
  async resolveTag(name: string, tag: string): Promise<Digest | undefined> {
    try {
      const d = (await readFile(this.#repo(name, '_manifests', 'tags', tag), 'utf8')).trim();
      return isDigest(d) ? d : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  /** The media type of a manifest revision of the repository, or undefined when it has none. */
  async manifestType(name: string, digest: Digest): Promise<string | undefined> {
    try {
      return (await readFile(this.#repo(name, '_manifests', 'revisions', digestHex(digest)), 'utf8')).trim();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  async tags(name: string): Promise<string[]> {
    const names = await readdir(this.#repo(name, '_manifests', 'tags')).catch(() => [] as string[]);
    return names.filter((t) => TAG_RE.test(t)).sort();
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    const p = this.#repo(name, '_manifests', 'tags', tag);
    if (!(await this.#exists(p))) return false;
    await rm(p, { force: true });
    return true;
  }

  /** Deletes a manifest revision and every tag pointing at it. */
  async deleteManifest(name: string, digest: Digest): Promise<boolean> {
    const p = this.#repo(name, '_manifests', 'revisions', digestHex(digest));
    if (!(await this.#exists(p))) return false;
    for (const t of await this.tags(name)) {
      if ((await this.resolveTag(name, t)) === digest) await this.deleteTag(name, t);
    }
    await rm(p, { force: true });
    return true;
  }

  /** Every repository name, sorted (a directory holding `_manifests` or `_layers`). */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string) => {
      const entries = await readdir(join(this.root, 'repositories', rel), { withFileTypes: true }).catch(
        () => [],
      );
      if (entries.some((e) => e.name === '_manifests' || e.name === '_layers')) out.push(rel);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_')) await walk(rel ? `${rel}/${e.name}` : e.name);
      }
    };
    await walk('');
    return out.sort();
  }

  /** Every manifest revision of every repository (for garbage collection). */
  async allRevisions(): Promise<Array<{ name: string; digest: Digest }>> {
    const out: Array<{ name: string; digest: Digest }> = [];
    for (const name of await this.repositories()) {
      for (const n of await readdir(this.#repo(name, '_manifests', 'revisions')).catch(
        () => [] as string[],
      )) {
        const d = `sha256:${n}`;
        if (isDigest(d)) out.push({ name, digest: d });
      }
    }
    return out;
  }

  async layerLinks(name: string): Promise<Digest[]> {
    const names = await readdir(this.#repo(name, '_layers')).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  async removeLayerLink(name: string, digest: Digest): Promise<void> {
    await rm(this.#repo(name, '_layers', digestHex(digest)), { force: true });
  }
}
