import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatGoG,
  fromHumanSize,
  humanDuration,
  humanSize,
  parseGoDuration,
  ramInBytes,
  toApiTimestamp,
} from './units.ts';

test('ramInBytes reads docker memory values with binary multipliers', () => {
  const table: Array<[string, number]> = [
    ['512', 512],
    ['64m', 64 * 1024 * 1024],
    ['64M', 64 * 1024 * 1024],
    ['1g', 1024 ** 3],
    ['1.5k', 1536],
    ['10MB', 10 * 1024 * 1024],
    ['1KiB', 1024],
    ['32 mb', 32 * 1024 * 1024],
    ['100b', 100],
  ];
  for (const [input, want] of table) assert.equal(ramInBytes(input), want, input);
});

test('ramInBytes rejects bad values with go-units messages', () => {
  assert.throws(() => ramInBytes('12x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('1kbb'), { message: "invalid suffix: 'kbb'" });
  assert.throws(() => ramInBytes('m'), { message: "invalid size: 'm'" });
  assert.throws(() => ramInBytes('-1'), { message: "invalid size: '-1'" });
});

test('fromHumanSize uses decimal multipliers', () => {
  assert.equal(fromHumanSize('1kB'), 1000);
  assert.equal(fromHumanSize('2.5MB'), 2_500_000);
});

test("formatGoG matches Go's %g with a precision", () => {
  assert.equal(formatGoG(4.261, 3), '4.26');
  assert.equal(formatGoG(100, 3), '100');
  assert.equal(formatGoG(1, 3), '1');
  assert.equal(formatGoG(999.5, 3), '1e+03');
  assert.equal(formatGoG(12.3456, 4), '12.35');
  assert.equal(formatGoG(0.5, 3), '0.5');
});

test('humanSize prints decimal sizes like docker images', () => {
  const table: Array<[number, string]> = [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [4_261_000, '4.26MB'],
    [1_234_567_890, '1.23GB'],
    [7_800_000, '7.8MB'],
  ];
  for (const [bytes, want] of table) assert.equal(humanSize(bytes, 3), want, String(bytes));
});

test('humanDuration reads like go-units HumanDuration', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const table: Array<[number, string]> = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [2 * s, '2 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m, '59 minutes'],
    [60 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [59 * d, '8 weeks'],
    [60 * d, '2 months'],
    [729 * d, '24 months'],
    [730 * d, '2 years'],
  ];
  for (const [ms, want] of table) assert.equal(humanDuration(ms), want, String(ms));
});

test('parseGoDuration reads Go durations in milliseconds', () => {
  assert.equal(parseGoDuration('10m'), 600_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('-2s'), -2000);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.throws(() => parseGoDuration('10'));
  assert.throws(() => parseGoDuration('abc'));
});

test('toApiTimestamp turns since/until values into seconds.nanoseconds', () => {
  const now = new Date('2024-01-02T03:04:05.000Z');
  assert.equal(toApiTimestamp('10m', now), String(now.getTime() / 1000 - 600) + '.000000000');
  assert.equal(toApiTimestamp('1700000000', now), '1700000000');
  assert.equal(toApiTimestamp('1700000000.5', now), '1700000000.5');
  assert.equal(toApiTimestamp('2013-01-02T13:23:37Z', now), '1357133017.000000000');
  assert.equal(toApiTimestamp('2013-01-02T13:23:37.123+01:00', now), '1357129417.123000000');
  assert.throws(() => toApiTimestamp('yesterday', now), /failed to parse value as time or duration/);
});
