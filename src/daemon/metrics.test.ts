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

/** `# TYPE` lines of engine_* and builder_* families from dockerd 20.10.24's /metrics (recorded here). */
const DOCKERD_20_10 = `builder_builds_failed_total counter
builder_builds_triggered_total counter
engine_daemon_container_actions_seconds histogram
engine_daemon_container_states_containers gauge
engine_daemon_engine_cpus_cpus gauge
engine_daemon_engine_info gauge
engine_daemon_engine_memory_bytes gauge
engine_daemon_events_subscribers_total gauge
engine_daemon_events_total counter
engine_daemon_health_checks_failed_total counter
engine_daemon_health_checks_total counter
engine_daemon_host_info_functions_seconds histogram`;

test('every engine and builder family dockerd 20.10 serves is served, with its type', async () => {
  const m = createMetrics();
  const text = await m.registry.metrics();
  for (const line of DOCKERD_20_10.split('\n')) assert.ok(text.includes(`# TYPE ${line}\n`), line);
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
