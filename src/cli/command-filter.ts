/**
 * Declaring every command and flag docker has costs each `berth` call more than most commands
 * take to run, and a call runs one command. declareOnly() lets buildProgram declare only the
 * top-level command that argv names (with all its subcommands and flags): the root's other
 * `.command()` calls get a sink that swallows their whole declaration chain. When argv names no
 * command (help, no operand, an unknown option or command, an alias), the caller declares them all.
 */
import type { Command } from 'commander';

/** Takes any method call and returns itself: the declaration chain of a command not declared. */
const SINK: Command = new Proxy(Object.create(null) as Command, { get: () => () => SINK });

/**
 * The command operand of argv as commander parses the root (positional options: the root's own
 * options come first); '' when there is none but `-v`/`--version` is given (the root prints the
 * version and runs no command); undefined where the parse is not plain: `--`, help, an option the
 * root does not have or whose value is optional, or neither a command nor the version.
 */
export function commandOperand(program: Command, argv: readonly string[]): string | undefined {
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-') return arg;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const opt = program.options.find((o) => o.long === (eq >= 0 ? arg.slice(0, eq) : arg));
      if (!opt || opt.optional) return undefined;
      if (opt.long === '--version') version = true;
      if (opt.required && eq < 0) i++;
      continue;
    }
    // A cluster of short flags (`-D`, `-Hunix:///s`, `-Dl debug`): the first one taking a value ends it.
    for (let j = 1; j < arg.length; j++) {
      const opt = program.options.find((o) => o.short === `-${arg[j]}`);
      if (!opt || opt.optional) return undefined;
      if (opt.long === '--version') version = true;
      if (opt.required) {
        if (j === arg.length - 1) i++;
        break;
      }
    }
  }
  return version ? '' : undefined;
}

/**
 * Until the returned function is called, `program.command(name)` declares only the command argv
 * names (argv undefined: all). The returned function restores `program.command` and tells
 * whether that command was declared; when it was not, the caller must declare everything.
 */
export function declareOnly(program: Command, argv: readonly string[] | undefined): () => boolean {
  const name = argv && commandOperand(program, argv);
  if (name === undefined) return () => true;
  const command = program.command;
  program.command = function (this: Command, nameAndArgs: string, ...rest: unknown[]) {
    if (nameAndArgs.split(' ')[0] !== name) return SINK;
    return (command as (...a: unknown[]) => Command).call(this, nameAndArgs, ...rest);
  } as Command['command'];
  return () => {
    program.command = command;
    return name === '' || program.commands.some((c) => c.name() === name);
  };
}
