/**
 * Help text laid out like docker's (cobra's templates): `Usage:  berth ps [OPTIONS]`, the
 * description, aliases, sub-commands, and options in pflag's style (`-f, --filter filter`,
 * long-only flags indented to line up, the value type after the flag).
 */
import type { Command, Help, Option } from 'commander';
import { commandPath } from './berth-command.ts';

function pflagName(o: Option): string {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '');
  const long = o.long ?? '';
  const base = o.short ? `${o.short}, ${long}` : `    ${long}`;
  return value ? `${base} ${value}` : base;
}

function defaultSuffix(o: Option): string {
  const d = o.defaultValue;
  if (d === undefined || d === false || d === true || (Array.isArray(d) && d.length === 0)) return '';
  return ` (default ${typeof d === 'string' ? `"${d}"` : String(d)})`;
}

export function formatHelp(cmd: Command, helper: Help): string {
  const path = commandPath(cmd);
  const out: string[] = [`Usage:  ${path} ${cmd.usage()}`.trimEnd(), ''];
  if (cmd.description()) out.push(cmd.description(), '');
  const aliases = cmd.aliases();
  if (aliases.length && cmd.parent) {
    const parentPath = commandPath(cmd.parent);
    out.push('Aliases:', `  ${[cmd.name(), ...aliases].map((a) => `${parentPath} ${a}`).join(', ')}`, '');
  }
  const commands = helper.visibleCommands(cmd);
  if (commands.length) {
    out.push('Commands:');
    const width = Math.max(11, ...commands.map((c) => c.name().length));
    for (const c of commands) out.push(`  ${c.name().padEnd(width)} ${c.description()}`);
    out.push('');
  }
  const options = helper.visibleOptions(cmd);
  if (options.length) {
    out.push(cmd.parent ? 'Options:' : 'Global Options:');
    const names = options.map(pflagName);
    const width = Math.max(...names.map((n) => n.length));
    options.forEach((o, i) => {
      out.push(`  ${(names[i] as string).padEnd(width)}   ${o.description}${defaultSuffix(o)}`);
    });
    out.push('');
  }
  if (commands.length) out.push(`Run '${path} COMMAND --help' for more information on a command.`, '');
  return `${out.join('\n')}`;
}
