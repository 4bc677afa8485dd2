/** `berth update`, `berth pause`, `berth unpause` (docker cli/command/container/update.go, pause.go). */
import type { ContainerUpdateRequest } from '../../api/types/index.ts';
import type { CliContext } from '../context.ts';
import { parseRestartPolicy } from '../container-options.ts';
import { ExitError } from '../errors.ts';
import { errorLine } from './lifecycle.ts';

type Opts = Record<string, unknown>;

/** The update body from the flags; only the flags given are sent (zero means "unchanged"). */
export function updateBody(o: Opts): ContainerUpdateRequest {
  const n = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const body: ContainerUpdateRequest = {};
  const set = <K extends keyof ContainerUpdateRequest>(k: K, v: ContainerUpdateRequest[K] | undefined) => {
    if (v !== undefined) body[k] = v;
  };
  set('BlkioWeight', n('blkioWeight'));
  set('CpuPeriod', n('cpuPeriod'));
  set('CpuQuota', n('cpuQuota'));
  set('CpuRealtimePeriod', n('cpuRtPeriod'));
  set('CpuRealtimeRuntime', n('cpuRtRuntime'));
  set('CpuShares', n('cpuShares'));
  set('NanoCpus', n('cpus'));
  set('CpusetCpus', o.cpusetCpus as string | undefined);
  set('CpusetMems', o.cpusetMems as string | undefined);
  set('KernelMemory', n('kernelMemory'));
  set('Memory', n('memory'));
  set('MemoryReservation', n('memoryReservation'));
  set('MemorySwap', n('memorySwap'));
  set('PidsLimit', n('pidsLimit'));
  if (typeof o.restart === 'string') set('RestartPolicy', parseRestartPolicy(o.restart));
  return body;
}

export async function updateCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const body = updateBody(opts);
  if (Object.keys(body).length === 0) {
    throw new ExitError(1, 'you must provide one or more flags when using this command');
  }
  const client = await ctx.client();
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const name of args) {
    try {
      const r = await client.containerUpdate(name, body);
      warnings.push(...(r.Warnings ?? []));
      ctx.out(name);
    } catch (err) {
      errors.push(errorLine(err));
    }
  }
  for (const w of warnings) ctx.err(w);
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}

async function eachContainer(
  ctx: CliContext,
  args: string[],
  op: (name: string) => Promise<void>,
): Promise<number> {
  const errors: string[] = [];
  for (const name of args) {
    try {
      await op(name);
      ctx.out(name);
    } catch (err) {
      errors.push(errorLine(err));
    }
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}

export async function pauseCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  return eachContainer(ctx, args, (n) => client.containerPause(n));
}

export async function unpauseCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  return eachContainer(ctx, args, (n) => client.containerUnpause(n));
}
