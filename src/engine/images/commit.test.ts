import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeConfig } from './commit.ts';

test('commit keeps the container config where the user set nothing', () => {
  const c = { Cmd: ['sh'], Env: ['A=1', 'B=2'], WorkingDir: '/w', User: 'u', Labels: { a: '1' } };
  const m = mergeConfig({}, c);
  assert.deepEqual(m.Cmd, ['sh']);
  assert.deepEqual(m.Env, ['A=1', 'B=2']);
  assert.equal(m.WorkingDir, '/w');
  assert.equal(m.User, 'u');
});

test('commit changes override by variable and merge labels', () => {
  const m = mergeConfig(
    { Env: ['B=3', 'C=4'], Labels: { b: '2' }, Cmd: ['true'] },
    { Env: ['A=1', 'B=2'], Labels: { a: '1' }, Cmd: ['sh'], Entrypoint: ['/e'] },
  );
  assert.deepEqual(m.Env, ['A=1', 'B=3', 'C=4']);
  assert.deepEqual(m.Labels, { a: '1', b: '2' });
  assert.deepEqual(m.Cmd, ['true']);
  assert.deepEqual(m.Entrypoint, ['/e']);
});
