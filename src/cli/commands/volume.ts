/** `berth volume create|ls|inspect|rm|prune` (docker/cli volume/*.go, formatter/volume.go). */
import type { Volume } from '../../api/types/index.ts';
import { isDaemonError } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { renderList, renderObject, write } from '../output.ts';
import { humanSize } from '../units.ts';
import { formatInspectJson } from './inspect.ts';
import { errorLine } from './lifecycle.ts';
import { parseFilters } from './ps.ts';

type Opts = Record<string, unknown>;

export const VOLUME_TABLE = 'table {{.Driver}}\t{{.Name}}';
export const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Label: 'LABEL',
};

/** `key=value` list flags into a map (opts.ListOpts → map), as docker's --label/--opt. */
export function keyValueMap(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i < 0) out[v] = '';
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** formatter.volumeContext: the fields `volume ls --format` sees. */
export function volumeRow(v: Volume) {
  const labels = v.Labels ?? {};
  return {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A',
    Label: (name: string) => labels[name] ?? '',
  };
}

export async function volumeCreateCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const flagName = opts.name as string | undefined;
  if (flagName && args[0] && flagName !== args[0]) {
    throw new ExitError(
      1,
      `conflicting options: cannot specify a volume-name through both --name and as a positional arg`,
    );
  }
  const client = await ctx.client();
  const v = await client.volumeCreate({
    Name: args[0] ?? flagName ?? '',
    Driver: (opts.driver as string | undefined) ?? 'local',
    DriverOpts: keyValueMap(opts.opt as string[] | undefined),
    Labels: keyValueMap(opts.label as string[] | undefined),
  });
  ctx.out(v.Name);
  return 0;
}

export async function volumeLsCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const filters = parseFilters(opts.filter as string[] | undefined);
  const client = await ctx.client();
  const list = await client.volumeList({ filters });
  const volumes = [...(list.Volumes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
  let format = opts.format as string | undefined;
  if (opts.quiet && (!format || format === 'table')) format = '{{.Name}}';
  write(
    ctx,
    await renderList(volumes.map(volumeRow), { format, defaultTable: VOLUME_TABLE, headers: VOLUME_HEADERS }),
  );
  for (const w of list.Warnings ?? []) ctx.err(w);
  return 0;
}

/** docker's inspect loop for one kind: found objects printed, the misses reported after. */
export async function inspectEach(
  ctx: CliContext,
  format: string | undefined,
  refs: string[],
  get: (ref: string) => Promise<unknown>,
): Promise<number> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await get(ref));
    } catch (err) {
      if (!isDaemonError(err)) throw err;
      errors.push(errorLine(err));
    }
  }
  if (format) {
    for (const obj of found) write(ctx, await renderObject(format, obj));
  } else {
    write(ctx, formatInspectJson(found));
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}

export async function volumeInspectCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  return inspectEach(ctx, opts.format as string | undefined, args, (n) => client.volumeInspect(n));
}

export async function volumeRmCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  const errors: string[] = [];
  for (const name of args) {
    try {
      await client.volumeRemove(name, { force: !!opts.force });
      ctx.out(name);
    } catch (err) {
      errors.push(errorLine(err));
    }
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}
