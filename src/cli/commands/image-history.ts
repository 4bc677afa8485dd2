/** `berth history` and `berth image prune` (docker/cli image/history.go, image/prune.go). */
import type { CliContext } from '../context.ts';
import { humanDuration, humanSize } from '../units.ts';
import { ellipsis, truncateId } from '../formatters.ts';
import { renderList, write } from '../output.ts';
import { parseFilters } from './ps.ts';

type Opts = Record<string, unknown>;

const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_TABLE_NON_HUMAN = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** Go's time.Format(time.RFC3339) in the local zone (`Z` in UTC). */
export function rfc3339Local(seconds: number): string {
  const d = new Date(seconds * 1000);
  const offset = -d.getTimezoneOffset();
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  return `${local}${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

export async function historyCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  const items = await client.imageHistory(args[0] ?? '');
  const human = opts.human !== false && opts.H !== false;
  const trunc = opts.trunc !== false;
  const now = Date.now();
  const rows = items.map((h) => {
    const createdAt = rfc3339Local(h.Created);
    const createdBy = h.CreatedBy.replaceAll('\t', ' ');
    return {
      ID: trunc ? truncateId(h.Id) : h.Id,
      CreatedAt: createdAt,
      CreatedSince: human ? `${humanDuration(now - h.Created * 1000)} ago` : createdAt,
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      Size: human ? humanSize(h.Size, 3) : String(h.Size),
      Comment: h.Comment,
      Tags: h.Tags ?? [],
    };
  });
  let format = (opts.format as string | undefined) || 'table';
  if (format === 'table') format = opts.quiet ? '{{.ID}}' : human ? HISTORY_TABLE : HISTORY_TABLE_NON_HUMAN;
  write(ctx, await renderList(rows, { format, defaultTable: HISTORY_TABLE, headers: HISTORY_HEADERS }));
  return 0;
}

const ALL_IMAGES_WARNING = `WARNING! This will remove all images without at least one container associated to them.
Are you sure you want to continue?`;
const DANGLING_WARNING = `WARNING! This will remove all dangling images.
Are you sure you want to continue?`;

/** command.PromptForConfirmation: `<message> [y/N] `, yes only for y or Y. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.io.stdout.write(`${message} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const stdin = ctx.io.stdin;
    const onData = (c: Buffer | string) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const finish = (s: string) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(s);
    };
    const onEnd = () => finish(buf);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
  const answer = line.trim();
  return answer === 'y' || answer === 'Y';
}

export async function imagePruneCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  const all = !!opts.all;
  filters.dangling = [String(!all)];
  if (!opts.force && !(await confirm(ctx, all ? ALL_IMAGES_WARNING : DANGLING_WARNING))) return 0;
  const client = await ctx.client();
  const report = await client.imagePrune(filters);
  const deleted = report.ImagesDeleted ?? [];
  if (deleted.length > 0) {
    const lines = ['Deleted Images:'];
    for (const d of deleted) lines.push(d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`);
    ctx.out(`${lines.join('\n')}\n`);
  }
  ctx.out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}`);
  return 0;
}
