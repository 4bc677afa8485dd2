import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { parseSignal, signalName } from './signals.ts';

test('signal names, short names, lower case and numbers parse to Linux numbers', () => {
  const table: [string, number][] = [
    ['SIGTERM', 15],
    ['TERM', 15],
    ['term', 15],
    ['sigkill', 9],
    ['15', 15],
    ['SIGUSR1', 10],
    ['SIGCHLD', 17],
    ['SIGWINCH', 28],
    ['SIGRTMIN', 34],
    ['SIGRTMIN+3', 37],
    ['RTMAX-1', 63],
    ['SIGRTMAX', 64],
  ];
  for (const [name, n] of table) assert.equal(parseSignal(name), n, name);
});

test('unknown signals, 0 and out-of-range numbers are InvalidParameter "Invalid signal: X"', () => {
  for (const bad of ['SIGFOO', '0', '65', '-1', '', 'SIG']) {
    assert.throws(
      () => parseSignal(bad),
      (err) => isBerthError(err, 'InvalidParameter') && err.message === `Invalid signal: ${bad}`,
      bad,
    );
  }
});

test('signalName gives the preferred SIG name and falls back to the number', () => {
  assert.equal(signalName(15), 'SIGTERM');
  assert.equal(signalName(6), 'SIGABRT');
  assert.equal(signalName(17), 'SIGCHLD');
  assert.equal(signalName(37), 'SIGRTMIN+3');
  assert.equal(signalName(99), '99');
});
