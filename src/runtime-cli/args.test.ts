import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from './args.ts';

const defs = [
  { name: 'bundle', alias: 'b', kind: 'string' as const },
  { name: 'detach', alias: 'd', kind: 'bool' as const },
  { name: 'env', alias: 'e', kind: 'list' as const },
];

test('options end at the first positional argument, as urfave/cli v1 parses runc’s', () => {
  const p = parseArgs(['-b', '/x', '--detach', '-e', 'A=1', '--env=B=2', 'id', 'sh', '-c', 'x'], defs);
  assert.equal(p.strings.get('bundle'), '/x');
  assert.ok(p.bools.has('detach'));
  assert.deepEqual(p.lists.get('env'), ['A=1', 'B=2']);
  assert.deepEqual(p.args, ['id', 'sh', '-c', 'x']);
  assert.deepEqual(parseArgs(['--', '-d'], defs).args, ['-d']);
});

test('an unknown flag or a missing value is a usage error with urfave’s wording', () => {
  assert.throws(
    () => parseArgs(['--nope', 'id'], defs),
    (e: Error) => e instanceof UsageError && /flag provided but not defined: -nope/.test(e.message),
  );
  assert.throws(() => parseArgs(['--bundle'], defs), /flag needs an argument: -bundle/);
});
