/**
 * `berth stats` (docker/cli 28 cli/command/container/stats.go, stats_helpers.go).
 *
 * One collector per container reads GET /containers/{id}/stats (a stream, or with --no-stream a
 * single primed sample) into its row; a row silent for 2 s is reset to "--" ("timeout waiting
 * for stats"). Without arguments the rows follow the container events (start adds, die removes;
 * with -a create adds and nothing removes) after the initial list. The table is redrawn every
 * 500 ms: cursor home, each line with erase-to-end-of-line, erase below — as docker writes it.
 */
import { isBerthError } from '../../common/index.ts';
import type { EngineClient } from '../../client/index.ts';
import { readFile } from 'node:fs/promises';
import type { CliContext } from '../context.ts';
import { configPath } from '../docker-config.ts';
import { ExitError } from '../errors.ts';
import { renderList, write } from '../output.ts';
import {
  emptyEntry,
  entryFromSample,
  liveFrame,
  STATS_DEFAULT_TABLE,
  STATS_HEADERS,
  type StatsEntry,
  statsRow,
} from '../stats-format.ts';

type Opts = Record<string, unknown>;

interface Slot {
  entry: StatsEntry;
  err?: Error;
  /** Stops this collector (container removed, or the command ending). */
  stop: AbortController;
}

const SILENCE_MS = 2000;
const REFRESH_MS = 500;

function invalidate(slot: Slot, err: Error, reset: boolean): void {
  slot.err = err;
  slot.entry = reset
    ? { ...emptyEntry(slot.entry.container), isInvalid: true }
    : { ...slot.entry, isInvalid: true };
}

/** docker's collect(): fills `slot` from the daemon; `first` runs once, at the first sample or error. */
async function collect(client: EngineClient, slot: Slot, stream: boolean, first: () => void): Promise<void> {
  let released = false;
  const release = () => {
    if (!released) {
      released = true;
      first();
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      invalidate(slot, new Error('timeout waiting for stats'), true);
      release();
      if (stream) arm();
      else slot.stop.abort();
    }, SILENCE_MS);
  };
  arm();
  try {
    for await (const v of client.containerStats(slot.entry.container, { stream, signal: slot.stop.signal })) {
      slot.entry = entryFromSample(slot.entry.container, v);
      slot.err = undefined;
      release();
      if (!stream) return;
      arm();
    }
    if (!slot.stop.signal.aborted) invalidate(slot, new Error('EOF'), false);
  } catch (err) {
    if (!slot.stop.signal.aborted)
      invalidate(slot, err instanceof Error ? err : new Error(String(err)), false);
  } finally {
    clearTimeout(timer);
    release();
  }
}

/** How docker prints a collector's error among several (errors.Join: one per line). */
function errorText(err: Error): string {
  return isBerthError(err) && err.name === 'DaemonError'
    ? `Error response from daemon: ${err.message}`
    : err.message;
}

async function configuredFormat(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const cfg = JSON.parse(await readFile(configPath(env), 'utf8')) as { statsFormat?: unknown };
    return typeof cfg.statsFormat === 'string' && cfg.statsFormat !== '' ? cfg.statsFormat : undefined;
  } catch {
    return undefined;
  }
}

export async function statsCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const client = await ctx.client();
  const stream = opts.stream !== false;
  const all = !!opts.all;
  const trunc = opts.trunc !== false;
  // Without --format, the client config's "statsFormat" (as docker reads ~/.docker/config.json).
  const format = (opts.format as string | undefined) || (await configuredFormat(ctx.env));
  const slots: Slot[] = [];
  const pending = new Set<Promise<void>>();
  const firsts: Promise<void>[] = [];
  const done = new AbortController();

  const add = (container: string) => {
    if (slots.some((s) => s.entry.container === container)) return;
    const slot: Slot = { entry: emptyEntry(container), stop: new AbortController() };
    slots.push(slot);
    let first!: () => void;
    firsts.push(new Promise<void>((r) => (first = r)));
    const p = collect(client, slot, stream, first).finally(() => pending.delete(p));
    pending.add(p);
  };
  const remove = (container: string) => {
    const i = slots.findIndex((s) => s.entry.container === container);
    if (i >= 0) slots.splice(i, 1)[0]?.stop.abort();
  };

  const showAll = args.length === 0;
  let eventsError: unknown;
  try {
    if (showAll) {
      const events = client.events({ filters: { type: ['container'] }, signal: done.signal });
      void (async () => {
        try {
          for await (const e of events) {
            const id = (e.Actor?.ID ?? '').slice(0, 12);
            if (!id) continue;
            if (e.Action === 'start' || (all && e.Action === 'create')) add(id);
            else if (!all && e.Action === 'die') remove(id);
          }
        } catch (err) {
          if (!done.signal.aborted) eventsError = err;
        }
      })();
      for (const c of await client.containerList({ all })) add(c.Id.slice(0, 12));
      await Promise.all(firsts);
    } else {
      for (const name of args) add(name);
      await Promise.all(firsts);
      const errs = slots.flatMap((s) => (s.err ? [s.err] : []));
      // errors.Join, printed as docker prints an error: its text alone.
      if (errs.length > 0) throw new ExitError(1, errs.map(errorText).join('\n'));
    }

    const render = async () =>
      renderList(
        slots.map((s) => statsRow(s.entry, trunc)),
        { format, defaultTable: STATS_DEFAULT_TABLE, headers: STATS_HEADERS },
      );
    if (!stream) {
      write(ctx, await render());
      return 0;
    }
    for (;;) {
      await new Promise((r) => setTimeout(r, REFRESH_MS));
      ctx.io.stdout.write(liveFrame(await render()));
      if (eventsError) throw eventsError;
      if (slots.length === 0 && !showAll) return 0;
    }
  } finally {
    done.abort();
    for (const s of slots) s.stop.abort();
    await Promise.allSettled([...pending]);
  }
}
