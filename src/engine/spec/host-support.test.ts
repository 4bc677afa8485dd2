import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
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
