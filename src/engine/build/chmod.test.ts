import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChmod } from './chmod.ts';

const apply = (spec: string, perm: number, isDir = false) => {
  const c = parseChmod(spec);
  return typeof c === 'number' ? c : c(perm, isDir);
};

test('an octal --chmod replaces the permission bits', () => {
  assert.equal(parseChmod('755'), 0o755);
  assert.equal(parseChmod('0640'), 0o640);
  assert.equal(parseChmod('7'), 0o7);
  assert.throws(
    () => parseChmod('17777'),
    /invalid chmod parameter: '17777'\. it should be octal string and between 0 and 07777/,
  );
  assert.throws(() => parseChmod('789'), /it should be octal string/);
});

test('a symbolic --chmod changes each file as chmod(1) does', () => {
  assert.equal(apply('u+x', 0o644), 0o744);
  assert.equal(apply('+x', 0o644), 0o755);
  assert.equal(apply('go-w', 0o666), 0o644);
  assert.equal(apply('u=rwx,go=rx', 0o600), 0o755);
  assert.equal(apply('=r', 0o777), 0o444);
  assert.equal(apply('a+X', 0o644), 0o644);
  assert.equal(apply('a+X', 0o644, true), 0o755);
  assert.equal(apply('a+X', 0o744), 0o755);
  assert.equal(apply('g=u', 0o640), 0o660);
  assert.equal(apply('u+s', 0o755), 0o4755);
  assert.equal(apply('g+s', 0o755), 0o2755);
  assert.equal(apply('+t', 0o755, true), 0o1755);
  assert.equal(apply('o+t', 0o755, true), 0o755);
  assert.equal(apply('u-w+x', 0o644), 0o544);
  assert.throws(() => parseChmod('u+q'), /invalid syntax/);
  assert.throws(() => parseChmod('x'), /invalid syntax/);
});
