/** `berth attach` (docker/cli container/attach.go). */
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { streamHijacked } from '../hijack.ts';
import { forwardSignals, monitorTtySize } from '../terminal.ts';

export async function attachCommand(
  ctx: CliContext,
  opts: Record<string, unknown>,
  args: string[],
): Promise<number> {
  const name = args[0] as string;
  const client = await ctx.client();
  const c = await client.containerInspect(name);
  if (!c.State.Running) throw new ExitError(1, 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new ExitError(1, 'You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting)
    throw new ExitError(1, 'You cannot attach to a restarting container, wait until it is running');
  const tty = !!c.Config.Tty;
  const noStdin = opts.stdin === false;
  if (!noStdin && tty && !ctx.io.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
  const withStdin = !noStdin && !!c.Config.OpenStdin;
  const detachKeys = opts.detachKeys as string | undefined;
  const stopSignals = opts.sigProxy !== false && !tty ? forwardSignals(client, c.Id) : undefined;
  try {
    const wait = client.containerWait(c.Id, 'not-running');
    wait.result.catch(() => {});
    const socket = await client.containerAttach(c.Id, {
      stream: true,
      stdin: withStdin,
      stdout: true,
      stderr: true,
      detachKeys,
    });
    const stopResize =
      tty && ctx.io.stdout.isTTY
        ? monitorTtySize(ctx, (h, w) => client.containerResize(c.Id, h, w))
        : undefined;
    try {
      const result = await streamHijacked({
        socket,
        tty,
        stdin: withStdin ? ctx.io.stdin : undefined,
        stdout: ctx.io.stdout,
        stderr: tty ? ctx.io.stdout : ctx.io.stderr,
        detachKeys,
      });
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
