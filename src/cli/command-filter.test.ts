import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Command } from 'commander';
import { commandOperand } from './command-filter.ts';
import { buildProgram, reportError } from './program.ts';

function root(): Command {
  return new Command('berth')
    .option('-H, --host <string>')
    .option('--tls')
    .option('-D, --debug')
    .option('-l, --log-level <string>')
    .option('-v, --version');
}

test('the command operand follows the root options and their values', () => {
  const p = root();
  assert.equal(commandOperand(p, ['ps', '-a']), 'ps');
  assert.equal(commandOperand(p, ['-H', 'unix:///s', 'ps']), 'ps');
  assert.equal(commandOperand(p, ['--host', 'ps', 'images']), 'images');
  assert.equal(commandOperand(p, ['--host=unix:///s', '--tls', 'run', 'x']), 'run');
  assert.equal(commandOperand(p, ['-Hunix:///s', 'ps']), 'ps');
  assert.equal(commandOperand(p, ['-Dl', 'debug', 'logs', 'c']), 'logs');
  assert.equal(commandOperand(p, ['--tls=false', 'version']), 'version');
  assert.equal(commandOperand(p, ['-v', 'ps']), 'ps');
});

test('`--version` alone runs no command', () => {
  const p = root();
  assert.equal(commandOperand(p, ['--version']), '');
  assert.equal(commandOperand(p, ['-Dv']), '');
  assert.equal(commandOperand(p, ['-H', 'unix:///s', '-v']), '');
});

test('no command operand where the root parse is not plain: help, --, unknown options, none', () => {
  const p = root();
  for (const argv of [
    [],
    ['--help'],
    ['-h', 'ps'],
    ['--', 'ps'],
    ['--bogus', 'ps'],
    ['-x', 'ps'],
    ['-D'],
    ['-v', '--help'],
  ]) {
    assert.equal(commandOperand(p, argv), undefined, argv.join(' '));
  }
});

/** Runs argv on a program declared in full or only for argv's command: output and status. */
async function runWith(argv: string[], filtered: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough().on('data', (d) => out.push(String(d)));
  const stderr = new PassThrough().on('data', (d) => err.push(String(d)));
  const io = { stdin: new PassThrough(), stdout, stderr };
  let status = 0;
  const program = buildProgram(io, {}, (s) => (status = s), filtered ? argv : undefined);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    status = reportError(e, io);
  }
  return { status, stdout: out.join(''), stderr: err.join(''), commands: program.commands.length };
}

test('declaring only the command argv names changes no help, usage error or status', async () => {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  const full = buildProgram(io, {}, () => {});
  const cases: string[][] = [
    ['--help'],
    [],
    ['nope'],
    ['-H', 'unix:///x', 'nope'],
    ['--version'],
    ['-Dv'],
    ['-v', 'nope'],
  ];
  for (const c of full.commands) {
    const name = c.name();
    if (name === 'compose' || name === 'registry') continue; // their own programs parse their arguments
    cases.push([name, '--help'], [name, '--no-such-flag'], ['-H', 'unix:///x', name, '--help']);
    // Without its required operand a command fails before it runs (and before it reaches a daemon).
    if (c.registeredArguments.some((a) => a.required)) cases.push([name]);
    for (const sub of c.commands) {
      cases.push([name, sub.name(), '--help'], [name, sub.name(), '--no-such-flag'], [name, 'nope']);
      for (const alias of sub.aliases()) cases.push([name, alias, '--help']);
    }
  }
  let narrowed = 0;
  for (const argv of cases) {
    const a = await runWith(argv, false);
    const b = await runWith(argv, true);
    assert.deepEqual({ ...b, commands: 0 }, { ...a, commands: 0 }, argv.join(' '));
    if (b.commands < a.commands) narrowed++;
  }
  assert.ok(narrowed > cases.length / 2, `only ${narrowed} of ${cases.length} runs declared fewer commands`);
});
