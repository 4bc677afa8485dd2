import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from './args.ts';
import { ramInBytes, resourcesFromFlags, resourcesFromJson, UPDATE_OPTIONS, UpdateError } from './update.ts';

const flags = (...argv: string[]) => {
  const warnings: string[] = [];
  const r = resourcesFromFlags(parseArgs([...argv, 'id'], UPDATE_OPTIONS), (w) => warnings.push(w));
  return { r, warnings };
};

test('ramInBytes reads sizes as docker/go-units RAMInBytes does (binary units)', () => {
  assert.equal(ramInBytes('512'), 512);
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('2GiB'), 2 * 1024 ** 3);
  assert.equal(ramInBytes('10 kb'), 10240);
  assert.throws(() => ramInBytes('abc'), /invalid size: 'abc'/);
});

test('update flags: only what is given, -1 memory is unlimited, runc’s errors for bad values', () => {
  assert.deepEqual(flags().r, {});
  assert.deepEqual(
    flags(
      '--memory',
      '32m',
      '--memory-swap',
      '-1',
      '--cpu-share',
      '256',
      '--cpuset-cpus',
      '0',
      '--pids-limit',
      '20',
    ).r,
    {
      memory: { limit: 32 * 1024 * 1024, swap: -1 },
      cpu: { shares: 256, cpus: '0' },
      pids: { limit: 20 },
    },
  );
  assert.deepEqual(flags('--cpu-quota', '-1', '--cpu-period', '100000', '--blkio-weight', '300').r, {
    blockIO: { weight: 300 },
    cpu: { quota: -1, period: 100000 },
  });
  // Zero pids-limit and blkio-weight leave the limits as they are (runc's zero values).
  assert.deepEqual(flags('--pids-limit', '0', '--blkio-weight', '0').r, {});
  assert.deepEqual(flags('--kernel-memory', '1m').warnings, [
    'Kernel memory settings are ignored and will be removed',
  ]);
  assert.throws(
    () => flags('--memory', 'abc'),
    /^Error: invalid value for memory: invalid size: 'abc'$/,
  );
  assert.throws(
    () => flags('--cpu-period', 'x'),
    (e: Error) =>
      e instanceof UpdateError &&
      e.message === 'invalid value for cpu-period: strconv.ParseUint: parsing "x": invalid syntax',
  );
  assert.throws(() => flags('--pids-limit', 'x'), /invalid value "x" for flag -pids-limit: parse error/);
});

test('update -r: the OCI LinuxResources runc reads, zero values dropped, type errors refused', () => {
  assert.deepEqual(
    resourcesFromJson(
      JSON.stringify({
        memory: { limit: 100, swap: 0, reservation: 50 },
        cpu: { shares: 0, cpus: '0-1', quota: -1 },
        blockIO: { weight: 0 },
        pids: { limit: 5 },
      }),
    ),
    { memory: { limit: 100, reservation: 50 }, cpu: { quota: -1, cpus: '0-1' }, pids: { limit: 5 } },
  );
  assert.deepEqual(resourcesFromJson('{}'), {});
  assert.throws(() => resourcesFromJson('{"memory":{"limit":"x"}}'), /cannot unmarshal string/);
  assert.throws(() => resourcesFromJson('{"cpu":{"shares":-1}}'), /cannot unmarshal number/);
  assert.throws(() => resourcesFromJson('nope'), UpdateError);
});
