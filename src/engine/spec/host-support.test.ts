import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WARN_BLKIO_WEIGHT,
  WARN_KERNEL_MEMORY,
  WARN_OOM_KILL_DISABLE,
  WARN_SWAPPINESS,
  discardUnsupported,
} from './host-support.ts';

const V1 = { kernelMemory: true, oomKillDisable: true, memorySwappiness: true };
const V2 = { kernelMemory: false, oomKillDisable: false, memorySwappiness: false };
const body = {
  Image: 'x',
  HostConfig: { KernelMemory: 8 << 20, OomKillDisable: true, MemorySwappiness: 10 },
};

test('cgroup v1 with kmem keeps KernelMemory, OomKillDisable and swappiness without warnings', () => {
  const r = discardUnsupported(body, V1, '1.41');
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.body.HostConfig, body.HostConfig);
});

test('cgroup v2 discards each with Docker warning', () => {
  const r = discardUnsupported(body, V2, '1.41');
  assert.deepEqual(r.warnings, [WARN_KERNEL_MEMORY, WARN_OOM_KILL_DISABLE, WARN_SWAPPINESS]);
  assert.equal(r.body.HostConfig?.KernelMemory, 0);
  assert.equal(r.body.HostConfig?.OomKillDisable, false);
  assert.equal(r.body.HostConfig?.MemorySwappiness, null);
  // The caller's body is not changed.
  assert.equal(body.HostConfig.KernelMemory, 8 << 20);
});

test('OomKillDisable=false on cgroup v2 is dropped silently; swappiness -1 means unset', () => {
  const r = discardUnsupported({ HostConfig: { OomKillDisable: false, MemorySwappiness: -1 } }, V2, '1.41');
  assert.deepEqual(r.warnings, []);
});

test('API 1.42 and later ignore KernelMemory silently, even where the kernel has kmem', () => {
  const r = discardUnsupported({ HostConfig: { KernelMemory: 8 << 20 } }, V1, '1.42');
  assert.deepEqual(r.warnings, []);
  assert.equal(r.body.HostConfig?.KernelMemory, 0);
});

test('blkio settings the io controller has no file for are discarded with dockerd warnings, weight before its range check', () => {
  const none = {
    weight: false,
    weightDevice: false,
    readBps: false,
    writeBps: true,
    readIOps: true,
    writeIOps: false,
  };
  const dev = [{ Path: '/dev/vda', Rate: 100 }];
  const r = discardUnsupported(
    {
      HostConfig: {
        BlkioWeight: 5,
        BlkioWeightDevice: [{ Path: '/dev/vda', Weight: 100 }],
        BlkioDeviceReadBps: dev,
        BlkioDeviceWriteBps: dev,
        BlkioDeviceWriteIOps: dev,
      },
    },
    { blkio: none },
    '1.41',
  );
  assert.deepEqual(r.warnings, [
    WARN_BLKIO_WEIGHT,
    'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.',
    'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.',
    'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.',
  ]);
  assert.equal(r.body.HostConfig?.BlkioWeight, 0);
  assert.deepEqual(r.body.HostConfig?.BlkioDeviceReadBps, []);
  assert.deepEqual(r.body.HostConfig?.BlkioDeviceWriteBps, dev);
  // Without probed facts (cgroup v2's io controller) nothing is discarded.
  assert.deepEqual(discardUnsupported({ HostConfig: { BlkioWeight: 300 } }, {}, '1.41').warnings, []);
});
