/**
 * `berth cp` (docker/cli 28 cli/command/container/cp.go) over the archive API:
 * HEAD/GET/PUT /containers/{id}/archive. The path rules are go-archive's (cli/cp-archive.ts).
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerPathStat } from '../../api/types/index.ts';
import type { CliContext } from '../context.ts';
import {
  type CopyInfo,
  clean,
  copyInfoDestinationPath,
  copyInfoSourcePath,
  getRebaseName,
  prepareArchiveCopy,
  rebaseArchiveEntries,
  resolveLocalPath,
  splitCpArg,
  splitPathDirEntry,
  tarResource,
  untarInto,
} from '../cp-archive.ts';
import { ExitError } from '../errors.ts';
import { humanSize } from '../units.ts';

type Opts = Record<string, unknown>;

/** Go os.FileMode type bits as the path-stat header carries them. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_IRREGULAR = 2 ** 19;
const has = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;

/** ValidateOutputPathFileMode. */
function fileModeError(mode: number): string | undefined {
  if (has(mode, MODE_DEVICE)) return 'got a device';
  if (has(mode, MODE_IRREGULAR)) return 'got an irregular file';
  return undefined;
}

/**
 * Counts the archive bytes that pass, for "Successfully copied …" (printed when stdout is a
 * terminal and -q is not given). docker's animated progress line never shows in practice: its
 * copyProgress asks term.GetFdInfo about a streams.Out, which is never a terminal to it, so
 * docker 28 prints only this final line, and so do we.
 */
function counter(): { stream: Transform; bytes: () => number } {
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, bytes: () => n };
}

export async function cpCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const [source = '', destination = ''] = args;
  if (source === '') throw new ExitError(1, 'source can not be empty');
  if (destination === '') throw new ExitError(1, 'destination can not be empty');
  const quiet = opts.quiet === true || !ctx.io.stdout.isTTY;
  const [srcContainer, srcPath] = splitCpArg(source);
  const [dstContainer, dstPath] = splitCpArg(destination);
  const cfg = {
    followLink: opts.followLink === true,
    copyUIDGID: opts.archive === true,
    quiet,
  };
  if (srcContainer && dstContainer) throw new ExitError(1, 'copying between containers is not supported');
  if (srcContainer) return copyFromContainer(ctx, { ...cfg, container: srcContainer, srcPath, dstPath });
  if (dstContainer) return copyToContainer(ctx, { ...cfg, container: dstContainer, srcPath, dstPath });
  throw new ExitError(1, 'must specify at least one container source');
}

interface CpConfig {
  container: string;
  srcPath: string;
  dstPath: string;
  followLink: boolean;
  copyUIDGID: boolean;
  quiet: boolean;
}

/** command.ValidateOutputPath. */
async function validateOutputPath(path: string): Promise<void> {
  const dir = dirname(clean(path));
  if (dir !== '' && dir !== '.') {
    const st = await stat(dir).catch((err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' ? null : undefined,
    );
    if (st === null)
      throw new ExitError(1, `invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
  const st = await stat(path).catch(() => undefined);
  if (st && !st.isDirectory() && !st.isFile()) {
    const why = st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file';
    throw new ExitError(
      1,
      `invalid output path: ${JSON.stringify(path)} must be a directory or a regular file: ${why}`,
    );
  }
}

async function copyFromContainer(ctx: CliContext, c: CpConfig): Promise<number> {
  let dstPath = c.dstPath;
  let srcPath = c.srcPath;
  if (dstPath !== '-') dstPath = resolveLocalPath(dstPath);
  await validateOutputPath(dstPath);
  const client = await ctx.client();
  let rebaseName = '';
  if (c.followLink) {
    const st = await client.containerStatPath(c.container, srcPath).catch(() => undefined);
    if (st && has(st.mode, MODE_SYMLINK)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = `${splitPathDirEntry(srcPath)[0]}/${target}`;
      [srcPath, rebaseName] = getRebaseName(srcPath, clean(target));
    }
  }
  const { stat: st, tar } = await client.containerGetArchive(c.container, srcPath);
  if (dstPath === '-') {
    await pipeline(tar, ctx.io.stdout, { end: false });
    return 0;
  }
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: has(st.mode, MODE_DIR), rebaseName };
  const count = counter();
  let content: Readable = tar.pipe(count.stream);
  if (rebaseName) content = rebaseArchiveEntries(content, splitPathDirEntry(srcInfo.path)[1], rebaseName);
  try {
    // archive.CopyTo
    const dstInfo = await copyInfoDestinationPath(dstPath);
    const { dstDir, rebase } = prepareArchiveCopy(srcInfo, dstInfo);
    if (rebase) content = rebaseArchiveEntries(content, rebase[0], rebase[1]);
    await untarInto(content, dstDir);
  } catch (err) {
    tar.destroy();
    throw new ExitError(1, err instanceof Error ? err.message : String(err));
  }
  if (!c.quiet) ctx.err(`Successfully copied ${humanSize(count.bytes(), 3)} to ${dstPath}`);
  return 0;
}

async function copyToContainer(ctx: CliContext, c: CpConfig): Promise<number> {
  let srcPath = c.srcPath;
  const dstPath = c.dstPath;
  if (srcPath !== '-') srcPath = resolveLocalPath(srcPath);
  const client = await ctx.client();
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let dstStat: ContainerPathStat | undefined = await client
    .containerStatPath(c.container, dstPath)
    .catch(() => undefined);
  if (dstStat && has(dstStat.mode, MODE_SYMLINK)) {
    let target = dstStat.linkTarget;
    if (!target.startsWith('/')) target = `${splitPathDirEntry(dstPath)[0]}/${target}`;
    dstInfo.path = clean(target);
    dstStat = await client.containerStatPath(c.container, dstInfo.path).catch(() => undefined);
  }
  const bad = dstStat ? fileModeError(dstStat.mode) : undefined;
  if (bad) {
    throw new ExitError(
      1,
      `destination "${c.container}:${dstPath}" must be a directory or a regular file: ${bad}`,
    );
  }
  if (dstStat) {
    dstInfo.exists = true;
    dstInfo.isDir = has(dstStat.mode, MODE_DIR);
  }

  let content: Readable;
  let resolvedDstPath: string;
  const count = counter();
  if (srcPath === '-') {
    content = ctx.io.stdin;
    resolvedDstPath = dstInfo.path;
    if (!dstInfo.isDir) throw new ExitError(1, `destination "${c.container}:${dstPath}" must be a directory`);
  } else {
    let srcInfo: CopyInfo;
    let prepared: { dstDir: string; rebase?: [string, string] };
    try {
      srcInfo = await copyInfoSourcePath(srcPath, c.followLink);
      prepared = prepareArchiveCopy(srcInfo, dstInfo);
    } catch (err) {
      throw new ExitError(1, err instanceof Error ? err.message : String(err));
    }
    let archive: Readable = tarResource(srcInfo.path, srcInfo.rebaseName);
    if (prepared.rebase) archive = rebaseArchiveEntries(archive, prepared.rebase[0], prepared.rebase[1]);
    resolvedDstPath = prepared.dstDir;
    content = c.quiet ? archive : archive.pipe(count.stream);
  }
  await client.containerPutArchive(c.container, resolvedDstPath, content, {
    noOverwriteDirNonDir: true,
    copyUIDGID: c.copyUIDGID,
  });
  if (!c.quiet)
    ctx.err(`Successfully copied ${humanSize(count.bytes(), 3)} to ${c.container}:${dstInfo.path}`);
  return 0;
}
