/**
 * `berth compose …`: Docker Compose's command line over src/compose (client-side: it drives
 * the daemon through the Engine API only). Its own commander program parses the subcommands.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
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
  projectContainers,
  up,
} from '../../compose/index.ts';
import type { Handler } from '../program.ts';
import { ExitError } from '../errors.ts';
import { LogPrinter, shortName, upAttached } from './compose-attach.ts';
import { registerComposeCommands, tabwrite } from './compose-commands.ts';
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
  const scaleMap = (list: string[]) =>
    Object.fromEntries(list.map((s) => s.split('=')).map(([k, v]) => [k as string, Number(v)]));

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
  prog
    .command('up')
    .argument('[services...]')
    .option('-d, --detach', 'Detached mode')
    .option('--build', 'Build images before starting containers')
    .option('--force-recreate', 'Recreate containers even if their configuration has not changed')
    .option('--no-deps', "Don't start linked services")
    .option(
      '--scale <service=n>',
      'Scale SERVICE to NUM instances',
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option('--wait', 'Wait for services to be running|healthy')
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped')
    .option('--exit-code-from <service>', 'Return the exit code of the selected service container')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option(
      '--attach <service>',
      'Restrict attaching to the specified services',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .action(async (services: string[], o) => {
      const p = load();
      const opts = {
        removeOrphans: o.removeOrphans,
        warn: say,
        build: o.build,
        forceRecreate: o.forceRecreate,
        noDeps: o.deps === false,
        scale: scaleMap(o.scale),
        services,
        wait: o.wait,
        progress: say,
      };
      if (o.detach || o.wait) {
        if (o.abortOnContainerExit)
          throw new Error('--abort-on-container-exit and --detach are incompatible');
        if (o.exitCodeFrom) throw new Error('--exit-code-from and --detach are incompatible');
        await up(await ctx.client(), p, opts);
        return;
      }
      if (o.exitCodeFrom && !p.services[o.exitCodeFrom])
        throw new Error(`no such service: ${o.exitCodeFrom}`);
      const code = await upAttached(ctx, await ctx.client(), p, opts, {
        attachTo: attachTargets(p, services, o),
        abortOnExit: o.abortOnContainerExit,
        exitCodeFrom: o.exitCodeFrom,
        color: o.color !== false && !!ctx.io.stdout.isTTY,
        logPrefix: o.logPrefix !== false,
      });
      if (code !== 0) throw new ExitError(code);
    });
  prog
    .command('down')
    .option('-v, --volumes', 'Remove named volumes declared in the volumes section')
    .option('--rmi <type>', 'Remove images used by services ("local"|"all")')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .action(async (o) => {
      await down(await ctx.client(), load(), {
        volumes: o.volumes,
        rmi: o.rmi,
        removeOrphans: o.removeOrphans,
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
    .action(async (services: string[], o) => {
      const p = load();
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
  for (const verb of ['start', 'stop', 'restart', 'kill', 'pause', 'unpause', 'rm'] as const) {
    prog
      .command(verb)
      .argument('[services...]')
      .option('-f, --force', "rm: don't ask to confirm removal")
      .option('-s, --stop', 'rm: stop the containers first')
      .action(async (services: string[]) => {
        const p = load();
        const client = await ctx.client();
        const list = (await projectContainers(client, p.name)).filter(
          (c) => !services.length || services.includes(c.Labels?.[LABEL.service] ?? ''),
        );
        for (const c of list) {
          const name = (c.Names[0] ?? '').replace(/^\//, '');
          if (verb === 'start') await client.containerStart(c.Id);
          else if (verb === 'stop') await client.containerStop(c.Id);
          else if (verb === 'restart') await client.containerRestart(c.Id);
          else if (verb === 'kill') await client.containerKill(c.Id);
          else if (verb === 'pause') await client.containerPause(c.Id);
          else if (verb === 'unpause') await client.containerUnpause(c.Id);
          else if (c.State !== 'running') await client.containerRemove(c.Id);
          else continue;
          say(
            ` Container ${name}  ${verb[0]?.toUpperCase()}${verb.slice(1)}ed`
              .replace('Stoped', 'Stopped')
              .replace('Rmed', 'Removed'),
          );
        }
      });
  }
  try {
    await prog.parseAsync(args, { from: 'user' });
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
