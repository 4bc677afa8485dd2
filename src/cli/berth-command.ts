/**
 * commander's Command adjusted to docker's (pflag's) parsing rules: boolean flags also accept
 * `--flag=true|false` (pflag allows it; commander does not), and every usage error is thrown as a
 * UsageError formatted like docker 28 prints it instead of being written by commander.
 */
import { Command, type Option } from 'commander';
import { UsageError } from './errors.ts';

export class BerthCommand extends Command {
  override createCommand(name?: string): BerthCommand {
    return new BerthCommand(name);
  }

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    return super.parseOptions(normalizeBooleanFlags(this, args));
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    throw new UsageError(usageMessage(this, message, errorOptions?.code ?? 'commander.error'));
  }
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return cmd.options.find((o) => o.long === flag || o.short === flag);
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

/**
 * Rewrites `--flag=true` to `--flag` and `--flag=false` to `--no-flag` (or drops it when the flag
 * has no negation, since false is every boolean's default). Stops at the first operand of a
 * command that passes its trailing arguments through (`run IMAGE CMD…`) or has subcommands.
 */
export function normalizeBooleanFlags(cmd: Command, args: string[]): string[] {
  const out: string[] = [];
  const stopAtOperand =
    (cmd as unknown as { _passThroughOptions: boolean })._passThroughOptions || cmd.commands.length > 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      const opt = findOption(cmd, name);
      if (opt && !takesValue(opt) && eq >= 0) {
        const value = arg.slice(eq + 1).toLowerCase();
        if (['true', '1', 't'].includes(value)) out.push(name);
        else if (['false', '0', 'f'].includes(value)) {
          const negation = `--no-${name.slice(2)}`;
          if (findOption(cmd, negation)) out.push(negation);
        } else out.push(arg);
        continue;
      }
      out.push(arg);
      if (opt && takesValue(opt) && eq < 0 && opt.required && i + 1 < args.length)
        out.push(args[++i] as string);
      continue;
    }
    if (arg.length > 1 && arg.startsWith('-')) {
      out.push(arg);
      // A short cluster (`-it`, `-eFOO=1`, `-e FOO`): does it end with an option that takes the next arg?
      for (let j = 1; j < arg.length; j++) {
        const opt = findOption(cmd, `-${arg[j]}`);
        if (!opt) break;
        if (takesValue(opt)) {
          if (j === arg.length - 1 && opt.required && i + 1 < args.length) out.push(args[++i] as string);
          break;
        }
      }
      continue;
    }
    if (stopAtOperand) {
      out.push(...args.slice(i));
      break;
    }
    out.push(arg);
  }
  return out;
}

/** The command as typed: `berth container ls`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Docker 28's usage-error text for a commander error. */
export function usageMessage(cmd: Command, message: string, code: string): string {
  const path = commandPath(cmd);
  const usage = `Usage:  ${path} ${cmd.usage()}`.trimEnd();
  const runHelp = `Run '${path} --help' for more information`;
  const seeHelp = `See '${path} --help' for more information`;
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'commander.unknownOption': {
      const flag = quoted;
      const text = flag.startsWith('--')
        ? `unknown flag: ${flag.replace(/=.*$/, '')}`
        : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`;
      return `${text}\n\n${usage}\n\n${runHelp}`;
    }
    case 'commander.optionMissingArgument': {
      const long = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      return `flag needs an argument: ${long}\n\n${usage}\n\n${runHelp}`;
    }
    case 'commander.invalidArgument': {
      const m = /option '(.+?)(?: <[^>]*>| \[[^\]]*\])?' argument '(.*)' is invalid\. ?(.*)$/s.exec(
        message.replace(/^error: /, ''),
      );
      const text = m
        ? `invalid argument "${m[2]}" for "${m[1]}" flag: ${m[3]}`
        : message.replace(/^error: /, '');
      return `${text}\n\n${usage}\n\n${runHelp}`;
    }
    case 'commander.missingArgument': {
      const min = cmd.registeredArguments.filter((a) => a.required).length;
      return `${rootName(cmd)}: '${path}' requires at least ${min} argument${min === 1 ? '' : 's'}\n\n${usage}\n\n${seeHelp}`;
    }
    case 'commander.excessArguments': {
      const max = cmd.registeredArguments.length;
      const text =
        max === 0 ? 'accepts no arguments' : `requires at most ${max} argument${max === 1 ? '' : 's'}`;
      return `${rootName(cmd)}: '${path}' ${text}\n\n${usage}\n\n${seeHelp}`;
    }
    case 'commander.unknownCommand': {
      const name = cmd.args[0] ?? quoted;
      return `${rootName(cmd)}: unknown command: ${path} ${name}\n\n${runHelp}`;
    }
    default:
      return `${message.replace(/^error: /, '')}\n\n${usage}\n\n${runHelp}`;
  }
}

function rootName(cmd: Command): string {
  let c: Command = cmd;
  while (c.parent) c = c.parent;
  return c.name();
}
