/** `berth diff` and `berth export` (docker/cli container/diff.go, export.go). */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';

type Opts = Record<string, unknown>;

const KINDS = ['C', 'A', 'D'] as const;

export async function diffCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  for (const c of (await client.containerChanges(args[0] ?? '')) ?? []) ctx.out(`${KINDS[c.Kind]} ${c.Path}`);
  return 0;
}

export async function exportCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const output = opts.output as string | undefined;
  if (!output && ctx.io.stdout.isTTY) {
    throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  }
  const client = await ctx.client();
  const tar = await client.containerExport(args[0] ?? '');
  if (output) await pipeline(tar, createWriteStream(output));
  else await pipeline(tar, ctx.io.stdout, { end: false });
  return 0;
}
