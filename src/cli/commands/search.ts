/**
 * `berth search` (docker/cli registry/search.go, formatter_search.go): asks the daemon's
 * GET /images/search with the index's credentials (registry.ParseSearchIndexInfo splits the
 * index off the term as a reference's domain), sorts by stars (most first) and prints
 * NAME, DESCRIPTION (45 characters unless --no-trunc), STARS and OFFICIAL (`[OK]`).
 */
import { registryAuthHeader } from '../docker-config.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { ellipsis } from '../formatters.ts';
import { renderList, write } from '../output.ts';
import { parseFilters } from './ps.ts';
import { registryDomain } from './transfer.ts';

type Opts = Record<string, unknown>;

export const SEARCH_DEFAULT_TABLE = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}';
const SEARCH_HEADERS = {
  Name: 'NAME',
  Description: 'DESCRIPTION',
  StarCount: 'STARS',
  IsOfficial: 'OFFICIAL',
};

export async function searchCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const term = args[0] ?? '';
  let limit: number | undefined;
  if (opts.limit !== undefined) {
    limit = Number(opts.limit);
    if (!/^[+-]?\d+$/.test(String(opts.limit)))
      throw new ExitError(
        125,
        `invalid argument "${opts.limit}" for "--limit" flag: strconv.ParseInt: parsing "${opts.limit}": invalid syntax`,
      );
  }
  const filters = parseFilters(opts.filter as string[] | undefined);
  const client = await ctx.client();
  const registryAuth = await registryAuthHeader(ctx.env, registryDomain(term));
  const results = await client.imageSearch(term, {
    ...(limit ? { limit } : {}),
    filters,
    registryAuth,
  });
  const sorted = [...(results ?? [])].sort((a, b) => b.star_count - a.star_count);
  const format = opts.format as string | undefined;
  const json = format === 'json';
  const trunc = opts.trunc !== false;
  const rows = sorted.map((r) => {
    const desc = r.description.replace(/[\n\r]/g, ' ');
    return {
      Name: r.name,
      Description: trunc ? ellipsis(desc, 45) : desc,
      StarCount: String(r.star_count),
      IsOfficial: json ? String(r.is_official) : r.is_official ? '[OK]' : '',
    };
  });
  write(
    ctx,
    await renderList(rows, {
      ...(format ? { format } : {}),
      defaultTable: SEARCH_DEFAULT_TABLE,
      headers: SEARCH_HEADERS,
    }),
  );
  return 0;
}
