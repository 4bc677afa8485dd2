import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges } from './changes.ts';

test('CMD in JSON form becomes the exec array, shell form is wrapped in /bin/sh -c', () => {
  assert.deepEqual(applyChanges({}, ['CMD ["/bin/sh"]']).Cmd, ['/bin/sh']);
  assert.deepEqual(applyChanges({}, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
});

test('ENV replaces an existing key and adds new ones', () => {
  const cfg = applyChanges({ Env: ['A=1', 'B=2'] }, ['ENV A=3 C="x y"']);
  assert.deepEqual(cfg.Env, ['A=3', 'B=2', 'C=x y']);
});

test('an unknown instruction is rejected', () => {
  assert.throws(() => applyChanges({}, ['RUN true']), /RUN is not a valid change command/);
});
