/**
 * `berth system df`, `system prune`, `container prune`, `image prune` (docker/cli
 * system/df.go, system/prune.go, container/prune.go, image/prune.go, formatter/disk_usage.go).
 */
import type { BuildCache, SystemDataUsageResponse } from '../../api/types/index.ts';
import type { EngineClient, Filters } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { containerRow, goTimeString, IMAGES_HEADERS, imageRows, PS_HEADERS } from '../formatters.ts';
import { renderList, renderObject, write } from '../output.ts';
import { humanDuration, humanSize } from '../units.ts';
import { parseFilters } from './ps.ts';

type Opts = Record<string, unknown>;

const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = {
  Type: 'TYPE',
  TotalCount: 'TOTAL',
  Active: 'ACTIVE',
  Size: 'SIZE',
  Reclaimable: 'RECLAIMABLE',
};
const DF_IMAGES_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const DF_CONTAINERS_TABLE =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const DF_VOLUMES_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const DF_VOLUME_HEADERS = { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' };
const DF_CACHE_TABLE =
  'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const DF_CACHE_HEADERS = {
  ID: 'CACHE ID',
  CacheType: 'CACHE TYPE',
  Size: 'SIZE',
  CreatedSince: 'CREATED',
  LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE',
  Shared: 'SHARED',
};

const withPercent = (part: number, total: number) =>
  total > 0 ? `${humanSize(part)} (${Math.trunc((part * 100) / total)}%)` : humanSize(part);

/** The four summary rows of `system df` (formatter diskUsage*Context). */
export function dfSummaryRows(du: SystemDataUsageResponse): Array<Record<string, string>> {
  const images = du.Images ?? [];
  let usedImages = 0;
  for (const i of images) {
    if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) usedImages += i.Size - i.SharedSize;
  }
  const containers = du.Containers ?? [];
  const active = (s: string) => ['running', 'paused', 'restarting'].some((x) => s.includes(x));
  let cSize = 0;
  let cReclaim = 0;
  for (const c of containers) {
    cSize += c.SizeRw ?? 0;
    if (!active(c.State)) cReclaim += c.SizeRw ?? 0;
  }
  const volumes = du.Volumes ?? [];
  let vSize = 0;
  let vReclaim = 0;
  for (const v of volumes) {
    const size = v.UsageData?.Size ?? -1;
    if (size === -1) continue;
    vSize += size;
    if ((v.UsageData?.RefCount ?? 0) === 0) vReclaim += size;
  }
  const cache = du.BuildCache ?? [];
  const cacheSize = cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
  const cacheInUse = cache.filter((b) => b.InUse && !b.Shared).reduce((n, b) => n + b.Size, 0);
  return [
    {
      Type: 'Images',
      TotalCount: String(images.length),
      Active: String(images.filter((i) => i.Containers > 0).length),
      Size: humanSize(du.LayersSize),
      Reclaimable: withPercent(du.LayersSize - usedImages, du.LayersSize),
    },
    {
      Type: 'Containers',
      TotalCount: String(containers.length),
      Active: String(containers.filter((c) => active(c.State)).length),
      Size: humanSize(cSize),
      Reclaimable: withPercent(cReclaim, cSize),
    },
    {
      Type: 'Local Volumes',
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: humanSize(vSize),
      Reclaimable: withPercent(vReclaim, vSize),
    },
    {
      Type: 'Build Cache',
      TotalCount: String(cache.length),
      Active: String(cache.filter((b) => b.InUse).length),
      Size: humanSize(cacheSize),
      Reclaimable: humanSize(cacheSize - cacheInUse),
    },
  ];
}

function cacheRow(b: BuildCache, trunc: boolean, now: number): Record<string, string> {
  const last = b.LastUsedAt ? Date.parse(b.LastUsedAt) : undefined;
  return {
    ID: trunc ? b.ID.slice(0, 12) : b.ID,
    CacheType: b.Type,
    Size: humanSize(b.Size),
    CreatedSince: `${humanDuration(now - Date.parse(b.CreatedAt))} ago`,
    CreatedAt: goTimeString(new Date(b.CreatedAt)),
    LastUsedSince: last === undefined ? '' : `${humanDuration(now - last)} ago`,
    UsageCount: String(b.UsageCount),
    Shared: String(b.Shared),
    Description: b.Description,
    InUse: String(b.InUse),
  };
}

export async function dfCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const client = await ctx.client();
  const du = await client.diskUsage();
  const format = opts.format as string | undefined;
  if (!opts.verbose) {
    write(ctx, await renderList(dfSummaryRows(du), { format, defaultTable: DF_TABLE, headers: DF_HEADERS }));
    return 0;
  }
  const now = Date.now();
  const trunc = true;
  // docker's df shows UNIQUE SIZE with go-units HumanSize (4 digits), not the images list's 3.
  const images = (du.Images ?? []).flatMap((i) =>
    imageRows([i], { trunc, digests: false, now }).map((r) => ({
      ...r,
      UniqueSize: i.SharedSize === -1 ? 'N/A' : humanSize(i.Size - i.SharedSize),
    })),
  );
  const containers = (du.Containers ?? []).map((c) => ({
    ...containerRow(c, { trunc, now }),
    Size: humanSize(c.SizeRw ?? 0, 3),
  }));
  const volumes = (du.Volumes ?? []).map((v) => ({
    Name: v.Name,
    Driver: v.Driver,
    Links: String(v.UsageData?.RefCount ?? -1),
    Size: (v.UsageData?.Size ?? -1) === -1 ? 'N/A' : humanSize(v.UsageData?.Size ?? 0),
    Mountpoint: v.Mountpoint,
    Scope: v.Scope,
  }));
  const cache = (du.BuildCache ?? []).map((b) => cacheRow(b, trunc, now));
  if (format && format !== 'table') {
    const data = { Images: images, Containers: containers, Volumes: volumes, BuildCache: cache };
    write(ctx, await renderObject(format, data));
    return 0;
  }
  const builderSize = (du.BuildCache ?? []).filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
  const table = async (rows: unknown[], defaultTable: string, headers: Record<string, string>) =>
    renderList(rows, { defaultTable, headers });
  const out = [
    'Images space usage:\n\n',
    await table(images, DF_IMAGES_TABLE, IMAGES_HEADERS),
    '\nContainers space usage:\n\n',
    await table(containers, DF_CONTAINERS_TABLE, PS_HEADERS),
    '\nLocal Volumes space usage:\n\n',
    await table(volumes, DF_VOLUMES_TABLE, DF_VOLUME_HEADERS),
    `\nBuild cache usage: ${humanSize(builderSize)}\n\n`,
    await table(cache, DF_CACHE_TABLE, DF_CACHE_HEADERS),
  ];
  write(ctx, out.join(''));
  return 0;
}

/** command.PromptForConfirmation: the question, then a line from stdin; only y/Y confirms. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.io.stdout.write(`${message}\nAre you sure you want to continue? [y/N] `);
  const line = await readLine(ctx.io.stdin);
  return line.trim().toLowerCase() === 'y';
}

export async function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
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
}

type Pruned = { space: number; output: string };

async function pruneContainers(client: EngineClient, filters: Filters): Promise<Pruned> {
  const r = await client.containerPrune({ filters });
  if (!r.ContainersDeleted?.length) return { space: 0, output: '' };
  return { space: r.SpaceReclaimed, output: `Deleted Containers:\n${r.ContainersDeleted.join('\n')}\n` };
}

async function pruneImages(client: EngineClient, filters: Filters, all: boolean): Promise<Pruned> {
  const f = { ...filters, dangling: [all ? 'false' : 'true'] };
  const r = await client.imagePrune({ filters: f });
  if (!r.ImagesDeleted?.length) return { space: 0, output: '' };
  const lines = r.ImagesDeleted.map((i) =>
    i.Untagged ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`,
  );
  return { space: r.SpaceReclaimed, output: `Deleted Images:\n${lines.join('\n')}\n` };
}

async function pruneNetworks(client: EngineClient, filters: Filters): Promise<Pruned> {
  const r = await client.networkPrune({ filters });
  if (!r.NetworksDeleted?.length) return { space: 0, output: '' };
  return { space: 0, output: `Deleted Networks:\n${r.NetworksDeleted.join('\n')}\n` };
}

export async function pruneVolumes(client: EngineClient, filters: Filters): Promise<Pruned> {
  const r = await client.volumePrune({ filters });
  if (!r.VolumesDeleted?.length) return { space: 0, output: '' };
  return { space: r.SpaceReclaimed, output: `Deleted Volumes:\n${r.VolumesDeleted.join('\n')}\n` };
}

async function pruneBuildCache(client: EngineClient, filters: Filters, all: boolean): Promise<Pruned> {
  const r = await client.buildCachePrune({ all, filters });
  if (!r.CachesDeleted?.length) return { space: r.SpaceReclaimed, output: '' };
  return { space: r.SpaceReclaimed, output: `Deleted build cache objects:\n${r.CachesDeleted.join('\n')}\n` };
}

/** Prints the prunes' outputs (each followed by a blank line) and the total, as docker. */
function report(ctx: CliContext, results: Pruned[], total = true): void {
  let space = 0;
  for (const r of results) {
    space += r.space;
    if (r.output) ctx.out(r.output);
  }
  if (total) ctx.out(`Total reclaimed space: ${humanSize(space)}`);
}

export async function containerPruneCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  if (!opts.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return 0;
  const client = await ctx.client();
  report(ctx, [await pruneContainers(client, filters)]);
  return 0;
}

export async function imagePruneCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  if (filters.dangling) throw new ExitError(1, 'invalid filter "dangling": use the --all flag instead');
  const all = !!opts.all;
  const warning = all
    ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.';
  if (!opts.force && !(await confirm(ctx, warning))) return 0;
  const client = await ctx.client();
  report(ctx, [await pruneImages(client, filters, all)]);
  return 0;
}

export async function systemPruneCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  const all = !!opts.all;
  const volumes = !!opts.volumes;
  if (!opts.force) {
    const items = [
      'all stopped containers',
      'all networks not used by at least one container',
      ...(volumes ? ['all anonymous volumes not used by at least one container'] : []),
      all ? 'all images without at least one container associated to them' : 'all dangling images',
      all ? 'all build cache' : 'unused build cache',
    ];
    const warning = `WARNING! This will remove:\n${items.map((i) => `  - ${i}`).join('\n')}\n`;
    if (!(await confirm(ctx, warning))) return 0;
  }
  const client = await ctx.client();
  const results: Pruned[] = [];
  results.push(await pruneContainers(client, filters));
  results.push(await pruneNetworks(client, filters));
  if (volumes) results.push(await pruneVolumes(client, filters));
  results.push(await pruneImages(client, filters, all));
  results.push(await pruneBuildCache(client, filters, all));
  report(ctx, results);
  return 0;
}

export async function networkPruneCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  const warning = 'WARNING! This will remove all custom networks not used by at least one container.';
  if (!opts.force && !(await confirm(ctx, warning))) return 0;
  const client = await ctx.client();
  report(ctx, [await pruneNetworks(client, filters)], false);
  return 0;
}

export async function volumePruneCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  const client = await ctx.client();
  // API < 1.42 removes named volumes too; from 1.42, only with --all.
  const { compareApiVersions } = await import('../../api/types/version.ts');
  const modern = compareApiVersions(await client.apiVersion(), '1.42') >= 0;
  if (opts.all) {
    if (!modern) {
      throw new ExitError(
        1,
        `"--all" requires API version 1.42, but the daemon API version is ${await client.apiVersion()}`,
      );
    }
    filters.all = ['true'];
  }
  const warning =
    modern && !opts.all
      ? 'WARNING! This will remove anonymous local volumes not used by at least one container.'
      : 'WARNING! This will remove all local volumes not used by at least one container.';
  if (!opts.force && !(await confirm(ctx, warning))) return 0;
  report(ctx, [await pruneVolumes(client, filters)]);
  return 0;
}
