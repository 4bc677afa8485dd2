/**
 * Attached `berth compose up` (Docker Compose v2 pkg/compose/up.go, cmd/formatter/logs.go):
 * after converging, follows every service container's output with `name  | ` prefixes
 * (coloured in Compose's rainbow order when stdout is a terminal), reports each exit as
 * `name exited with code N`, and returns when all containers have exited. A first SIGINT or
 * SIGTERM stops the containers gracefully, a second kills them (exit status 130);
 * --abort-on-container-exit / --exit-code-from stop everything when a container exits.
 */
import type { ContainerSummary } from '../../api/types/index.ts';
import type { EngineClient } from '../../client/index.ts';
import {
  dependenciesOf,
  LABEL,
  type Project,
  projectContainers,
  serviceOrder,
  type UpOptions,
  up,
} from '../../compose/index.ts';
import type { CliContext } from '../context.ts';

/** Compose's rainbow: cyan, yellow, green, magenta, blue, then their intense variants. */
const RAINBOW = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

export interface AttachFlags {
  abortOnExit?: boolean;
  /** --abort-on-container-failure: stop everything when a container exits with a non-zero code. */
  abortOnFailure?: boolean;
  /** --timestamps: each line starts with the time the container wrote it. */
  timestamps?: boolean;
  exitCodeFrom?: string;
  color?: boolean;
  logPrefix?: boolean;
  /** Services whose containers are followed (default: the services brought up). */
  attachTo?: string[];
}

/** Container name without the `<project>-` prefix, as Compose labels log lines. */
export function shortName(project: string, c: ContainerSummary): string {
  const name = (c.Names?.[0] ?? c.Id).replace(/^\//, '');
  return name.startsWith(`${project}-`) ? name.slice(project.length + 1) : name;
}

export class LogPrinter {
  readonly #prefixes = new Map<string, string>();
  readonly #colors = new Map<string, (s: string) => string>();
  #next = 0;

  constructor(
    private readonly out: (s: string) => void,
    private readonly err: (s: string) => void,
    private readonly opts: { color: boolean; prefix: boolean },
  ) {}

  register(names: string[]): void {
    for (const n of names) {
      const code = RAINBOW[this.#next++ % RAINBOW.length] as string;
      this.#colors.set(n, this.opts.color ? (s) => `\x1b[${code}m${s}\x1b[0m` : (s) => s);
    }
    const width = Math.max(0, ...[...this.#colors.keys()].map((n) => n.length)) + 1;
    for (const [n, color] of this.#colors) this.#prefixes.set(n, color(`${n.padEnd(width)} | `));
  }

  line(name: string, text: string, stderr = false): void {
    const prefix = this.opts.prefix ? (this.#prefixes.get(name) ?? '') : '';
    (stderr ? this.err : this.out)(`${prefix}${text}\n`);
  }

  status(name: string, text: string): void {
    const color = this.#colors.get(name) ?? ((s: string) => s);
    this.out(color(`${name} ${text}`) + '\n');
  }
}

/** Follows one container's log stream until it ends, line by line. */
async function follow(
  client: EngineClient,
  c: ContainerSummary,
  since: string,
  tty: boolean,
  timestamps: boolean,
  onLine: (text: string, stderr: boolean) => void,
): Promise<void> {
  const partial = ['', '', ''];
  for await (const f of client.containerLogs(c.Id, {
    follow: true,
    stdout: true,
    stderr: true,
    since,
    tty,
    timestamps,
  })) {
    const i = f.stream === 2 ? 2 : 1;
    const lines = (partial[i] + f.payload.toString()).split('\n');
    partial[i] = lines.pop() ?? '';
    for (const l of lines) onLine(l.replace(/\r$/, ''), i === 2);
  }
  if (partial[1]) onLine(partial[1], false);
  if (partial[2]) onLine(partial[2], true);
}

export async function upAttached(
  ctx: CliContext,
  client: EngineClient,
  project: Project,
  upOpts: UpOptions,
  flags: AttachFlags,
): Promise<number> {
  const say = upOpts.progress ?? (() => {});
  const printer = new LogPrinter(
    (s) => ctx.io.stdout.write(s),
    (s) => ctx.io.stderr.write(s),
    { color: flags.color ?? false, prefix: flags.logPrefix ?? true },
  );
  const abort = flags.abortOnExit || flags.abortOnFailure || !!flags.exitCodeFrom;
  const stopOpts = upOpts.timeout === undefined ? {} : { timeout: upOpts.timeout };
  let interrupted = 0;
  let stopping: Promise<void> | undefined;
  let exitCode: number | undefined;
  /** Followed containers, and those `up` brought up (stopped or killed on Ctrl-C / abort). */
  let containers: ContainerSummary[] = [];
  let started: ContainerSummary[] = [];

  const order = serviceOrder(project);
  const stopAll = () => {
    stopping ??= (async () => {
      // Dependents first, as `compose stop` does.
      for (const key of [...order].reverse()) {
        await Promise.all(
          started
            .filter((c) => c.Labels?.[LABEL.service] === key)
            .map(async (c) => {
              const name = (c.Names?.[0] ?? '').replace(/^\//, '');
              say(` Container ${name}  Stopping`);
              await client.containerStop(c.Id, stopOpts).catch(() => {});
              say(` Container ${name}  Stopped`);
            }),
        );
      }
    })();
    return stopping;
  };
  const killAll = () =>
    Promise.all(started.map((c) => client.containerKill(c.Id).catch(() => {}))).then(() => {});
  const onSignal = () => {
    interrupted++;
    if (interrupted === 1) {
      ctx.io.stdout.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      if (started.length) void stopAll();
    } else void killAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const since = (Date.now() / 1000).toFixed(3);
    await up(client, project, upOpts);
    const wanted = new Set(
      flags.attachTo ?? (upOpts.services?.length ? upOpts.services : Object.keys(project.services)),
    );
    const roots = upOpts.services?.length ? upOpts.services : Object.keys(project.services);
    const brought = new Set(
      upOpts.noDeps ? roots : [...roots, ...roots.flatMap((r) => dependenciesOf(project, r))],
    );
    started = (await projectContainers(client, project.name)).filter((c) =>
      brought.has(c.Labels?.[LABEL.service] ?? ''),
    );
    containers = started.filter((c) => wanted.has(c.Labels?.[LABEL.service] ?? ''));
    containers.sort((a, b) => shortName(project.name, a).localeCompare(shortName(project.name, b)));
    if (interrupted) void stopAll();
    const names = containers.map((c) => shortName(project.name, c));
    printer.register(names);
    ctx.io.stdout.write(`Attaching to ${names.join(', ')}\n`);
    await Promise.all(
      containers.map(async (c) => {
        const name = shortName(project.name, c);
        const tty = (await client.containerInspect(c.Id)).Config.Tty ?? false;
        let from = since;
        for (;;) {
          await follow(client, c, from, tty, !!flags.timestamps, (text, stderr) =>
            printer.line(name, text, stderr),
          );
          from = (Date.now() / 1000).toFixed(3);
          const s = (await client.containerInspect(c.Id)).State;
          if (s.Running && !s.Restarting) continue;
          const code = s.ExitCode ?? 0;
          if (s.Restarting && !stopping) {
            printer.status(name, `exited with code ${code} (restarting)`);
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          printer.status(name, `exited with code ${code}`);
          const service = c.Labels?.[LABEL.service];
          if (flags.exitCodeFrom) {
            if (service === flags.exitCodeFrom && exitCode === undefined) exitCode = code;
          } else if (abort && exitCode === undefined && (!flags.abortOnFailure || code !== 0))
            exitCode = code;
          const cascade = flags.abortOnFailure ? code !== 0 : abort;
          if (cascade && !stopping && !interrupted) {
            ctx.io.stdout.write('Aborting on container exit...\n');
            void stopAll();
          }
          return;
        }
      }),
    );
    await stopping;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) return 130;
  return exitCode ?? 0;
}
