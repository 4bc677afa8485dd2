/** `berth logs` (docker/cli container/logs.go). */
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { toApiTimestamp } from '../units.ts';

export async function logsCommand(
  ctx: CliContext,
  opts: Record<string, unknown>,
  args: string[],
): Promise<number> {
  const name = args[0] as string;
  const stamp = (v: unknown) => {
    if (typeof v !== 'string' || v === '') return undefined;
    try {
      return toApiTimestamp(v);
    } catch (err) {
      throw new ExitError(1, `Error: ${(err as Error).message}`);
    }
  };
  const since = stamp(opts.since);
  const until = stamp(opts.until);
  const client = await ctx.client();
  const info = await client.containerInspect(name);
  const frames = client.containerLogs(name, {
    follow: !!opts.follow,
    since,
    until,
    timestamps: !!opts.timestamps,
    tail: opts.tail as string | undefined,
    details: !!opts.details,
    tty: !!info.Config.Tty,
  });
  for await (const frame of frames) {
    const target = frame.stream === 2 ? ctx.io.stderr : ctx.io.stdout;
    if (!target.write(frame.payload)) await new Promise((r) => target.once('drain', r));
  }
  return 0;
}
