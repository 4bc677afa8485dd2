import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_MAX_MS, restartsOnDaemonStart, shouldRestart } from './restart-policy.ts';

const base = { exitCode: 1, manuallyStopped: false, restartCount: 0, ranMs: 50, previousDelayMs: 0 };

test('no never restarts; always restarts whatever the exit code', () => {
  assert.equal(shouldRestart({ ...base, policy: { name: 'no', maximumRetryCount: 0 } }).restart, false);
  assert.equal(shouldRestart({ ...base, policy: { name: '', maximumRetryCount: 0 } }).restart, false);
  const always = { name: 'always' as const, maximumRetryCount: 0 };
  assert.equal(shouldRestart({ ...base, exitCode: 0, policy: always }).restart, true);
  assert.equal(shouldRestart({ ...base, exitCode: 0, manuallyStopped: true, policy: always }).restart, true);
});

test('unless-stopped restarts unless the user stopped it', () => {
  const p = { name: 'unless-stopped' as const, maximumRetryCount: 0 };
  assert.equal(shouldRestart({ ...base, policy: p }).restart, true);
  assert.equal(shouldRestart({ ...base, manuallyStopped: true, policy: p }).restart, false);
  assert.equal(restartsOnDaemonStart({ ...base, manuallyStopped: true, policy: p }), false);
  assert.equal(
    restartsOnDaemonStart({
      ...base,
      manuallyStopped: true,
      policy: { name: 'always', maximumRetryCount: 0 },
    }),
    true,
  );
});

test('on-failure restarts non-zero exits up to the maximum count', () => {
  const p = { name: 'on-failure' as const, maximumRetryCount: 2 };
  assert.equal(shouldRestart({ ...base, exitCode: 0, policy: p }).restart, false);
  assert.equal(shouldRestart({ ...base, restartCount: 1, policy: p }).restart, true);
  assert.equal(shouldRestart({ ...base, restartCount: 2, policy: p }).restart, false);
  const unlimited = { name: 'on-failure' as const, maximumRetryCount: 0 };
  assert.equal(shouldRestart({ ...base, restartCount: 1000, policy: unlimited }).restart, true);
});

test('back-off starts at 100ms, doubles, caps at a minute and resets after a 10s run', () => {
  const p = { name: 'always' as const, maximumRetryCount: 0 };
  let delay = 0;
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) {
    delay = shouldRestart({ ...base, policy: p, previousDelayMs: delay }).delayMs;
    seen.push(delay);
  }
  assert.deepEqual(seen.slice(0, 4), [100, 200, 400, 800]);
  assert.equal(seen.at(-1), BACKOFF_MAX_MS);
  assert.equal(shouldRestart({ ...base, policy: p, previousDelayMs: 6400, ranMs: 10_000 }).delayMs, 100);
});
