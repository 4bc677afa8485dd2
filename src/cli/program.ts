/**
 * The `berth` command line: docker's commands, flags and aliases, declared with commander.
 * Declaring flags is cheap; each command's implementation is imported only when it runs, so
 * `berth ps` loads the ps code and the client and nothing else.
 *
 * runCli(argv, io, env) parses, runs one command and resolves with the exit status; it never
 * calls process.exit, so tests drive it in-process.
 */
import { CommanderError, Option } from 'commander';
import { isBerthError } from '../common/errors.ts';
import { BerthCommand } from './berth-command.ts';
import { declareOnly } from './command-filter.ts';
import { addContainerFlags } from './container-options.ts';
import { type CliContext, type CliIo, createContext, type GlobalFlags } from './context.ts';
import { ExitError, UsageError } from './errors.ts';
import { collect, parseBytes, parseInteger, parseNanoCpus, parseSwapBytes } from './flag-parsers.ts';
import { formatHelp } from './help.ts';
import { defineContainerExtraCommands } from './container-extra-commands.ts';
import { defineStorageCommands } from './storage-commands.ts';
import { berthVersionLine } from './version-line.ts';

/** A command implementation: gets the context, commander's option values and the operands. */
export type Handler = (
  ctx: CliContext,
  opts: Record<string, unknown>,
  args: string[],
  cmd: BerthCommand,
) => Promise<number | undefined>;

type Loader = () => Promise<Handler>;

export async function runCli(
  argv: string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let status = 0;
  const program = buildProgram(
    io,
    env,
    (s) => {
      status = s;
    },
    argv,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (err) {
    return reportError(err, io);
  }
}

/** Prints an error as docker does and returns the exit status. */
export function reportError(err: unknown, io: CliIo): number {
  const write = (s: string) => io.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return 0;
    }
    write(err.message);
    return 125;
  }
  if (err instanceof UsageError) {
    write(err.message);
    return err.status;
  }
  if (err instanceof ExitError) {
    if (err.message) write(err.message);
    return err.status;
  }
  if (isBerthError(err) && err.name === 'DaemonError') {
    write(`Error response from daemon: ${err.message}`);
    return 1;
  }
  if (isBerthError(err) && err.name === 'DaemonUnreachableError') {
    write(err.message);
    return 1;
  }
  write(`Error: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
}

/** With argv, only the command it runs is declared (command-filter.ts); without, all of them. */
export function buildProgram(
  io: CliIo,
  env: NodeJS.ProcessEnv,
  setStatus: (s: number) => void,
  argv?: readonly string[],
): BerthCommand {
  const program = new BerthCommand('berth');
  program
    .usage('[OPTIONS] COMMAND')
    .description('A self-sufficient runtime for containers')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .helpOption('-h, --help', 'Print usage')
    .helpCommand(false)
    .configureHelp({ formatHelp })
    .option('-H, --host <string>', 'Daemon socket to connect to')
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .option('--tlsverify', 'Use TLS and verify the remote')
    .option('--tlscacert <string>', 'Trust certs signed only by this CA (default "~/.docker/ca.pem")')
    .option('--tlscert <string>', 'Path to TLS certificate file (default "~/.docker/cert.pem")')
    .option('--tlskey <string>', 'Path to TLS key file (default "~/.docker/key.pem")')
    .option('-D, --debug', 'Enable debug mode')
    .option(
      '-l, --log-level <string>',
      'Set the logging level ("debug", "info", "warn", "error", "fatal")',
      'info',
    )
    .option('-v, --version', 'Print version information and quit')
    .action(() => {
      if (program.args.length > 0) {
        throw new UsageError(
          `berth: unknown command: berth ${program.args[0]}\n\nRun 'berth --help' for more information`,
        );
      }
      if (program.opts().version) {
        io.stdout.write(`${berthVersionLine()}\n`);
        return;
      }
      program.outputHelp();
    });

  const run =
    (load: Loader) =>
    async (...actionArgs: unknown[]) => {
      const cmd = actionArgs[actionArgs.length - 1] as BerthCommand;
      const ctx = createContext(io, env, program.opts() as GlobalFlags);
      const handler = await load();
      try {
        const s = await handler(ctx, cmd.opts(), cmd.args, cmd);
        setStatus(typeof s === 'number' ? s : 0);
      } finally {
        const client = ctx.clientIfCreated();
        if (client) (await client).close();
      }
    };

  // Each definer adds one command to `parent` under `name`; management commands reuse them.
  const defs = {
    run: (p: BerthCommand, name = 'run') => {
      const c = p
        .command(name)
        .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
        .description('Create and run a new container from an image')
        .helpOption('--help', 'Print usage')
        .passThroughOptions()
        .argument('<image>')
        .argument('[command...]');
      c.option('-d, --detach', 'Run container in background and print container ID');
      c.option('--sig-proxy', 'Proxy received signals to the process (default true)');
      c.addOption(new Option('--no-sig-proxy').hideHelp());
      c.option('--detach-keys <string>', 'Override the key sequence for detaching a container');
      c.option('-q, --quiet', 'Suppress the pull output');
      addContainerFlags(c);
      c.action(run(async () => (await import('./commands/run.ts')).runCommand));
    },
    create: (p: BerthCommand, name = 'create') => {
      const c = p
        .command(name)
        .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
        .description('Create a new container')
        .helpOption('--help', 'Print usage')
        .passThroughOptions()
        .argument('<image>')
        .argument('[command...]');
      c.option('-q, --quiet', 'Suppress the pull output');
      addContainerFlags(c);
      c.action(run(async () => (await import('./commands/run.ts')).createCommand));
    },
    start: (p: BerthCommand) =>
      p
        .command('start')
        .usage('[OPTIONS] CONTAINER [CONTAINER...]')
        .description('Start one or more stopped containers')
        .argument('<container...>')
        .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
        .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
        .option('-i, --interactive', "Attach container's STDIN")
        .action(run(async () => (await import('./commands/lifecycle.ts')).startCommand)),
    stop: (p: BerthCommand) =>
      p
        .command('stop')
        .usage('[OPTIONS] CONTAINER [CONTAINER...]')
        .description('Stop one or more running containers')
        .argument('<container...>')
        .option('-s, --signal <string>', 'Signal to send to the container')
        .option('-t, --timeout <int>', 'Seconds to wait before killing the container', parseInteger)
        .addOption(new Option('--time <int>').argParser(parseInteger).hideHelp())
        .action(run(async () => (await import('./commands/lifecycle.ts')).stopCommand)),
    restart: (p: BerthCommand) =>
      p
        .command('restart')
        .usage('[OPTIONS] CONTAINER [CONTAINER...]')
        .description('Restart one or more containers')
        .argument('<container...>')
        .option('-s, --signal <string>', 'Signal to send to the container')
        .option('-t, --timeout <int>', 'Seconds to wait before killing the container', parseInteger)
        .addOption(new Option('--time <int>').argParser(parseInteger).hideHelp())
        .action(run(async () => (await import('./commands/lifecycle.ts')).restartCommand)),
    update: (p: BerthCommand) =>
      p
        .command('update')
        .usage('[OPTIONS] CONTAINER [CONTAINER...]')
        .description('Update configuration of one or more containers')
        .argument('<container...>')
        .option(
          '--blkio-weight <uint16>',
          'Block IO (relative weight), between 10 and 1000, or 0 to disable',
          parseInteger,
        )
        .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period', parseInteger)
        .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota', parseInteger)
        .option('--cpu-rt-period <int>', 'Limit the CPU real-time period in microseconds', parseInteger)
        .option('--cpu-rt-runtime <int>', 'Limit the CPU real-time runtime in microseconds', parseInteger)
        .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)', parseInteger)
        .option('--cpus <decimal>', 'Number of CPUs', parseNanoCpus)
        .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
        .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
        .addOption(new Option('--kernel-memory <bytes>').argParser(parseBytes).hideHelp())
        .option('-m, --memory <bytes>', 'Memory limit', parseBytes)
        .option('--memory-reservation <bytes>', 'Memory soft limit', parseBytes)
        .option(
          '--memory-swap <bytes>',
          'Swap limit equal to memory plus swap: -1 to enable unlimited swap',
          parseSwapBytes,
        )
        .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)', parseInteger)
        .option('--restart <string>', 'Restart policy to apply when a container exits')
        .action(run(async () => (await import('./commands/update.ts')).updateCommand)),
    pause: (p: BerthCommand) =>
      p
        .command('pause')
        .usage('CONTAINER [CONTAINER...]')
        .description('Pause all processes within one or more containers')
        .argument('<container...>')
        .action(run(async () => (await import('./commands/update.ts')).pauseCommand)),
    unpause: (p: BerthCommand) =>
      p
        .command('unpause')
        .usage('CONTAINER [CONTAINER...]')
        .description('Unpause all processes within one or more containers')
        .argument('<container...>')
        .action(run(async () => (await import('./commands/update.ts')).unpauseCommand)),
    kill: (p: BerthCommand) =>
      p
        .command('kill')
        .usage('[OPTIONS] CONTAINER [CONTAINER...]')
        .description('Kill one or more running containers')
        .argument('<container...>')
        .option('-s, --signal <string>', 'Signal to send to the container')
        .action(run(async () => (await import('./commands/lifecycle.ts')).killCommand)),
    rm: (p: BerthCommand, name = 'rm', aliases: string[] = []) =>
      p
        .command(name)
        .aliases(aliases)
        .usage('[OPTIONS] CONTAINER [CONTAINER...]')
        .description('Remove one or more containers')
        .argument('<container...>')
        .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
        .option('-l, --link', 'Remove the specified link')
        .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
        .action(run(async () => (await import('./commands/lifecycle.ts')).rmCommand)),
    wait: (p: BerthCommand) =>
      p
        .command('wait')
        .usage('CONTAINER [CONTAINER...]')
        .description('Block until one or more containers stop, then print their exit codes')
        .argument('<container...>')
        .action(run(async () => (await import('./commands/lifecycle.ts')).waitCommand)),
    rename: (p: BerthCommand) =>
      p
        .command('rename')
        .usage('CONTAINER NEW_NAME')
        .description('Rename a container')
        .argument('<container>')
        .argument('<new-name>')
        .action(run(async () => (await import('./commands/lifecycle.ts')).renameCommand)),
    top: (p: BerthCommand) =>
      p
        .command('top')
        .usage('CONTAINER [ps OPTIONS]')
        .description('Display the running processes of a container')
        .passThroughOptions()
        .argument('<container>')
        .argument('[ps-options...]')
        .action(run(async () => (await import('./commands/lifecycle.ts')).topCommand)),
    ps: (p: BerthCommand, name = 'ps', aliases: string[] = []) =>
      p
        .command(name)
        .aliases(aliases)
        .usage('[OPTIONS]')
        .description('List containers')
        .option('-a, --all', 'Show all containers (default shows just running)')
        .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
        .option('--format <string>', 'Format output using a custom template')
        .option('-n, --last <int>', 'Show n last created containers (includes all states)', parseInteger, -1)
        .option('-l, --latest', 'Show the latest created container (includes all states)')
        .option('--no-trunc', "Don't truncate output")
        .option('-q, --quiet', 'Only display container IDs')
        .option('-s, --size', 'Display total file sizes')
        .action(run(async () => (await import('./commands/ps.ts')).psCommand)),
    logs: (p: BerthCommand) =>
      p
        .command('logs')
        .usage('[OPTIONS] CONTAINER')
        .description('Fetch the logs of a container')
        .argument('<container>')
        .option('--details', 'Show extra details provided to logs')
        .option('-f, --follow', 'Follow log output')
        .option(
          '--since <string>',
          'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
        )
        .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
        .option('-t, --timestamps', 'Show timestamps')
        .option(
          '--until <string>',
          'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
        )
        .action(run(async () => (await import('./commands/logs.ts')).logsCommand)),
    exec: (p: BerthCommand) =>
      p
        .command('exec')
        .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
        .description('Execute a command in a running container')
        .passThroughOptions()
        .argument('<container>')
        .argument('<command...>')
        .option('-d, --detach', 'Detached mode: run command in the background')
        .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
        .option('-e, --env <list>', 'Set environment variables', collect)
        .option('--env-file <list>', 'Read in a file of environment variables', collect)
        .option('-i, --interactive', 'Keep STDIN open even if not attached')
        .option('--privileged', 'Give extended privileges to the command')
        .option('-t, --tty', 'Allocate a pseudo-TTY')
        .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
        .option('-w, --workdir <string>', 'Working directory inside the container')
        .action(run(async () => (await import('./commands/exec.ts')).execCommand)),
    attach: (p: BerthCommand) => {
      const c = p
        .command('attach')
        .usage('[OPTIONS] CONTAINER')
        .description('Attach local standard input, output, and error streams to a running container')
        .argument('<container>')
        .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
        .option('--no-stdin', 'Do not attach STDIN')
        .option('--sig-proxy', 'Proxy all received signals to the process (default true)');
      c.addOption(new Option('--no-sig-proxy').hideHelp());
      c.action(run(async () => (await import('./commands/attach.ts')).attachCommand));
    },
    inspect: (p: BerthCommand, name = 'inspect', type?: 'container' | 'image') => {
      const c = p
        .command(name)
        .usage(
          `[OPTIONS] ${type ? type.toUpperCase() : 'NAME|ID'} [${type ? type.toUpperCase() : 'NAME|ID'}...]`,
        )
        .description(
          type
            ? `Display detailed information on one or more ${type}s`
            : 'Return low-level information on Docker objects',
        )
        .argument('<name...>')
        .option('-f, --format <string>', 'Format output using a custom template');
      if (type !== 'image') c.option('-s, --size', 'Display total file sizes if the type is container');
      if (!type) c.option('--type <string>', 'Only inspect objects of the given type');
      c.action(
        run(async () => {
          const { inspectCommand } = await import('./commands/inspect.ts');
          return (ctx, opts, args) => inspectCommand(ctx, type ? { ...opts, type } : opts, args);
        }),
      );
    },
    images: (p: BerthCommand, name = 'images', aliases: string[] = []) =>
      p
        .command(name)
        .aliases(aliases)
        .usage('[OPTIONS] [REPOSITORY[:TAG]]')
        .description('List images')
        .argument('[repository]')
        .option('-a, --all', 'Show all images (default hides intermediate images)')
        .option('--digests', 'Show digests')
        .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
        .option('--format <string>', 'Format output using a custom template')
        .option('--no-trunc', "Don't truncate output")
        .option('-q, --quiet', 'Only show image IDs')
        .action(run(async () => (await import('./commands/images.ts')).imagesCommand)),
    rmi: (p: BerthCommand, name = 'rmi', aliases: string[] = []) =>
      p
        .command(name)
        .aliases(aliases)
        .usage('[OPTIONS] IMAGE [IMAGE...]')
        .description('Remove one or more images')
        .argument('<image...>')
        .option('-f, --force', 'Force removal of the image')
        .option('--no-prune', 'Do not delete untagged parents')
        .action(run(async () => (await import('./commands/images.ts')).rmiCommand)),
    history: (p: BerthCommand) =>
      p
        .command('history')
        .usage('[OPTIONS] IMAGE')
        .description('Show the history of an image')
        .argument('<image>')
        .option('--format <string>', 'Format output using a custom template')
        .option('--human [bool]', 'Print sizes and dates in human readable format', (v) => v !== 'false')
        .option('--no-trunc', "Don't truncate output")
        .option('-q, --quiet', 'Only show image IDs')
        .action(run(async () => (await import('./commands/image-history.ts')).historyCommand)),
    tag: (p: BerthCommand) =>
      p
        .command('tag')
        .usage('SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]')
        .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
        .argument('<source>')
        .argument('<target>')
        .action(run(async () => (await import('./commands/images.ts')).tagCommand)),
    import: (p: BerthCommand) =>
      p
        .command('import')
        .usage('[OPTIONS] file|URL|- [REPOSITORY[:TAG]]')
        .description('Import the contents from a tarball to create a filesystem image')
        .argument('<source>')
        .argument('[repository]')
        .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
        .option('-m, --message <string>', 'Set commit message for imported image')
        .option('--platform <string>', 'Set platform if server is multi-platform capable')
        .action(run(async () => (await import('./commands/images.ts')).importCommand)),
    build: (p: BerthCommand) =>
      p
        .command('build')
        .usage('[OPTIONS] PATH | URL | -')
        .description('Build an image from a Dockerfile')
        .argument('<path>')
        .option('-t, --tag <list>', 'Name and optionally a tag in the "name:tag" format', collect)
        .option('-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
        .option('--build-arg <list>', 'Set build-time variables', collect)
        .option('--label <list>', 'Set metadata for an image', collect)
        .option('--target <string>', 'Set the target build stage to build.')
        .option('--no-cache', 'Do not use cache when building the image')
        .option('-q, --quiet', 'Suppress the build output and print image ID on success')
        .option('--iidfile <string>', 'Write the image ID to the file')
        .option('--network <string>', 'Set the networking mode for the RUN instructions during build')
        .option('--rm', 'Remove intermediate containers after a successful build (default true)')
        .option('--force-rm', 'Always remove intermediate containers')
        .option('--pull', 'Always attempt to pull a newer version of the image')
        .option('--cache-from <list>', 'Images to consider as cache sources', collect)
        .option('--platform <string>', 'Set platform if server is multi-platform capable')
        .action(run(async () => (await import('./commands/build.ts')).buildCommand)),
    version: (p: BerthCommand) =>
      p
        .command('version')
        .usage('[OPTIONS]')
        .description('Show the Docker version information')
        .option('-f, --format <string>', 'Format output using a custom template')
        .action(run(async () => (await import('./commands/system.ts')).versionCommand)),
    info: (p: BerthCommand) =>
      p
        .command('info')
        .usage('[OPTIONS]')
        .description('Display system-wide information')
        .option('-f, --format <string>', 'Format output using a custom template')
        .action(run(async () => (await import('./commands/system.ts')).infoCommand)),
    events: (p: BerthCommand) =>
      p
        .command('events')
        .usage('[OPTIONS]')
        .description('Get real time events from the server')
        .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
        .option('--format <string>', 'Format output using a custom template')
        .option('--since <string>', 'Show all events created since timestamp')
        .option('--until <string>', 'Stream events until this timestamp')
        .action(run(async () => (await import('./commands/system.ts')).eventsCommand)),
  };

  const declared = declareOnly(program, argv);
  // Top-level commands, in docker's order.
  program
    .command('compose')
    .description('Docker Compose: define and run multi-container applications')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .argument('[args...]')
    .action(run(async () => (await import('./commands/compose.ts')).composeCommand));
  defs.run(program);
  defs.exec(program);
  defs.ps(program);
  defs.images(program);
  defs.version(program);
  defs.info(program);
  defs.attach(program);
  defs.build(program);
  defs.create(program);
  defs.events(program);
  defs.import(program);
  defs.inspect(program);
  defs.kill(program);
  defs.logs(program);
  defs.pause(program);
  defs.unpause(program);
  defs.update(program);
  defs.rename(program);
  defs.restart(program);
  defs.rm(program);
  defs.rmi(program);
  defs.start(program);
  defs.stop(program);
  defs.history(program);
  defs.tag(program);
  defs.top(program);
  defs.wait(program);

  const container = program
    .command('container')
    .usage('COMMAND')
    .description('Manage containers')
    .helpCommand(false);
  defs.attach(container);
  defs.create(container);
  defs.exec(container);
  defs.inspect(container, 'inspect', 'container');
  defs.kill(container);
  defs.logs(container);
  defs.pause(container);
  defs.unpause(container);
  defs.update(container);
  defs.ps(container, 'ls', ['ps', 'list']);
  defs.rename(container);
  defs.restart(container);
  defs.rm(container, 'rm', ['remove']);
  defs.run(container);
  defs.start(container);
  defs.stop(container);
  defs.top(container);
  defs.wait(container);

  const image = program.command('image').usage('COMMAND').description('Manage images').helpCommand(false);
  defs.build(image);
  defs.import(image);
  defs.inspect(image, 'inspect', 'image');
  defs.images(image, 'ls', ['list']);
  defs.rmi(image, 'rm', ['remove']);
  defs.tag(image);
  defs.history(image);

  const transfer = async () => import('./commands/transfer.ts');
  const pull = (p: BerthCommand) =>
    p
      .command('pull')
      .usage('[OPTIONS] NAME[:TAG|@DIGEST]')
      .description('Download an image from a registry')
      .argument('<name>')
      .option('-a, --all-tags', 'Download all tagged images in the repository')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .action(run(async () => (await transfer()).pullCommand));
  const push = (p: BerthCommand) =>
    p
      .command('push')
      .usage('[OPTIONS] NAME[:TAG]')
      .description('Upload an image to a registry')
      .argument('<name>')
      .option('-a, --all-tags', 'Push all tags of an image to the repository')
      .option('-q, --quiet', 'Suppress verbose output')
      .action(run(async () => (await transfer()).pushCommand));
  const save = (p: BerthCommand) =>
    p
      .command('save')
      .usage('[OPTIONS] IMAGE [IMAGE...]')
      .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<image...>')
      .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
      .action(run(async () => (await transfer()).saveCommand));
  const load = (p: BerthCommand) =>
    p
      .command('load')
      .usage('[OPTIONS]')
      .description('Load an image from a tar archive or STDIN')
      .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .action(run(async () => (await transfer()).loadCommand));
  for (const def of [pull, push, save, load]) {
    def(program);
    def(image);
  }
  const commit = (p: BerthCommand) =>
    p
      .command('commit')
      .usage('[OPTIONS] CONTAINER [REPOSITORY[:TAG]]')
      .description("Create a new image from a container's changes")
      .argument('<container>')
      .argument('[repository]')
      .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
      .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
      .option('-m, --message <string>', 'Commit message')
      .option('-p, --pause', 'Pause container during commit (default true)')
      .addOption(new Option('--no-pause').hideHelp())
      .action(run(async () => (await transfer()).commitCommand));
  commit(program);
  commit(container);
  program
    .command('search')
    .usage('[OPTIONS] TERM')
    .description('Search Docker Hub for images')
    .argument('<term>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <string>', 'Pretty-print search using a Go template')
    .option('--limit <int>', 'Max number of search results')
    .option('--no-trunc', "Don't truncate output")
    .action(run(async () => (await import('./commands/search.ts')).searchCommand));
  program
    .command('login')
    .usage('[OPTIONS] [SERVER]')
    .description('Log in to a registry')
    .argument('[server]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .action(run(async () => (await transfer()).loginCommand));
  program
    .command('logout')
    .usage('[SERVER]')
    .description('Log out from a registry')
    .argument('[server]')
    .action(run(async () => (await transfer()).logoutCommand));

  program
    .command('registry')
    .usage('serve|garbage-collect [OPTIONS]')
    .description("Run berth's registry server")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments(true)
    .argument('[args...]')
    .action(run(async () => (await import('./commands/registry.ts')).registryCommand));

  const system = program.command('system').usage('COMMAND').description('Manage berth').helpCommand(false);
  defs.events(system);
  defs.info(system);
  defineStorageCommands({ program, container, image, system }, run);
  defineContainerExtraCommands({ program, container }, run);

  if (!declared()) return buildProgram(io, env, setStatus);
  // Set last: subcommands copy inherited settings when created, and only the root may see extra words.
  program.allowExcessArguments(true);
  return program;
}
