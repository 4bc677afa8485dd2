import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFailureReason, createMetrics } from './metrics.ts';

test('the registry names its series as dockerd does', async () => {
  const m = createMetrics();
  m.healthProbe(true);
  m.healthProbe(false);
  const text = await m.registry.metrics();
  for (const name of [
    'engine_daemon_container_actions_seconds_count{action="create"} 1',
    'engine_daemon_health_checks_total 2',
    'engine_daemon_health_checks_failed_total 1',
    'builder_builds_failed_total{reason="build_canceled"} 0',
    '# TYPE engine_daemon_events_total counter',
    '# TYPE engine_daemon_network_actions_seconds histogram',
  ]) {
    assert.ok(text.includes(name), name);
  }
  m.close();
});

test('build failures are counted under moby’s reasons', () => {
  assert.equal(buildFailureReason('x', true), 'build_canceled');
  assert.equal(
    buildFailureReason('dockerfile parse error line 1: unknown instruction: FOO', false),
    'unknown_instruction_error',
  );
  assert.equal(
    buildFailureReason('The command /bin/sh -c false returned a non-zero code: 1', false),
    'error_processing_commands_error',
  );
});
