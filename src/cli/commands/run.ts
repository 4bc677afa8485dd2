/**
 * `berth run` and `berth create` (docker/cli container/run.go and create.go).
 *
 * run: parse flags → create (pulling a missing image first) → attach (before start, so no
 * output is lost) → register the wait (next-exit, or removed with --rm) → start → stream until
 * the output ends → exit with the container's status. With -d it prints the id instead.
 */
import { openSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import type { ContainerCreateRequest } from '../../api/types/index.ts';
import { type EngineClient, isDaemonError, type PendingWait } from '../../client/index.ts';
import type { BerthCommand } from '../berth-command.ts';
import { commandPath } from '../berth-command.ts';
import { type ContainerFlags, FlagError, parseContainerOptions } from '../container-options.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { streamHijacked } from '../hijack.ts';
import { familiarWithDefaultTag, splitImageRef } from '../image-ref.ts';
import { forwardSignals, monitorTtySize } from '../terminal.ts';

interface RunFlags extends ContainerFlags {
  detach?: boolean;
  sigProxy?: boolean;
  detachKeys?: string;
  quiet?: boolean;
}

/** Docker's run/create usage-error text: `berth: <msg>\n\nRun 'berth run --help' for more information`. */
function reportUsage(cmd: BerthCommand, message: string): ExitError {
  const root = commandPath(cmd).split(' ')[0];
  return new ExitError(125, `${root}: ${message}\n\nRun '${commandPath(cmd)} --help' for more information`);
}

function errorText(err: unknown): string {
  if (isDaemonError(err)) return `Error response from daemon: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function parseFlags(cmd: BerthCommand, opts: RunFlags, args: string[], ctx: CliContext) {
  const [image = '', ...command] = args;
  if (opts.pull !== undefined && !['always', 'missing', 'never'].includes(opts.pull)) {
    throw reportUsage(
      cmd,
      `invalid pull option: '${opts.pull}': must be one of "always", "missing" or "never"`,
    );
  }
  try {
    const isSet = (k: keyof ContainerFlags) => cmd.getOptionValueSource(k) === 'cli';
    return parseContainerOptions(opts, image, command, isSet, { env: ctx.env });
  } catch (err) {
    if (err instanceof FlagError) throw reportUsage(cmd, err.message);
    throw err;
  }
}

/** POST /images/create for a missing image, printing docker's progress lines to stderr. */
async function pullImage(
  ctx: CliContext,
  client: EngineClient,
  image: string,
  platform: string | undefined,
  quiet: boolean,
) {
  const ref = splitImageRef(image);
  const tag = ref.digest ?? ref.tag ?? 'latest';
  for await (const msg of client.imagePull(ref.name, tag, platform ? { platform } : {})) {
    if (quiet) continue;
    if (msg.progressDetail && msg.progressDetail.current !== undefined) continue;
    if (!msg.status) continue;
    ctx.err(msg.id ? `${msg.id}: ${msg.status}` : msg.status);
  }
}

/**
 * create.go createContainer: honours --pull, writes --cidfile, and on a missing image prints
 * `Unable to find image 'x:latest' locally`, pulls and tries again.
 */
async function createContainer(
  ctx: CliContext,
  client: EngineClient,
  body: ContainerCreateRequest,
  opts: { name?: string; platform?: string; pull: string; quiet: boolean; cidfile?: string },
): Promise<string> {
  const image = body.Image ?? '';
  let cidFd: number | undefined;
  if (opts.cidfile) {
    try {
      cidFd = openSync(opts.cidfile, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new Error(
          `container ID file found, make sure the other container isn't running or delete ${opts.cidfile}`,
        );
      }
      throw new Error(`failed to create the container ID file: ${(err as Error).message}`);
    }
  }
  const createOpts = { name: opts.name, platform: opts.platform };
  try {
    if (opts.pull === 'always') await pullImage(ctx, client, image, opts.platform, opts.quiet);
    let created: { Id: string; Warnings: string[] | null };
    try {
      created = await client.containerCreate(body, createOpts);
    } catch (err) {
      const missingImage = isDaemonError(err) && err.statusCode === 404 && /image/i.test(err.message);
      if (!missingImage || opts.pull !== 'missing') throw err;
      ctx.err(`Unable to find image '${familiarWithDefaultTag(image)}' locally`);
      await pullImage(ctx, client, image, opts.platform, opts.quiet);
      created = await client.containerCreate(body, createOpts);
    }
    for (const w of created.Warnings ?? []) ctx.err(`WARNING: ${w}`);
    if (cidFd !== undefined) {
      writeSync(cidFd, created.Id);
      closeSync(cidFd);
      cidFd = undefined;
    }
    return created.Id;
  } catch (err) {
    if (cidFd !== undefined && opts.cidfile) {
      closeSync(cidFd);
      unlinkSync(opts.cidfile);
    }
    throw err;
  }
}

export async function createCommand(
  ctx: CliContext,
  rawOpts: Record<string, unknown>,
  args: string[],
  cmd: BerthCommand,
): Promise<number> {
  const opts = rawOpts as RunFlags;
  const parsed = parseFlags(cmd, opts, args, ctx);
  const client = await ctx.client();
  const id = await createContainer(ctx, client, parsed.body, {
    name: parsed.name,
    platform: parsed.platform,
    pull: opts.pull ?? 'missing',
    quiet: !!opts.quiet,
    cidfile: opts.cidfile,
  });
  ctx.out(id);
  return 0;
}

/** run.go runStartContainerErr: 127 not found, 126 cannot invoke, else 125. */
export function startErrorStatus(message: string): number {
  if (
    /executable file not found|no such file or directory|system cannot find the file specified/.test(message)
  ) {
    return 127;
  }
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

async function waitStatus(wait: PendingWait, ctx: CliContext): Promise<number> {
  try {
    const result = await wait.result;
    if (result.Error?.Message) {
      ctx.err(`Error waiting for container: ${result.Error.Message}`);
      return 125;
    }
    return result.StatusCode;
  } catch (err) {
    ctx.err(`Error waiting for container: ${errorText(err)}`);
    return 125;
  }
}

export async function runCommand(
  ctx: CliContext,
  rawOpts: Record<string, unknown>,
  args: string[],
  cmd: BerthCommand,
): Promise<number> {
  const opts = rawOpts as RunFlags;
  const parsed = parseFlags(cmd, opts, args, ctx);
  const config = parsed.body;
  const detach = !!opts.detach;
  if (!detach) {
    if (config.Tty && config.AttachStdin && !ctx.io.stdin.isTTY) {
      throw new ExitError(1, 'the input device is not a TTY');
    }
  } else {
    if ((opts.attach ?? []).length > 0) throw reportUsage(cmd, 'Conflicting options: -a and -d');
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }

  const client = await ctx.client();
  let id: string;
  try {
    id = await createContainer(ctx, client, config, {
      name: parsed.name,
      platform: parsed.platform,
      pull: opts.pull ?? 'missing',
      quiet: !!opts.quiet,
      cidfile: opts.cidfile,
    });
  } catch (err) {
    throw reportUsage(cmd, errorText(err));
  }

  const tty = !!config.Tty;
  // --sig-proxy defaults to true; with a TTY the terminal sends keys, not signals.
  const stopSignals = opts.sigProxy !== false && !tty && !detach ? forwardSignals(client, id) : undefined;
  try {
    if (!config.AttachStdout && !config.AttachStderr) ctx.out(id);

    const attach = !!(config.AttachStdin || config.AttachStdout || config.AttachStderr);
    let streaming: Promise<{ detached: boolean }> | undefined;
    let socket: { destroy(): void } | undefined;
    if (attach) {
      const hijacked = await client.containerAttach(id, {
        stream: true,
        stdin: !!config.AttachStdin,
        stdout: !!config.AttachStdout,
        stderr: !!config.AttachStderr,
        detachKeys: opts.detachKeys,
      });
      socket = hijacked;
      streaming = streamHijacked({
        socket: hijacked,
        tty,
        stdin: config.AttachStdin ? ctx.io.stdin : undefined,
        stdout: config.AttachStdout ? ctx.io.stdout : undefined,
        stderr: config.AttachStderr ? (tty ? ctx.io.stdout : ctx.io.stderr) : undefined,
        detachKeys: opts.detachKeys,
      });
      streaming.catch(() => {});
    }

    const wait = client.containerWait(id, config.HostConfig?.AutoRemove ? 'removed' : 'next-exit');
    wait.result.catch(() => {});
    await Promise.race([wait.registered.catch(() => {}), delay(250)]);

    try {
      await client.containerStart(id);
    } catch (err) {
      socket?.destroy();
      if (streaming) await streaming.catch(() => {});
      const text = errorText(err);
      ctx.err(`${commandPath(cmd).split(' ')[0]}: ${text}`);
      // docker waits for the daemon to remove an --rm container whose start failed; bounded here
      // so a daemon that keeps the container cannot hang the CLI.
      if (config.HostConfig?.AutoRemove) await Promise.race([wait.result.catch(() => {}), delay(5000)]);
      return startErrorStatus(text);
    }

    let stopResize: (() => void) | undefined;
    if (attach && tty && ctx.io.stdout.isTTY) {
      stopResize = monitorTtySize(ctx, (h, w) => client.containerResize(id, h, w));
    }
    try {
      if (streaming) {
        const result = await streaming;
        if (result.detached) return 0;
      }
    } finally {
      stopResize?.();
    }
    if (!config.AttachStdout && !config.AttachStderr) return 0;
    return await waitStatus(wait, ctx);
  } finally {
    stopSignals?.();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
