/**
 * `berth build`: sends the context (a directory, a tar on stdin with `-`, or a Dockerfile on
 * stdin with `-f -`) to POST /build, or names a git repository or URL for the daemon to fetch
 * (`remote`), and prints the build output (build-output.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { contextTar } from '../build-context.ts';
import { BuildOutput, useColor } from '../build-output.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';

type Opts = Record<string, unknown>;

export async function buildCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const [path = ''] = args;
  const file = opts.file as string | undefined;
  let context: Readable;
  let dockerfile = file;
  if (/^(https?|git):\/\/|^git@|^github\.com\//.test(path)) {
    // A git repository or URL: the daemon fetches it (POST /build?remote=).
    return await send(ctx, { ...opts, remote: path }, Readable.from([]), file);
  }
  if (path === '-') {
    if (file === '-')
      throw new ExitError(
        125,
        "ERROR: invalid argument: can't use stdin for both build context and dockerfile",
      );
    context = ctx.io.stdin;
  } else if (file === '-') {
    // Dockerfile from stdin: the context is the directory, plus the Dockerfile under a
    // generated name, as the docker CLI does.
    const text = await readAll(ctx.io.stdin);
    const name = '.dockerfile.stdin';
    dockerfile = name;
    context = await contextTar(path, { extra: { name, data: text } });
  } else {
    const dir = resolve(path);
    let inContext: string | undefined = 'Dockerfile';
    if (file) {
      const abs = resolve(file);
      const rel = relative(dir, abs);
      if (rel.startsWith('..') || rel.startsWith(sep)) {
        // A Dockerfile outside the context travels inside the tar under a generated name.
        const text = await readFile(abs).catch(() => {
          throw new ExitError(
            1,
            `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`,
          );
        });
        const name = `.dockerfile.${basename(abs)}`;
        dockerfile = name;
        context = await contextTar(dir, { extra: { name, data: text } });
        return await send(ctx, opts, context, dockerfile);
      }
      inContext = rel.split(sep).join('/');
      dockerfile = inContext;
    }
    context = await contextTar(dir, { dockerfile: inContext });
  }
  return await send(ctx, opts, context, dockerfile);
}

async function send(
  ctx: CliContext,
  opts: Opts,
  context: Readable,
  dockerfile: string | undefined,
): Promise<number> {
  const client = await ctx.client();
  const buildArgs: Record<string, string> = {};
  for (const kv of (opts.buildArg as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) {
      const v = process.env[kv];
      if (v !== undefined) buildArgs[kv] = v;
    } else buildArgs[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const labels: Record<string, string> = {};
  for (const kv of (opts.label as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    labels[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  const quiet = Boolean(opts.quiet);
  const output = new BuildOutput(ctx.io.stdout, { color: useColor(ctx.io.stdout) });
  let imageId = '';
  for await (const msg of client.build(context, {
    tags: (opts.tag as string[] | undefined) ?? [],
    dockerfile,
    buildArgs,
    labels,
    target: opts.target as string | undefined,
    noCache: Boolean(opts.noCache),
    quiet,
    network: opts.network as string | undefined,
    rm: opts.rm !== false,
    forceRm: Boolean(opts.forceRm),
    pull: Boolean(opts.pull),
    cacheFrom: (opts.cacheFrom as string[] | undefined) ?? [],
    platform: opts.platform as string | undefined,
    remote: opts.remote as string | undefined,
  })) {
    if (msg.stream) output.stream(msg.stream);
    else if (msg.status) output.status(msg.status);
    const id = msg.aux?.ID;
    if (typeof id === 'string') imageId = id;
  }
  if (opts.iidfile && imageId) await writeFile(opts.iidfile as string, imageId);
  if (imageId && !quiet) output.finish(imageId);
  return 0;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}
