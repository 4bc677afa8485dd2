/**
 * The build context the CLI sends with `berth build`: the context directory as a tar stream,
 * without what .dockerignore excludes (Docker's rules, via @balena/dockerignore — a port of
 * moby's pattern matcher), with the Dockerfile and .dockerignore always included as the
 * docker CLI does. Symlinks are archived as links, never followed.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import dockerignoreModule, { type Ignore } from '@balena/dockerignore';
import { packTar, type TarWriteEntry } from '../common/tar/index.ts';

// The package is CommonJS whose typings declare an ES default export: at run time the default
// import is the factory itself.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

export async function contextTar(
  dir: string,
  options: { dockerfile?: string; extra?: { name: string; data: Buffer } } = {},
): Promise<Readable> {
  const { dockerfile: dockerfileInContext, extra } = options;
  let patterns: string[] = [];
  try {
    patterns = (await readFile(join(dir, '.dockerignore'), 'utf8')).split('\n');
  } catch {}
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  const keep = new Set(['.dockerignore', ...(dockerfileInContext ? [dockerfileInContext] : [])]);
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    yield* walk(dir, dir, ig, keep);
    if (extra)
      yield {
        header: { name: extra.name, type: 'file', size: extra.data.length, mode: 0o600 },
        body: extra.data,
      };
  }
  return packTar(entries());
}

async function* walk(
  root: string,
  dir: string,
  ig: Ignore,
  keep: Set<string>,
): AsyncGenerator<TarWriteEntry> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const abs = join(dir, name);
    const rel = relative(root, abs).split(sep).join('/');
    const st = await lstat(abs);
    const ignored = ig.ignores(rel) && !keep.has(rel);
    // A directory is walked even when ignored, because a `!` exception may re-include something
    // inside it (moby's walker does the same when exceptions exist).
    if (ignored && !st.isDirectory()) continue;
    const common = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      if (!ignored) yield { header: { name: `${rel}/`, type: 'directory', ...common } };
      yield* walk(root, abs, ig, keep);
    } else if (st.isSymbolicLink()) {
      yield { header: { name: rel, type: 'symlink', linkname: await readlink(abs), ...common } };
    } else if (st.isFile()) {
      yield { header: { name: rel, type: 'file', size: st.size, ...common }, body: createReadStream(abs) };
    }
  }
}
