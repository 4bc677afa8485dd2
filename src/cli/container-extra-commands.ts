/**
 * `stats`, `cp` and `port`, registered on the program and on `berth container` (program.ts
 * calls defineContainerExtraCommands once).
 */
import type { BerthCommand } from './berth-command.ts';
import type { Handler } from './program.ts';

type Run = (load: () => Promise<Handler>) => (...args: unknown[]) => Promise<void>;

export function defineContainerExtraCommands(
  groups: { program: BerthCommand; container: BerthCommand },
  run: Run,
): void {
  for (const p of [groups.program, groups.container]) {
    p.command('stats')
      .usage('[OPTIONS] [CONTAINER...]')
      .description('Display a live stream of container(s) resource usage statistics')
      .argument('[containers...]')
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-stream', 'Disable streaming stats and only pull the first result')
      .option('--no-trunc', 'Do not truncate output')
      .action(run(async () => (await import('./commands/stats.ts')).statsCommand));
    p.command('cp')
      .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
      .description('Copy files/folders between a container and the local filesystem')
      .argument('<src>')
      .argument('<dest>')
      .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
      .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
      .option(
        '-q, --quiet',
        'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
      )
      .action(run(async () => (await import('./commands/cp.ts')).cpCommand));
    p.command('port')
      .usage('CONTAINER [PRIVATE_PORT[/PROTO]]')
      .description('List port mappings or a specific mapping for the container')
      .argument('<container>')
      .argument('[private-port]')
      .action(run(async () => (await import('./commands/port.ts')).portCommand));
  }
}
