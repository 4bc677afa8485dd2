/** `berth exec` (docker/cli container/exec.go). */
import { readFileSync } from 'node:fs';
import type { ExecCreateRequest } from '../../api/types/index.ts';
import type { CliContext } from '../context.ts';
import { FlagError, parseEnvFile, validateEnv } from '../container-options.ts';
import { ExitError } from '../errors.ts';
import { streamHijacked } from '../hijack.ts';
import { monitorTtySize } from '../terminal.ts';

export async function execCommand(
  ctx: CliContext,
  opts: Record<string, unknown>,
  args: string[],
): Promise<number> {
  const [container = '', ...cmd] = args;
  const detach = !!opts.detach;
  const tty = !!opts.tty;
  let env: string[];
  try {
    env = [
      ...((opts.envFile as string[] | undefined) ?? []).flatMap((f) =>
        parseEnvFile(readFileSync(f, 'utf8'), f, ctx.env),
      ),
      ...((opts.env as string[] | undefined) ?? []).map((e) => validateEnv(e, ctx.env)),
    ];
  } catch (err) {
    if (err instanceof FlagError) throw new ExitError(125, err.message);
    throw new ExitError(125, `open ${(err as NodeJS.ErrnoException).path}: no such file or directory`);
  }
  const body: ExecCreateRequest = {
    User: (opts.user as string | undefined) ?? '',
    Privileged: !!opts.privileged,
    Tty: tty,
    AttachStdin: !detach && !!opts.interactive,
    AttachStdout: !detach,
    AttachStderr: !detach,
    DetachKeys: (opts.detachKeys as string | undefined) ?? '',
    Env: env,
    WorkingDir: (opts.workdir as string | undefined) ?? '',
    Cmd: cmd,
  };
  const client = await ctx.client();
  // A dummy inspect first so "No such container" wins over other errors (exec.go).
  await client.containerInspect(container);
  if (!detach && tty && body.AttachStdin && !ctx.io.stdin.isTTY) {
    throw new ExitError(1, 'the input device is not a TTY');
  }
  const { rows, columns } = ctx.io.stdout;
  if (tty && ctx.io.stdout.isTTY && rows && columns) body.ConsoleSize = [rows, columns];
  const { Id: execId } = await client.execCreate(container, body);
  if (detach) {
    await client.execStartDetached(execId, { Tty: tty, ConsoleSize: body.ConsoleSize ?? null });
    return 0;
  }
  const socket = await client.execStart(execId, { Tty: tty, ConsoleSize: body.ConsoleSize ?? null });
  const stopResize =
    tty && ctx.io.stdout.isTTY ? monitorTtySize(ctx, (h, w) => client.execResize(execId, h, w)) : undefined;
  try {
    const result = await streamHijacked({
      socket,
      tty,
      stdin: body.AttachStdin ? ctx.io.stdin : undefined,
      stdout: ctx.io.stdout,
      stderr: tty ? ctx.io.stdout : ctx.io.stderr,
      detachKeys: body.DetachKeys,
    });
    if (result.detached) return 0;
  } finally {
    stopResize?.();
  }
  const inspect = await client.execInspect(execId);
  return inspect.ExitCode ?? 0;
}
