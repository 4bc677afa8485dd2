/**
 * `berth compose …`: Docker Compose's command line over src/compose (client-side: it drives
 * the daemon through the Engine API only). Its own commander program parses the subcommands.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { invalidParameter } from '../../common/errors.ts';
import {
  buildService,
  configNames,
  dependenciesOf,
  down,
  formatConfig,
  formatConfigJson,
  hashLines,
  LABEL,
  loadProject,
  type Project,
  checkUpOptions,
  projectContainers,
  type UpOptions,
  up,
} from '../../compose/index.ts';
import type { Handler } from '../program.ts';
import { ExitError } from '../errors.ts';
import { toApiTimestamp } from '../units.ts';
import { LogPrinter, shortName, upAttached } from './compose-attach.ts';
import { registerComposeCommands, tabwrite } from './compose-commands.ts';
import { registerComposeLifecycle } from './compose-lifecycle.ts';
import { readLine } from './disk.ts';
import { containerRow } from '../formatters.ts';

/** The services attached `up` follows (Docker Compose v2 cmd/compose/up.go). */
function attachTargets(
  p: Project,
  services: string[],
  o: { attach?: string[]; attachDependencies?: boolean },
): string[] {
  let set: Set<string>;
  if (o.attach?.length) {
    const unknown = o.attach.filter((s) => !p.services[s]);
    if (unknown.length)
      throw new Error(`cannot attach to services not included in up: ${unknown.join(', ')}`);
    if (o.attachDependencies) throw new Error('cannot combine --attach and --attach-dependencies');
    set = new Set(o.attach);
  } else {
    const roots = services.length ? services : Object.keys(p.services);
    const all = o.attachDependencies ? [...roots, ...roots.flatMap((s) => dependenciesOf(p, s))] : roots;
    set = new Set(all.filter((s) => p.services[s]?.attach !== false));
  }
  return [...set];
}

/** The options `up` and `create` share (Docker Compose v2 cmd/compose/create.go). */
function createOptions(cmd: Command): Command {
  return cmd
    .option('--build', 'Build images before starting containers')
    .option('--no-build', "Don't build an image, even if it's policy")
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")')
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('--force-recreate', 'Recreate containers even if their configuration has not changed')
    .option('--no-recreate', "If containers already exist, don't recreate them")
    .option('--always-recreate-deps', 'Recreate dependent containers')
    .option(
      '-V, --renew-anon-volumes',
      'Recreate anonymous volumes instead of retrieving data from the previous containers',
    )
    .option('--no-deps', "Don't start linked services")
    .option(
      '--scale <service=n>',
      'Scale SERVICE to NUM instances',
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Shutdown timeout in seconds for containers being replaced', seconds)
    .option('-y, --yes', 'Assume "yes" as answer to all prompts and run non-interactively');
}

/** commander's view of createOptions() as the runner's UpOptions. */
function upOptions(services: string[], o: Record<string, unknown>, argv: string[]): UpOptions {
  // --build and --no-build set one commander value: the last one given wins there.
  const both = argv.includes('--build') && argv.includes('--no-build');
  return {
    services,
    build: !!o.build || both,
    noBuild: o.build === false || both,
    ...(typeof o.pull === 'string' ? { pull: o.pull as UpOptions['pull'] } : {}),
    quietPull: !!o.quietPull,
    forceRecreate: !!o.forceRecreate,
    noRecreate: o.recreate === false,
    alwaysRecreateDeps: !!o.alwaysRecreateDeps,
    renewAnonVolumes: !!o.renewAnonVolumes,
    noDeps: o.deps === false,
    scale: scaleMap(o.scale as string[]),
    removeOrphans: !!o.removeOrphans,
    noStart: o.start === false,
    ...(typeof o.timeout === 'number' ? { timeout: o.timeout } : {}),
    ...(o.wait ? { wait: true } : {}),
    ...(typeof o.waitTimeout === 'number' ? { waitTimeout: o.waitTimeout } : {}),
  };
}

/** `--scale web=3` entries (compose: SERVICE=NUM). */
function scaleMap(list: string[]): Record<string, number> {
  return Object.fromEntries(
    list.map((s) => {
      const m = /^([^=]+)=(\d+)$/.exec(s);
      if (!m) throw new Error(`invalid --scale option "${s}". Should be SERVICE=NUM`);
      return [m[1] as string, Number(m[2])];
    }),
  );
}

/** `up --no-attach x` as the `--skip-attach x` commander can parse (only within `up`'s arguments). */
function spellNoAttach(args: string[]): string[] {
  const at = args.indexOf('up');
  if (at < 0) return args;
  return args.map((a, i) => {
    if (i <= at) return a;
    if (a === '--no-attach') return '--skip-attach';
    return a.startsWith('--no-attach=') ? `--skip-attach=${a.slice('--no-attach='.length)}` : a;
  });
}

/** A whole number of seconds. */
function seconds(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`invalid number of seconds: ${v}`);
  return Number(v);
}

export const composeCommand: Handler = async (ctx, _opts, args) => {
  const prog = new Command('compose')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) })
    .option(
      '-f, --file <file>',
      'Compose configuration files',
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option('-p, --project-name <name>', 'Project name')
    .option('--project-directory <dir>', 'Alternate working directory')
    .option(
      '--profile <profile>',
      'Specify a profile to enable',
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option('--env-file <file>', 'Alternate environment file');
  const load = (): Project => {
    const g = prog.opts();
    return loadProject({
      files: g.file as string[],
      projectName: g.projectName as string | undefined,
      cwd: process.cwd(),
      projectDirectory: g.projectDirectory as string | undefined,
      env: ctx.env,
      ...((g.profile as string[]).length ? { profiles: g.profile as string[] } : {}),
      envFile: g.envFile as string | undefined,
    });
  };
  const say = (l: string) => ctx.err(l);
  /** Compose's yes/no prompt on stdin (no at its end); `-y` answers yes without asking. */
  const ask = (yes: unknown) => async (question: string) => {
    if (yes) return true;
    ctx.io.stdout.write(`? ${question} (y/N) `);
    return /^y(es)?$/i.test((await readLine(ctx.io.stdin)).trim());
  };

  prog
    .command('config')
    .option('-q, --quiet', 'Only validate the configuration')
    .option('--services', 'Print the service names, one per line')
    .option('--volumes', 'Print the volume names, one per line')
    .option('--networks', 'Print the network names, one per line')
    .option('--images', 'Print the image names, one per line')
    .option('--profiles', 'Print the profile names, one per line')
    .option('--hash <services>', 'Print the service config hash, one per line ("*" for all)')
    .option('--format <format>', 'Format the output. Values: [yaml | json]', 'yaml')
    .option('-o, --output <file>', 'Save to file (default to stdout)')
    .action((o) => {
      const p = load();
      if (o.quiet) return;
      for (const what of ['services', 'volumes', 'networks', 'images', 'profiles'] as const) {
        if (o[what]) {
          for (const n of configNames(p, what)) ctx.out(n);
          return;
        }
      }
      if (o.hash) {
        for (const l of hashLines(p, o.hash)) ctx.out(l);
        return;
      }
      if (o.format !== 'yaml' && o.format !== 'json')
        throw invalidParameter(`unsupported format "${o.format}"`);
      const text = o.format === 'json' ? formatConfigJson(p) : formatConfig(p);
      if (o.output) writeFileSync(o.output, text);
      else ctx.io.stdout.write(text);
    });
  const upCmd = prog
    .command('up')
    .argument('[services...]')
    .option('-d, --detach', 'Detached mode')
    .option('--wait', 'Wait for services to be running|healthy. Implies detached mode.')
    .option(
      '--wait-timeout <seconds>',
      'Maximum duration to wait for the project to be running|healthy',
      seconds,
    )
    .option('--no-start', "Don't start the services after creating them")
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped')
    .option('--abort-on-container-failure', 'Stops all containers if any container exited with failure')
    .option('--exit-code-from <service>', 'Return the exit code of the selected service container')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--timestamps', 'Show timestamps')
    .option(
      '--attach <service>',
      'Restrict attaching to the specified services',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    // commander reads any --no-X as the negation of --X: the argument list spells it --skip-attach.
    .addOption(
      new Option('--skip-attach <service>', 'Do not attach (stream logs) to the specified services')
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([] as string[])
        .hideHelp(),
    )
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .addHelpText(
      'after',
      '\nAlso:\n  --no-attach <service>  Do not attach (stream logs) to the specified services',
    );
  createOptions(upCmd).action(async (services: string[], o) => {
    const p = load();
    const opts = { ...upOptions(services, o, args), progress: say, warn: say, confirm: ask(o.yes) };
    if (o.exitCodeFrom && !o.abortOnContainerFailure) o.abortOnContainerExit = true;
    if (o.abortOnContainerExit && o.abortOnContainerFailure)
      throw new Error('--abort-on-container-failure cannot be combined with --abort-on-container-exit');
    if (o.wait) {
      if (o.attachDependencies || o.abortOnContainerExit || o.attach.length)
        throw new Error(
          '--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies',
        );
      o.detach = true;
    }
    if (
      o.detach &&
      (o.attachDependencies || o.abortOnContainerExit || o.abortOnContainerFailure || o.attach.length)
    )
      throw new Error(
        '--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch',
      );
    checkUpOptions(opts);
    if (o.exitCodeFrom && !p.services[o.exitCodeFrom]) throw new Error(`no such service: ${o.exitCodeFrom}`);
    if (o.detach || o.start === false) {
      await up(await ctx.client(), p, opts);
      return;
    }
    const attachTo = attachTargets(p, services, o).filter((s) => !o.skipAttach.includes(s));
    const code = await upAttached(ctx, await ctx.client(), p, opts, {
      attachTo,
      abortOnExit: o.abortOnContainerExit,
      abortOnFailure: o.abortOnContainerFailure,
      exitCodeFrom: o.exitCodeFrom,
      color: o.color !== false && !!ctx.io.stdout.isTTY,
      logPrefix: o.logPrefix !== false,
      timestamps: o.timestamps,
    });
    if (code !== 0) throw new ExitError(code);
  });
  createOptions(prog.command('create').argument('[services...]')).action(async (services: string[], o) => {
    const opts = {
      ...upOptions(services, o, args),
      noStart: true,
      progress: say,
      warn: say,
      confirm: ask(o.yes),
    };
    checkUpOptions(opts);
    await up(await ctx.client(), load(), opts);
  });
  prog
    .command('down')
    .option('-v, --volumes', 'Remove named volumes declared in the volumes section')
    .option('--rmi <type>', 'Remove images used by services ("local"|"all")')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', seconds)
    .action(async (o) => {
      await down(await ctx.client(), load(), {
        volumes: o.volumes,
        rmi: o.rmi,
        removeOrphans: o.removeOrphans,
        ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
        progress: say,
      });
    });
  prog
    .command('build')
    .argument('[services...]')
    .action(async (services: string[]) => {
      const p = load();
      const client = await ctx.client();
      for (const key of services.length ? services : Object.keys(p.services))
        await buildService(client, p, key, say);
    });
  prog
    .command('ps')
    .argument('[services...]')
    .option('-q, --quiet', 'Only display IDs')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('--services', 'Display services')
    .option(
      '--status <status>',
      'Filter services by status',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--no-trunc', "Don't truncate output")
    .action(async (services: string[], o) => {
      const p = load();
      const client = await ctx.client();
      // Compose v2: running containers of the project, one-offs and stopped ones with -a.
      const list = (
        await client.containerList({ all: true, filters: { label: [`${LABEL.project}=${p.name}`] } })
      ).filter(
        (c) =>
          (o.all || c.State === 'running') &&
          (o.all || c.Labels?.[LABEL.oneoff] !== 'True') &&
          (!services.length || services.includes(c.Labels?.[LABEL.service] ?? '')) &&
          (!(o.status as string[]).length || (o.status as string[]).includes(c.State)),
      );
      list.sort((a, b) => (a.Names[0] ?? '').localeCompare(b.Names[0] ?? ''));
      if (o.quiet) {
        for (const c of list) ctx.out(c.Id);
        return;
      }
      if (o.services) {
        for (const s of new Set(list.map((c) => c.Labels?.[LABEL.service] ?? ''))) ctx.out(s);
        return;
      }
      const now = Date.now();
      const rows = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
      for (const c of list) {
        const r = containerRow(c, { trunc: o.trunc !== false, now });
        rows.push([
          (c.Names[0] ?? '').replace(/^\//, ''),
          c.Image,
          r.Command,
          c.Labels?.[LABEL.service] ?? '',
          r.RunningFor,
          c.Status,
          r.Ports,
        ]);
      }
      ctx.io.stdout.write(tabwrite(rows, 10, 3));
    });
  prog
    .command('logs')
    .argument('[services...]')
    .option('-f, --follow', 'Follow log output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--no-color', 'Produce monochrome output')
    .option('-t, --timestamps', 'Show timestamps')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs for each container', 'all')
    .option(
      '--since <time>',
      'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)',
    )
    .option(
      '--until <time>',
      'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)',
    )
    .action(async (services: string[], o) => {
      const p = load();
      const window = {
        ...(o.since ? { since: toApiTimestamp(o.since) } : {}),
        ...(o.until ? { until: toApiTimestamp(o.until) } : {}),
        tail: o.tail as string,
        timestamps: !!o.timestamps,
      };
      const client = await ctx.client();
      const list = (await projectContainers(client, p.name)).filter(
        (c) => !services.length || services.includes(c.Labels?.[LABEL.service] ?? ''),
      );
      // Compose v2 labels lines with the container name without the project prefix.
      const printer = new LogPrinter(
        (s) => ctx.io.stdout.write(s),
        (s) => ctx.io.stderr.write(s),
        { color: o.color !== false && !!ctx.io.stdout.isTTY, prefix: o.logPrefix !== false },
      );
      printer.register(list.map((c) => shortName(p.name, c)));
      await Promise.all(
        list.map(async (c) => {
          const name = shortName(p.name, c);
          const tty = (await client.containerInspect(c.Id)).Config.Tty ?? false;
          const partial = ['', '', ''];
          for await (const f of client.containerLogs(c.Id, {
            follow: o.follow,
            stdout: true,
            stderr: true,
            tty,
            ...window,
          })) {
            const i = f.stream === 2 ? 2 : 1;
            const lines = (partial[i] + f.payload.toString()).split('\n');
            partial[i] = lines.pop() ?? '';
            for (const l of lines) printer.line(name, l, i === 2);
          }
          if (partial[1]) printer.line(name, partial[1]);
          if (partial[2]) printer.line(name, partial[2], true);
        }),
      );
    });
  registerComposeCommands(prog, ctx, load, say);
  registerComposeLifecycle(prog, ctx, load, say);
  try {
    await prog.parseAsync(spellNoAttach(args), { from: 'user' });
  } catch (err) {
    if (
      err &&
      typeof err === 'object' &&
      'code' in err &&
      String((err as { code: string }).code).startsWith('commander.')
    ) {
      const code = (err as { code: string; exitCode: number }).code;
      return code === 'commander.helpDisplayed' || code === 'commander.help' ? 0 : 1;
    }
    throw err;
  }
  return 0;
};
