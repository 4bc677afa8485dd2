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
  }
}
