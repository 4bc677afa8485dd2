import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthCommand, normalizeBooleanFlags } from './berth-command.ts';

function cmd(): BerthCommand {
  const c = new BerthCommand('run').passThroughOptions();
  c.option('-d, --detach').option('-i, --interactive').option('-e, --env <list>').option('--sig-proxy');
  c.option('--no-sig-proxy');
  return c;
}

test('=true/=false on boolean flags become the flag, its negation, or nothing', () => {
  assert.deepEqual(
    normalizeBooleanFlags(cmd(), ['--detach=true', '--sig-proxy=false', '--interactive=false', 'img']),
    ['--detach', '--no-sig-proxy', 'img'],
  );
});

test('rewriting stops at the image: the container command is left alone', () => {
  assert.deepEqual(normalizeBooleanFlags(cmd(), ['-e', 'X', '-de', 'Y=1', 'img', '--detach=false']), [
    '-e',
    'X',
    '-de',
    'Y=1',
    'img',
    '--detach=false',
  ]);
});
