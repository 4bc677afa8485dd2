import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSysctl } from './sysctl.ts';

test('sysctls are read by their dotted names; a missing one reads as undefined', async () => {
  assert.match((await readSysctl('kernel.ostype')) ?? '', /^Linux$/);
  assert.equal(await readSysctl('net.no-such.parameter'), undefined);
});
