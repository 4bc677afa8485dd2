import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goQueryEscape, logDetailsPrefix, parseLogLine, rfc3339NanoFixed } from './json-log.ts';

test('a line with attrs keeps them; a line without has none', () => {
  const e = parseLogLine(
    '{"log":"hi\\n","stream":"stderr","attrs":{"a":"1"},"time":"2026-11-23T03:11:47.1Z"}',
  );
  assert.deepEqual(e, {
    stream: 'stderr',
    line: Buffer.from('hi\n'),
    time: '2026-11-23T03:11:47.1Z',
    attrs: { a: '1' },
  });
  const plain = parseLogLine('{"log":"hi\\n","stream":"stdout","time":"2026-11-23T03:11:47.1Z"}');
  assert.equal(plain?.attrs, undefined);
});

test('details: sorted k=v pairs joined by commas and a space; without attrs only the space', () => {
  assert.equal(logDetailsPrefix({ b: '2', a: '1' }), 'a=1,b=2 ');
  assert.equal(logDetailsPrefix(undefined), ' ');
  assert.equal(logDetailsPrefix({}), ' ');
  assert.equal(logDetailsPrefix({ 'com.x/y': 'a b,c=d' }), 'com.x%2Fy=a+b%2Cc%3Dd ');
});

test("Go's url.QueryEscape: unreserved kept, space as +, UTF-8 bytes in upper-case hex", () => {
  assert.equal(goQueryEscape('AZaz09-_.~'), 'AZaz09-_.~');
  assert.equal(goQueryEscape("a b!*'()"), 'a+b%21%2A%27%28%29');
  assert.equal(goQueryEscape('é'), '%C3%A9');
});

test('timestamps print nine fraction digits, as dockerd pads the trimmed time of the file', () => {
  assert.equal(rfc3339NanoFixed('2026-11-23T08:33:04.58673Z'), '2026-11-23T08:33:04.586730000Z');
  assert.equal(rfc3339NanoFixed('2026-11-23T08:33:04Z'), '2026-11-23T08:33:04.000000000Z');
  assert.equal(rfc3339NanoFixed('2026-11-23T08:33:04.123456789Z'), '2026-11-23T08:33:04.123456789Z');
});
