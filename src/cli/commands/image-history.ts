/** `berth history` (docker/cli image/history.go). */
import type { CliContext } from '../context.ts';
import { ellipsis, truncateId } from '../formatters.ts';
import { renderList, write } from '../output.ts';
import { humanDuration, humanSize } from '../units.ts';

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
