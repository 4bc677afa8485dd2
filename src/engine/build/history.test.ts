import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposeWords, fsCmd, goDuration, goQuoteRune, healthcheckComment, metaCmd } from './history.ts';

test('metadata steps have two spaces after #(nop) in created_by, filesystem steps one', () => {
  assert.equal(metaCmd(['/bin/sh', '-c'], 'ENV A=1').join(' '), '/bin/sh -c #(nop)  ENV A=1');
  assert.equal(fsCmd(['/bin/sh', '-c'], 'WORKDIR /a').join(' '), '/bin/sh -c #(nop) WORKDIR /a');
});

test('durations print as Go’s Duration.String', () => {
  const s = 1e9;
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(5 * s), '5s');
  assert.equal(goDuration(1.5 * s), '1.5s');
  assert.equal(goDuration(90 * s), '1m30s');
  assert.equal(goDuration(7200 * s), '2h0m0s');
  assert.equal(goDuration(500e6), '500ms');
  assert.equal(goDuration(1500), '1.5µs');
});

test('integers print as Go’s %q rune literals', () => {
  assert.equal(goQuoteRune(0), "'\\x00'");
  assert.equal(goQuoteRune(4), "'\\x04'");
  assert.equal(goQuoteRune(10), "'\\n'");
  assert.equal(goQuoteRune(65), "'A'");
});

test('HEALTHCHECK comments match dockerd 20.10’s recordings', () => {
  assert.equal(
    healthcheckComment({
      Test: ['CMD', '/bin/true'],
      Interval: 5e9,
      Timeout: 3e9,
      StartPeriod: 10e9,
      Retries: 4,
    }),
    `HEALTHCHECK &{["CMD" "/bin/true"] "5s" "3s" "10s" '\\x04'}`,
  );
  assert.equal(healthcheckComment({ Test: ['NONE'] }), `HEALTHCHECK &{["NONE"] "0s" "0s" "0s" '\\x00'}`);
});

test('EXPOSE words are sorted as written, before expansion', () => {
  assert.deepEqual(exposeWords(['8000-8002/tcp', '$P', '443/TCP']), ['$P', '443/TCP', '8000-8002/tcp']);
});
