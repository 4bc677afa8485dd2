import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Health } from '../../api/types/index.ts';
import { applyProbeResult, nextProbeDelay, probeCommand, probeTiming } from './health-state.ts';

const spec = {
  test: ['CMD', 'true'],
  intervalNs: 0,
  timeoutNs: 0,
  startPeriodNs: 0,
  startIntervalNs: 0,
  retries: 0,
};
const result = (exitCode: number, at = '2026-01-01T00:00:10Z') => ({
  Start: at,
  End: at,
  ExitCode: exitCode,
  Output: '',
});

test('defaults are Docker’s: 30s interval and timeout, 5s start interval, 3 retries', () => {
  assert.deepEqual(probeTiming(spec), {
    intervalMs: 30_000,
    timeoutMs: 30_000,
    startPeriodMs: 0,
    startIntervalMs: 5_000,
    retries: 3,
  });
});

test('CMD runs as is, CMD-SHELL through the shell, NONE disables', () => {
  assert.deepEqual(probeCommand(['CMD', 'cat', '/x']), ['cat', '/x']);
  assert.deepEqual(probeCommand(['CMD-SHELL', 'test -e /x']), ['/bin/sh', '-c', 'test -e /x']);
  assert.deepEqual(probeCommand(['CMD-SHELL', 'x'], ['/bin/bash', '-ec']), ['/bin/bash', '-ec', 'x']);
  assert.equal(probeCommand(['NONE']), undefined);
  assert.equal(probeCommand([]), undefined);
});

test('a pass makes it healthy; retries failures in a row make it unhealthy; a pass clears the streak', () => {
  const t = probeTiming({ ...spec, retries: 2 });
  const h: Health = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(applyProbeResult(h, result(0), t, 0), 'healthy');
  assert.equal(applyProbeResult(h, result(1), t, 0), undefined);
  assert.equal(h.FailingStreak, 1);
  assert.equal(applyProbeResult(h, result(1), t, 0), 'unhealthy');
  assert.equal(applyProbeResult(h, result(0), t, 0), 'healthy');
  assert.equal(h.FailingStreak, 0);
});

test('failures inside the start period do not count while starting; the log keeps the last 5', () => {
  const t = probeTiming({ ...spec, retries: 1, startPeriodNs: 60e9 });
  const h: Health = { Status: 'starting', FailingStreak: 0, Log: [] };
  const started = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < 7; i++) applyProbeResult(h, result(1), t, started);
  assert.equal(h.Status, 'starting');
  assert.equal(h.FailingStreak, 0);
  assert.equal(h.Log.length, 5);
  assert.equal(nextProbeDelay(h, t, 1000), 5_000);
  assert.equal(nextProbeDelay(h, t, 61_000), 30_000);
  applyProbeResult(h, result(1, '2026-01-01T00:01:01Z'), t, started);
  assert.equal(h.Status, 'unhealthy');
});
