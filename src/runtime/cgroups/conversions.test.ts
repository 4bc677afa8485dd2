import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blkioWeightToIoWeight,
  cpuMaxText,
  cpuSharesToWeight,
  deviceRuleText,
  memorySwapToV2,
  parseLimit,
  pidsMaxText,
  v2LimitText,
} from './conversions.ts';

describe('cpuSharesToWeight follows runc: 1 + ((shares - 2) * 9999) / 262142', () => {
  const table: Array<[number, number]> = [
    [0, 0],
    [2, 1],
    [1024, 39],
    [512, 20],
    [100, 4],
    [262144, 10000],
  ];
  for (const [shares, weight] of table) {
    test(`${shares} shares is weight ${weight}`, () => assert.equal(cpuSharesToWeight(shares), weight));
  }
});

describe('blkioWeightToIoWeight maps 10..1000 linearly onto 1..10000', () => {
  const table: Array<[number, number]> = [
    [0, 0],
    [10, 1],
    [500, 4950],
    [1000, 10000],
  ];
  for (const [blkio, io] of table) {
    test(`blkio weight ${blkio} is io.weight ${io}`, () => assert.equal(blkioWeightToIoWeight(blkio), io));
  }
});

describe('memorySwapToV2 turns memory+swap into swap alone', () => {
  const M = 64 * 1024 * 1024;
  const table: Array<[string, number, number, number]> = [
    ['swap twice memory leaves memory-sized swap', 2 * M, M, M],
    ['swap equal to memory means no swap', M, M, 0],
    ['swap -1 stays unlimited', -1, M, -1],
    ['swap unset stays unset', 0, M, 0],
    ['unlimited memory with swap unset is unlimited swap', 0, -1, -1],
    ['unlimited memory keeps swap as given', 3 * M, -1, 3 * M],
  ];
  for (const [name, swap, memory, want] of table) {
    test(name, () => assert.equal(memorySwapToV2(swap, memory), want));
  }
  test('swap below memory is an InvalidParameter', () => {
    assert.throws(() => memorySwapToV2(M, 2 * M), { kind: 'InvalidParameter' });
  });
  test('swap without a memory limit is an InvalidParameter', () => {
    assert.throws(() => memorySwapToV2(M, 0), { kind: 'InvalidParameter' });
  });
});

describe('limit texts', () => {
  test('v2 memory values: -1 is max, 0 is not written, others are decimal', () => {
    assert.equal(v2LimitText(-1), 'max');
    assert.equal(v2LimitText(0), '');
    assert.equal(v2LimitText(67108864), '67108864');
  });
  test('pids.max: positive limits as numbers, 0 and -1 as max', () => {
    assert.equal(pidsMaxText(10), '10');
    assert.equal(pidsMaxText(0), 'max');
    assert.equal(pidsMaxText(-1), 'max');
  });
  test('cpu.max: quota and period, max for no quota, 100000 default period', () => {
    assert.equal(cpuMaxText(undefined, undefined), undefined);
    assert.equal(cpuMaxText(0, 0), undefined);
    assert.equal(cpuMaxText(50000, 100000), '50000 100000');
    assert.equal(cpuMaxText(50000, undefined), '50000 100000');
    assert.equal(cpuMaxText(-1, 200000), 'max 200000');
    assert.equal(cpuMaxText(undefined, 200000), 'max 200000');
  });
  test('parseLimit reads max and the v1 page-counter maximum as unlimited', () => {
    assert.equal(parseLimit('max'), null);
    assert.equal(parseLimit('9223372036854771712\n'), null);
    assert.equal(parseLimit('67108864'), 67108864);
  });
});

describe('deviceRuleText', () => {
  test('wildcards, types and access letters are written as the devices cgroup reads them', () => {
    assert.equal(deviceRuleText({ allow: false, access: 'rwm' }), 'a *:* rwm');
    assert.equal(deviceRuleText({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }), 'c 1:3 rwm');
    assert.equal(deviceRuleText({ allow: true, type: 'c', major: 136, access: 'rw' }), 'c 136:* rw');
    assert.equal(deviceRuleText({ allow: true, type: 'b', major: -1, minor: -1, access: 'm' }), 'b *:* m');
  });
  test('an unknown type or access letter is an InvalidParameter', () => {
    assert.throws(() => deviceRuleText({ allow: true, type: 'x' }), { kind: 'InvalidParameter' });
    assert.throws(() => deviceRuleText({ allow: true, type: 'c', access: 'rwx' }), {
      kind: 'InvalidParameter',
    });
  });
});
