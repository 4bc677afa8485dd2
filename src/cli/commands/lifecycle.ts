/**
 * Container verbs that act on a list of names: start, stop, restart, kill, rm, wait; and rename,
 * top. Like docker/cli, the operations run in parallel, results print in argument order (the
 * name as given on success), and failures print together at the end with exit status 1.
 */
import type { EngineClient } from '../../client/index.ts';
import { isDaemonError } from '../../client/index.ts';
import type { BerthCommand } from '../berth-command.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { streamHijacked } from '../hijack.ts';
import { renderTabbed } from '../output.ts';
import { forwardSignals, monitorTtySize } from '../terminal.ts';
import { startErrorStatus } from './run.ts';

type Opts = Record<string, unknown>;

/** The error text docker prints for a failed request. */
export function errorLine(err: unknown): string {
  if (isDaemonError(err)) return `Error response from daemon: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * docker/cli parallelOperation + the print loop of stop/kill/rm: successes print the name
 * as given, errors are joined at the end. `tolerateNotFound` prints a NotFound to stderr at once
 * and does not fail (rm -f).
 */
async function forEachContainer(
  ctx: CliContext,
  names: string[],
  op: (client: EngineClient, name: string) => Promise<unknown>,
  opts: { tolerateNotFound?: boolean } = {},
): Promise<number> {
  const client = await ctx.client();
  const results = names.map((name) => {
    const trimmed = name.replace(/^\/+|\/+$/g, '');
    if (trimmed === '') return Promise.reject(new Error('Container name cannot be empty'));
    return op(client, trimmed);
  });
  results.forEach((p) => {
    p.catch(() => {});
  });
  const errors: string[] = [];
  for (const [i, name] of names.entries()) {
    try {
      await results[i];
      ctx.out(name);
    } catch (err) {
      if (opts.tolerateNotFound && isDaemonError(err) && err.kind === 'NotFound') {
        ctx.err(errorLine(err));
        continue;
      }
      errors.push(errorLine(err));
    }
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}

export async function stopCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const timeout = (opts.timeout ?? opts.time) as number | undefined;
  const signal = opts.signal as string | undefined;
  return forEachContainer(ctx, args, (c, name) => c.containerStop(name, { timeout, signal }));
}

export async function restartCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const timeout = (opts.timeout ?? opts.time) as number | undefined;
  const signal = opts.signal as string | undefined;
  return forEachContainer(ctx, args, (c, name) => c.containerRestart(name, { timeout, signal }));
}

export async function killCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const signal = opts.signal as string | undefined;
  return forEachContainer(ctx, args, (c, name) => c.containerKill(name, signal));
}

export async function rmCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const force = !!opts.force;
  return forEachContainer(
    ctx,
    args,
    (c, name) => c.containerRemove(name, { force, volumes: !!opts.volumes, link: !!opts.link }),
    { tolerateNotFound: force },
  );
}

export async function waitCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  const errors: string[] = [];
  for (const name of args) {
    try {
      const result = await client.containerWait(name).result;
      ctx.out(String(result.StatusCode));
    } catch (err) {
      errors.push(errorLine(err));
    }
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}

export async function renameCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const [oldName = '', newName = ''] = args;
  if (oldName.trim() === '' || newName.trim() === '') {
    throw new ExitError(1, 'Error: Neither old nor new names may be empty');
  }
  const client = await ctx.client();
  await client.containerRename(oldName, newName);
  return 0;
}

export async function topCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const [name = '', ...psArgs] = args;
  const client = await ctx.client();
  const top = await client.containerTop(name, psArgs.join(' '));
  // docker/cli top.go: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0).
  const lines = [top.Titles.join('\t'), ...top.Processes.map((p) => p.join('\t'))];
  ctx.io.stdout.write(await renderTabbed(lines, { minWidth: 20, tabWidth: 1, padding: 3 }));
  return 0;
}

/**
 * start.go: without -a/-i, starts each container and prints its name; with them, attaches to a
 * single container first and then exits with its status.
 */
export async function startCommand(
  ctx: CliContext,
  opts: Opts,
  args: string[],
  _cmd: BerthCommand,
): Promise<number> {
  const attach = !!opts.attach || !!opts.interactive;
  const client = await ctx.client();
  if (!attach) {
    const failed: string[] = [];
    for (const name of args) {
      try {
        await client.containerStart(name);
        ctx.out(name);
      } catch (err) {
        ctx.err(errorLine(err));
        failed.push(name);
      }
    }
    if (failed.length) throw new ExitError(1, `Error: failed to start containers: ${failed.join(', ')}`);
    return 0;
  }
  if (args.length > 1)
    throw new ExitError(1, 'Error: you cannot start and attach multiple containers at once');
  const name = args[0] as string;
  const info = await client.containerInspect(name);
  const tty = !!info.Config.Tty;
  const withStdin = !!opts.interactive && !!info.Config.OpenStdin;
  if (tty && withStdin && !ctx.io.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
  const detachKeys = opts.detachKeys as string | undefined;
  const stopSignals = !tty ? forwardSignals(client, info.Id) : undefined;
  try {
    const socket = await client.containerAttach(info.Id, {
      stream: true,
      stdin: withStdin,
      stdout: true,
      stderr: true,
      detachKeys,
    });
    const streaming = streamHijacked({
      socket,
      tty,
      stdin: withStdin ? ctx.io.stdin : undefined,
      stdout: ctx.io.stdout,
      stderr: tty ? ctx.io.stdout : ctx.io.stderr,
      detachKeys,
    });
    streaming.catch(() => {});
    const wait = client.containerWait(info.Id, info.HostConfig?.AutoRemove ? 'removed' : 'next-exit');
    wait.result.catch(() => {});
    try {
      await client.containerStart(info.Id, { detachKeys });
    } catch (err) {
      socket.destroy();
      await streaming.catch(() => {});
      const text = errorLine(err);
      ctx.err(text);
      return startErrorStatus(text);
    }
    const stopResize =
      tty && ctx.io.stdout.isTTY
        ? monitorTtySize(ctx, (h, w) => client.containerResize(info.Id, h, w))
        : undefined;
    try {
      const result = await streaming;
      if (result.detached) return 0;
    } finally {
      stopResize?.();
    }
    const status = await wait.result;
    return status.StatusCode;
  } finally {
    stopSignals?.();
  }
}
