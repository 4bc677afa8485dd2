/**
 * COPY and ADD: which files of the build context (or of another stage's root filesystem) a
 * step copies, their content hash for the cache, and how they are written onto the step's
 * mounted root filesystem (moby builder/dockerfile/copy.go rules):
 *
 * - sources are relative to the context root and may not leave it (`forbidden path outside the
 *   build context`); symlinks among them are followed *inside* the context (an absolute target
 *   starts again at the context root); globs (`*`, `?`, `[…]`) match per path segment;
 * - a directory source copies its contents, not itself;
 * - the destination is a directory when it ends in '/', when there are several sources, or when
 *   it exists as a directory in the image; relative destinations are under WORKDIR;
 * - files are owned by 0:0 unless `--chown`, with `--chmod` replacing the permission bits;
 *   missing parents of the destination are created 0755 with the same owner;
 * - ADD unpacks a local tar (plain or gzip, bzip2, xz) into the destination.
 *
 * The files are written by the safe extractor (extractEntries) straight from where they are:
 * context files from their ranges of the spooled context tar, nothing unpacked beforehand.
 */
import { spawn } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { invalidParameter, TYPEFLAG, type TarHeader } from '../../common/index.ts';
import { type ExtractEntry, RootResolver, extractEntries, extractTar } from '../../platform/index.ts';
import { type SourceFs, type SourceStat, diskFs } from './source-fs.ts';

/**
 * One filesystem object to copy: where it is (a path of `fs`) and where it goes (relative to the
 * rootfs).
 */
export interface CopyItem {
  host: string;
  dest: string;
  stat: SourceStat;
  linkname?: string;
  fs: SourceFs;
}

export interface CopyPlan {
  items: CopyItem[];
  /** Local archives ADD unpacks: path of `fs` → destination directory (rootfs-relative). */
  archives: Array<{ host: string; destDir: string; fs: SourceFs }>;
  /** Missing parent directories of destinations, shallowest first (rootfs-relative). */
  parents: string[];
}

const hasGlob = (p: string) => /[*?[]/.test(p);

/** Resolves `rel` under `root` following symlinks inside the root (FollowSymlinkInScope). */
export function resolveInScope(root: string, rel: string, fs: SourceFs = diskFs): string {
  const done: string[] = [];
  const todo = rel.split('/').reverse();
  let hops = 0;
  while (todo.length > 0) {
    const comp = todo.pop()!;
    if (comp === '' || comp === '.') continue;
    if (comp === '..') {
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, comp);
    const st = fs.lstat(host);
    if (!st) {
      done.push(comp);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 255) throw invalidParameter(`too many links resolving ${rel}`);
      const target = fs.readlink(host);
      if (target.startsWith('/')) done.length = 0;
      todo.push(...target.split('/').reverse());
    } else done.push(comp);
  }
  return posix.join(root, ...done);
}

/** Go's filepath.Match for one pattern against a slash path (segments must match one by one). */
export function globMatch(pattern: string, name: string): boolean {
  const ps = pattern.split('/');
  const ns = name.split('/');
  if (ps.length !== ns.length) return false;
  return ps.every((p, i) => new RegExp(`^${segmentRegExp(p)}$`).test(ns[i]!));
}

function segmentRegExp(p: string): string {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 1);
      if (end < 0) throw invalidParameter('syntax error in pattern');
      let body = p.slice(i + 1, end);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body}]`;
      i = end;
    } else if (c === '\\' && i + 1 < p.length) re += `\\${p[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return re;
}

/** Relative names of everything under `root` (depth first, sorted), for glob matching. */
function listAll(root: string, fs: SourceFs): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const dir = rel ? posix.join(root, rel) : root;
    for (const name of fs.readdir(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      out.push(r);
      if (fs.lstat(posix.join(root, r))?.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//.test(s);
}

export interface PlanInput {
  /** The source root: the context directory or another stage's mounted rootfs (realpath). */
  root: string;
  sources: string[];
  /** Absolute destination in the image (WORKDIR applied), trailing '/' kept. */
  dest: string;
  /** The step's mounted rootfs, to see what exists at the destination. */
  rootfs: string;
  isAdd: boolean;
  /** Errors say `COPY failed:` / `ADD failed:` as Docker. */
  verb: 'COPY' | 'ADD';
  /** Sources come from a stage or image (no .dockerignore wording in errors). */
  fromStage: boolean;
  /** The sources already matched (matchSources), to avoid matching twice. */
  matched?: MatchedSource[];
  /** Where the sources are read (default: the disk). */
  fs?: SourceFs;
}

/** One matched source: its name as written (glob-expanded) and its path on the host. */
export interface MatchedSource {
  rel: string;
  host: string;
}

/**
 * The sources a COPY/ADD names, globs expanded and symlinks resolved inside the root; throws
 * Docker's errors for URLs, missing sources and sources outside the context. Needs no rootfs, so
 * the step's cache key can be computed before any snapshot is prepared.
 */
export function matchSources(
  input: Pick<PlanInput, 'root' | 'sources' | 'verb' | 'fromStage'>,
  fs: SourceFs = diskFs,
): MatchedSource[] {
  const { root, verb } = input;
  const matched: MatchedSource[] = [];
  for (const raw of input.sources) {
    if (isUrl(raw)) throw invalidParameter(`${verb} failed: source can't be a URL for COPY`);
    const clean = posix.normalize(`/${raw}`).slice(1) || '.';
    if (posix.normalize(raw).startsWith('../') || posix.normalize(raw) === '..') {
      if (!input.fromStage)
        throw invalidParameter(`${verb} failed: forbidden path outside the build context: ${raw} ()`);
    }
    if (hasGlob(clean)) {
      const names = listAll(root, fs).filter((n) => globMatch(clean, n));
      for (const n of names) matched.push({ rel: n, host: resolveInScope(root, n, fs) });
      if (names.length === 0) throw notFoundError(verb, raw, input.fromStage);
      continue;
    }
    const host = resolveInScope(root, clean, fs);
    if (!fs.lstat(host)) throw notFoundError(verb, raw, input.fromStage);
    matched.push({ rel: clean, host });
  }
  return matched;
}

/** Lists what a COPY/ADD copies; throws Docker's errors for missing or escaping sources. */
export async function planCopy(input: PlanInput): Promise<CopyPlan> {
  const { rootfs, verb } = input;
  const rootfsResolver = new RootResolver(rootfs);
  const fs = input.fs ?? diskFs;
  const matched = input.matched ?? matchSources(input, fs);

  const dest = input.dest;
  let destIsDir = dest.endsWith('/') || dest.endsWith('/.');
  if (matched.length > 1 && !destIsDir) {
    throw invalidParameter(
      `When using ${verb} with more than one source file, the destination must be a directory and end with a /`,
    );
  }
  const destRel = posix.normalize(dest).replace(/^\/+/, '').replace(/\/+$/, '') || '.';
  if (!destIsDir) destIsDir = existsAsDir(rootfsResolver, destRel);

  const items: CopyItem[] = [];
  const archives: CopyPlan['archives'] = [];
  for (const m of matched) {
    const st = fs.lstat(m.host);
    if (!st) throw notFoundError(verb, m.rel, input.fromStage);
    if (st.isDirectory()) {
      // The directory's contents go into the destination (the directory itself becomes it).
      items.push({ host: m.host, dest: destRel, stat: st, fs });
      walkInto(fs, m.host, destRel, items);
    } else if (input.isAdd && st.isFile() && (await archiveKind(fs, m.host)) !== undefined) {
      archives.push({ host: m.host, destDir: destRel, fs });
    } else {
      const target = destIsDir ? posix.join(destRel, posix.basename(m.rel)) : destRel;
      items.push({ host: m.host, dest: target, stat: st, fs, ...linkOf(fs, m.host, st) });
    }
  }
  // Missing parents of every destination, created before the entries.
  const parents = new Set<string>();
  // Each directory once: a directory source lists every file below it.
  const firstLevel = new Set([
    ...items.map((i) => posix.dirname(i.dest)),
    ...archives.map((a) => a.destDir),
    ...(destIsDir ? [destRel] : []),
  ]);
  for (const d of firstLevel) {
    let p = d;
    const chain: string[] = [];
    while (p !== '.' && p !== '/' && p !== '' && !existsAsDir(rootfsResolver, p)) {
      chain.unshift(p);
      p = posix.dirname(p);
    }
    for (const c of chain) parents.add(c);
  }
  return {
    items,
    archives,
    parents: [...parents].sort((a, b) => a.split('/').length - b.split('/').length),
  };
}

export function notFoundError(verb: string, raw: string, fromStage: boolean) {
  return invalidParameter(
    fromStage
      ? `${verb} failed: stat ${raw}: file does not exist`
      : `${verb} failed: file not found in build context or excluded by .dockerignore: stat ${raw}: file does not exist`,
  );
}

function existsAsDir(resolver: RootResolver, rel: string): boolean {
  if (rel === '.' || rel === '') return true;
  try {
    const host = resolver.resolveDir(rel, false);
    return lstatSync(host).isDirectory();
  } catch {
    return false;
  }
}

function linkOf(fs: SourceFs, host: string, st: SourceStat): { linkname?: string } {
  return st.isSymbolicLink() ? { linkname: fs.readlink(host) } : {};
}

function walkInto(fs: SourceFs, dir: string, destRel: string, items: CopyItem[]): void {
  for (const name of fs.readdir(dir).sort()) {
    const host = posix.join(dir, name);
    const st = fs.lstat(host);
    const dest = destRel === '.' ? name : posix.join(destRel, name);
    if (!st || st.isSocket()) continue;
    items.push({ host, dest, stat: st, fs, ...linkOf(fs, host, st) });
    if (st.isDirectory()) walkInto(fs, host, dest, items);
  }
}

type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

/** What kind of archive a file is, from its first 512 bytes; undefined when it is none. */
async function archiveKind(fs: SourceFs, path: string): Promise<ArchiveKind | undefined> {
  const buf = await readHead(fs.read(path), 512);
  const n = buf.length;
  if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (n >= 3 && buf.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && buf.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (n >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

/** Up to the first `n` bytes of a stream, which is then closed. */
async function readHead(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const c of stream) {
      chunks.push(c as Buffer);
      got += (c as Buffer).length;
      if (got >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

export interface Owner {
  uid: number;
  gid: number;
}

/** Copies the plan onto the mounted rootfs (through a tar, so the safe extractor writes it). */
export async function applyCopy(
  plan: CopyPlan,
  rootfs: string,
  options: {
    owner: Owner;
    chmod?: number | ((perm: number, isDir: boolean) => number);
    signal?: AbortSignal;
  },
): Promise<void> {
  const { owner, chmod } = options;
  const header = (
    h: Pick<TarHeader, 'name' | 'type' | 'mode' | 'mtime'> & { size?: number; linkname?: string },
  ): TarHeader => ({
    typeflag: TYPEFLAG[h.type as keyof typeof TYPEFLAG],
    uid: owner.uid,
    gid: owner.gid,
    size: 0,
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    pax: new Map(),
    ...h,
    mode: h.mode & 0o7777,
  });
  // The entries go straight to the extractor (its rules and safety, no tar in between).
  function* entries(): Generator<ExtractEntry> {
    for (const p of plan.parents) {
      yield { header: header({ name: `${p}/`, type: 'directory', mode: 0o755, mtime: Date.now() / 1000 }) };
    }
    for (const item of plan.items) {
      const st = item.stat;
      const perm =
        typeof chmod === 'function' ? chmod(st.mode & 0o7777, st.isDirectory()) : (chmod ?? st.mode & 0o7777);
      const base = { mtime: Math.floor(st.mtimeMs / 1000), mode: perm };
      if (item.dest === '.') continue;
      if (st.isDirectory()) yield { header: header({ ...base, name: `${item.dest}/`, type: 'directory' }) };
      else if (st.isSymbolicLink())
        yield {
          header: header({
            ...base,
            mode: st.mode & 0o7777,
            name: item.dest,
            type: 'symlink',
            linkname: item.linkname ?? '',
          }),
        };
      else if (st.isFile())
        yield {
          header: header({ ...base, name: item.dest, type: 'file', size: st.size }),
          ...(st.size > 0 && { body: item.fs.read(item.host) }),
        };
      else if (st.isFIFO()) yield { header: header({ ...base, name: item.dest, type: 'fifo' }) };
    }
  }
  if (plan.parents.length > 0 || plan.items.length > 0) {
    await extractEntries(entries(), rootfs, {
      whiteouts: 'none',
      sameOwner: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  for (const a of plan.archives) {
    const kind = await archiveKind(a.fs, a.host);
    const destHost = new RootResolver(rootfs).resolveDir(a.destDir, true);
    await extractTar(decompress(a.fs.read(a.host), kind!), destHost, {
      whiteouts: 'none',
      sameOwner: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}

function decompress(file: Readable, kind: ArchiveKind): Readable {
  if (kind === 'tar') return file;
  if (kind === 'gzip') return file.pipe(createGunzip());
  const child = spawn(kind === 'bzip2' ? 'bzip2' : 'xz', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  file.pipe(child.stdin);
  return Readable.from(child.stdout);
}

/** `--chown=user:group` against the image's /etc/passwd and /etc/group; numeric ids as they are. */
export function resolveChown(spec: string, passwd: string, group: string): Owner {
  const parts = spec.split(':');
  if (parts.length > 2) throw invalidParameter(`invalid chown string format: ${spec}`);
  // Without a group, the user spec is the group too (moby parseChownFlag): `nobody` looks up
  // the group named nobody, `1000` means 1000:1000.
  const [u, g = parts[0]] = parts as [string, string | undefined];
  const users = passwd.split('\n').map((l) => l.split(':'));
  const groups = group.split('\n').map((l) => l.split(':'));
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const e = users.find((f) => f[0] === u);
    if (!e)
      throw invalidParameter(
        `unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}: no such user: ${u}`,
      );
    uid = Number(e[2]);
    gid = Number(e[3]);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = groups.find((f) => f[0] === g);
      if (!e)
        throw invalidParameter(
          `unable to convert uid/gid chown string to host mapping: can't find gid for group ${g}: no such group: ${g}`,
        );
      gid = Number(e[2]);
    }
  }
  return { uid, gid: gid ?? uid };
}
