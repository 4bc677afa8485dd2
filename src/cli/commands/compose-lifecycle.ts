/**
 * `berth compose start | stop | restart | kill | pause | unpause | rm` with Docker Compose v2's
 * flags (cmd/compose/start.go … remove.go); the work is src/compose/lifecycle.ts.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  containerLabel,
  killServices,
  type Project,
  pauseServices,
  removableContainers,
  removeServiceContainers,
  restartServices,
  startServices,
  stopServices,
} from '../../compose/index.ts';
import type { CliContext } from '../context.ts';
import { readLine } from './disk.ts';

function seconds(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`invalid number of seconds: ${v}`);
  return Number(v);
}

export function registerComposeLifecycle(
  prog: Command,
  ctx: CliContext,
  load: () => Project,
  say: (line: string) => void,
): void {
  prog
    .command('start')
    .argument('[services...]')
    .action(async (services: string[]) => startServices(await ctx.client(), load(), services, say));
  prog
    .command('stop')
    .argument('[services...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', seconds)
    .action(async (services: string[], o: { timeout?: number }) =>
      stopServices(await ctx.client(), load(), services, o, say),
    );
  prog
    .command('restart')
    .argument('[services...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', seconds)
    .option('--no-deps', "Don't restart dependent services")
    .action(async (services: string[], o: { timeout?: number; deps: boolean }) =>
      restartServices(
        await ctx.client(),
        load(),
        services,
        { ...(o.timeout === undefined ? {} : { timeout: o.timeout }), noDeps: !o.deps },
        say,
      ),
    );
  prog
    .command('kill')
    .argument('[services...]')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .action(async (services: string[], o: { signal: string; removeOrphans?: boolean }) =>
      killServices(await ctx.client(), load(), services, o, say),
    );
  for (const verb of ['pause', 'unpause'] as const)
    prog
      .command(verb)
      .argument('[services...]')
      .action(async (services: string[]) =>
        pauseServices(await ctx.client(), load(), services, verb === 'pause', say),
      );
  prog
    .command('rm')
    .argument('[services...]')
    .option('-f, --force', "Don't ask to confirm removal")
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .action(async (services: string[], o: { force?: boolean; stop?: boolean; volumes?: boolean }) => {
      const client = await ctx.client();
      const project = load();
      if (o.stop) await stopServices(client, project, services, {}, say);
      const list = await removableContainers(client, project, services);
      if (!list.length) {
        say('No stopped containers');
        return;
      }
      const msg = `Going to remove ${list.map(containerLabel).join(', ')}`;
      if (o.force) ctx.out(msg);
      else {
        ctx.io.stdout.write(`? ${msg} (y/N) `);
        if (!/^y(es)?$/i.test((await readLine(ctx.io.stdin)).trim())) return;
      }
      await removeServiceContainers(client, list, o, say);
    });
}
