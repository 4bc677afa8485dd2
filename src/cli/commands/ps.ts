/** `berth ps` / `berth container ls` (docker/cli container/list.go). */
import type { Filters } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { containerRow, PS_DEFAULT_TABLE, PS_HEADERS } from '../formatters.ts';
import { renderList, write } from '../output.ts';

/** opts.FilterOpt: `key=value` pairs into docker's filter map (key lower-cased). */
export function parseFilters(values: string[] | undefined): Filters {
  const filters: Filters = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i < 0)
      throw new ExitError(
        125,
        `invalid argument "${v}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
      );
    const key = v.slice(0, i).trim().toLowerCase();
    const value = v.slice(i + 1).trim();
    filters[key] = [...(filters[key] ?? []), value];
  }
  return filters;
}

export async function psCommand(ctx: CliContext, opts: Record<string, unknown>): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  let last = (opts.last as number | undefined) ?? -1;
  if (opts.latest && last === -1) last = 1;
  const quiet = !!opts.quiet;
  const format = opts.format as string | undefined;
  let size = !!opts.size;
  if (format && !quiet && !size && format.includes('.Size')) size = true;

  const client = await ctx.client();
  const list = await client.containerList({ all: !!opts.all, limit: last, size, filters });
  const now = Date.now();
  const rows = list.map((c) => containerRow(c, { trunc: opts.trunc !== false, now }));
  let effective = format;
  if (!format || format === 'table') {
    effective = quiet ? '{{.ID}}' : size ? `${PS_DEFAULT_TABLE}\t{{.Size}}` : PS_DEFAULT_TABLE;
  }
  write(
    ctx,
    await renderList(rows, { format: effective, defaultTable: PS_DEFAULT_TABLE, headers: PS_HEADERS }),
  );
  return 0;
}
