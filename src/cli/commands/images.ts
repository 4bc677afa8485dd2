/** `berth images`, `rmi`, `tag`, `import` (docker/cli image/list.go, remove.go, tag.go, import.go). */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { isDaemonError } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { IMAGES_DEFAULT_TABLE, IMAGES_DIGESTS_TABLE, IMAGES_HEADERS, imageRows } from '../formatters.ts';
import { splitImageRef } from '../image-ref.ts';
import { renderList, write } from '../output.ts';
import { errorLine } from './lifecycle.ts';
import { parseFilters } from './ps.ts';

type Opts = Record<string, unknown>;

export async function imagesCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  if (args[0]) filters.reference = [...(filters.reference ?? []), args[0]];
  const digests = !!opts.digests;
  const quiet = !!opts.quiet;
  const client = await ctx.client();
  const list = await client.imageList({ all: !!opts.all, filters });
  const rows = imageRows(list, { trunc: opts.trunc !== false, digests, now: Date.now() });
  const format = opts.format as string | undefined;
  let effective = format;
  if (!format || format === 'table') {
    effective = quiet ? '{{.ID}}' : digests ? IMAGES_DIGESTS_TABLE : IMAGES_DEFAULT_TABLE;
  }
  write(
    ctx,
    await renderList(rows, {
      format: effective,
      defaultTable: IMAGES_DEFAULT_TABLE,
      headers: IMAGES_HEADERS,
    }),
  );
  return 0;
}

export async function rmiCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  const force = !!opts.force;
  const errors: string[] = [];
  let fatal = false;
  for (const image of args) {
    try {
      const items = await client.imageRemove(image, { force, noPrune: opts.prune === false });
      for (const item of items ?? []) {
        if (item.Deleted) ctx.out(`Deleted: ${item.Deleted}`);
        else ctx.out(`Untagged: ${item.Untagged}`);
      }
    } catch (err) {
      if (!(isDaemonError(err) && err.kind === 'NotFound')) fatal = true;
      errors.push(errorLine(err));
    }
  }
  if (errors.length) {
    const msg = errors.join('\n');
    if (!force || fatal) throw new ExitError(1, msg);
    ctx.err(msg);
  }
  return 0;
}

export async function tagCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const [source = '', target = ''] = args;
  const ref = splitImageRef(target);
  if (ref.digest) throw new ExitError(1, 'Error: refusing to create a tag with a digest reference');
  const client = await ctx.client();
  await client.imageTag(source, ref.name, ref.tag);
  return 0;
}

export async function importCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const [source = '', repository] = args;
  if (/^https?:\/\//i.test(source)) {
    throw new ExitError(1, `Error: importing from a URL is not supported yet: ${source}`);
  }
  let body: Readable;
  if (source === '-') body = ctx.io.stdin;
  else {
    body = createReadStream(source);
    await new Promise<void>((resolve, reject) => {
      body.once('open', () => resolve());
      body.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new ExitError(
            1,
            `Error: open ${source}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`,
          ),
        ),
      );
    });
  }
  const client = await ctx.client();
  const messages = client.imageImport(body, {
    repo: repository,
    changes: opts.change as string[] | undefined,
    message: opts.message as string | undefined,
    platform: opts.platform as string | undefined,
  });
  for await (const msg of messages) {
    if (msg.progressDetail && msg.progressDetail.current !== undefined) continue;
    if (msg.status) ctx.out(msg.id ? `${msg.id}: ${msg.status}` : msg.status);
  }
  return 0;
}
