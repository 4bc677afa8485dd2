/**
 * The volume, network, disk-usage/prune and container-filesystem commands, registered on the
 * program and its management groups (program.ts calls defineStorageCommands once).
 */
import type { BerthCommand } from './berth-command.ts';
import { collect } from './flag-parsers.ts';
import type { Handler } from './program.ts';

type Run = (load: () => Promise<Handler>) => (...args: unknown[]) => Promise<void>;

export function defineStorageCommands(
  groups: { program: BerthCommand; container: BerthCommand; image: BerthCommand; system: BerthCommand },
  run: Run,
): void {
  const { program, container, image, system } = groups;
  const disk = async () => import('./commands/disk.ts');
  const vol = async () => import('./commands/volume.ts');
  const net = async () => import('./commands/network.ts');
  const fs = async () => import('./commands/fs.ts');

  for (const p of [program, container]) {
    p.command('diff')
      .usage('CONTAINER')
      .description("Inspect changes to files or directories on a container's filesystem")
      .argument('<container>')
      .action(run(async () => (await fs()).diffCommand));
    p.command('export')
      .usage('[OPTIONS] CONTAINER')
      .description("Export a container's filesystem as a tar archive")
      .argument('<container>')
      .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
      .action(run(async () => (await fs()).exportCommand));
  }
  container
    .command('prune')
    .usage('[OPTIONS]')
    .description('Remove all stopped containers')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(run(async () => (await disk()).containerPruneCommand));
  image
    .command('prune')
    .usage('[OPTIONS]')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(run(async () => (await disk()).imagePruneCommand));
  system
    .command('df')
    .usage('[OPTIONS]')
    .description('Show docker disk usage')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(run(async () => (await disk()).dfCommand));
  system
    .command('prune')
    .usage('[OPTIONS]')
    .description('Remove unused data')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(run(async () => (await disk()).systemPruneCommand));

  const volume = program.command('volume').usage('COMMAND').description('Manage volumes').helpCommand(false);
  volume
    .command('create')
    .usage('[OPTIONS] [VOLUME]')
    .description('Create a volume')
    .argument('[volume]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect)
    .option('--name <string>', 'Specify volume name')
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .action(run(async () => (await vol()).volumeCreateCommand));
  volume
    .command('ls')
    .aliases(['list'])
    .usage('[OPTIONS]')
    .description('List volumes')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display volume names')
    .action(run(async () => (await vol()).volumeLsCommand));
  volume
    .command('inspect')
    .usage('[OPTIONS] VOLUME [VOLUME...]')
    .description('Display detailed information on one or more volumes')
    .argument('<volume...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(run(async () => (await vol()).volumeInspectCommand));
  volume
    .command('rm')
    .aliases(['remove'])
    .usage('[OPTIONS] VOLUME [VOLUME...]')
    .description('Remove one or more volumes')
    .argument('<volume...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(run(async () => (await vol()).volumeRmCommand));
  volume
    .command('prune')
    .usage('[OPTIONS]')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(run(async () => (await disk()).volumePruneCommand));

  const network = program
    .command('network')
    .usage('COMMAND')
    .description('Manage networks')
    .helpCommand(false);
  network
    .command('create')
    .usage('[OPTIONS] NETWORK')
    .description('Create a network')
    .argument('<network>')
    .option('--attachable', 'Enable manual container attachment')
    .option('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect)
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
    .option('--internal', 'Restrict external access to the network')
    .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect)
    .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
    .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect)
    .option('--ipv6', 'Enable or disable IPv6 networking')
    .option('--label <list>', 'Set metadata on a network', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect)
    .action(run(async () => (await net()).networkCreateCommand));
  network
    .command('ls')
    .aliases(['list'])
    .usage('[OPTIONS]')
    .description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', collect)
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(run(async () => (await net()).networkLsCommand));
  network
    .command('inspect')
    .usage('[OPTIONS] NETWORK [NETWORK...]')
    .description('Display detailed information on one or more networks')
    .argument('<network...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Verbose output for diagnostics')
    .action(run(async () => (await net()).networkInspectCommand));
  network
    .command('connect')
    .usage('[OPTIONS] NETWORK CONTAINER')
    .description('Connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
    .option('--driver-opt <strings>', 'driver options for the network', collect)
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link <list>', 'Add link to another container', collect)
    .option('--link-local-ip <strings>', 'Add a link-local address for the container', collect)
    .action(run(async () => (await net()).networkConnectCommand));
  network
    .command('disconnect')
    .usage('[OPTIONS] NETWORK CONTAINER')
    .description('Disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(run(async () => (await net()).networkDisconnectCommand));
  network
    .command('rm')
    .aliases(['remove'])
    .usage('NETWORK [NETWORK...]')
    .description('Remove one or more networks')
    .argument('<network...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(run(async () => (await net()).networkRmCommand));
  network
    .command('prune')
    .usage('[OPTIONS]')
    .description('Remove all unused networks')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(run(async () => (await disk()).networkPruneCommand));
}
