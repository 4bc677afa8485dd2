import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DetachKeyFilter, parseDetachKeys } from './detach-keys.ts';

test('detach keys parse as docker does', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x,ctrl-@'), [1, 120, 0]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys/);
  assert.throws(() => parseDetachKeys('abc'), /Invalid detach keys/);
});

test('the filter passes other bytes, releases partial sequences, detaches on the full one', async () => {
  let detached = 0;
  const f = new DetachKeyFilter([16, 17], () => detached++);
  const out: Buffer[] = [];
  f.on('data', (b: Buffer) => out.push(b));
  f.write(Buffer.from([104, 16]));
  f.write(Buffer.from([105, 16]));
  f.write(Buffer.from([17, 120]));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...Buffer.concat(out)], [104, 16, 105]);
  assert.equal(detached, 1);
});
