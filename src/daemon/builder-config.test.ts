import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBuilderConfig, parseSpace } from './builder-config.ts';

test('Docker Desktop’s builder block: enabled, 20GB kept; the default rules keep it all', () => {
  const p = parseBuilderConfig({ gc: { enabled: true, defaultKeepStorage: '20GB' } });
  assert.equal(p.enabled, true);
  assert.equal(p.rules.length, 3);
  assert.ok(p.rules.every((r) => r.reservedSpace === 20 * 2 ** 30));
  assert.deepEqual(p.rules[0]?.filters, { 'unused-for': ['1440h'] });
});

test('gc is on unless enabled=false; without any default space there are no rules', () => {
  assert.deepEqual(parseBuilderConfig({ GC: {} }), { enabled: true, rules: [] });
  assert.equal(parseBuilderConfig({ gc: { enabled: false } }).enabled, false);
  assert.deepEqual(parseBuilderConfig(undefined), { enabled: false, rules: [] });
});

test('policy rules: filters as a list or moby’s old map, keepStorage as reservedSpace, keys any case', () => {
  const p = parseBuilderConfig({
    gc: {
      policy: [
        { keepStorage: '512MB', filter: ['unused-for=2200h'] },
        { Filter: { 'unused-for': { '48h': true } }, All: true, MinFreeSpace: '1GB' },
      ],
    },
  });
  assert.deepEqual(p.rules, [
    {
      all: false,
      filters: { 'unused-for': ['2200h'] },
      reservedSpace: 512 * 2 ** 20,
      maxUsedSpace: 0,
      minFreeSpace: 0,
    },
    {
      all: true,
      filters: { 'unused-for': ['48h'] },
      reservedSpace: 0,
      maxUsedSpace: 0,
      minFreeSpace: 2 ** 30,
    },
  ]);
});

test('refused: BuildKit-only blocks, unknown keys and filters, bad sizes and durations', () => {
  assert.throws(() => parseBuilderConfig({ entitlements: { 'network-host': true } }), /configures BuildKit/);
  assert.throws(() => parseBuilderConfig({ history: { maxAge: '48h' } }), /configures BuildKit/);
  assert.throws(() => parseBuilderConfig({ gc: { keep: 1 } }), /builder.gc: unknown option keep/);
  assert.throws(
    () => parseBuilderConfig({ gc: { policy: [{ filter: ['label=x'] }] } }),
    /filter label is not supported/,
  );
  assert.throws(
    () => parseBuilderConfig({ gc: { policy: [{ filter: ['unused-for=2days'] }] } }),
    /invalid duration/,
  );
  assert.throws(() => parseBuilderConfig({ gc: { defaultKeepStorage: '10%' } }), /percentage/);
  assert.throws(() => parseSpace(20, 'x'), /invalid size/);
  assert.equal(parseSpace('1.5k', 'x'), 1536);
});
