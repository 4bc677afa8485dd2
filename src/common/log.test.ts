import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, textLine } from './log.ts';

test('text lines are logrus’s: time, level, msg, then sorted fields, quoted when needed', () => {
  const line = textLine(
    JSON.stringify({ level: 'warning', time: '2026-01-01T00:00:00.000Z', msg: 'a b', z: 1, a: 'x/y', e: '' }),
  );
  assert.equal(line, 'time="2026-01-01T00:00:00.000Z" level=warning msg="a b" a=x/y e="" z=1\n');
  assert.match(
    textLine(JSON.stringify({ level: 'error', time: 't', msg: 'failed', err: { message: 'boom' } })),
    /msg=failed error=boom\n$/,
  );
});

test('both formats carry dockerd’s level names and an RFC 3339 time', async () => {
  for (const format of ['json', 'text'] as const) {
    const lines: string[] = [];
    const log = createLogger('debug', format, { write: (l: string) => lines.push(l) });
    log.warn('careful', { n: 2 });
    await sleep(10);
    const line = lines.join('');
    if (format === 'json') {
      const e = JSON.parse(line);
      assert.equal(e.level, 'warning');
      assert.equal(e.msg, 'careful');
      assert.equal(e.n, 2);
      assert.ok(!Number.isNaN(Date.parse(e.time)));
    } else {
      assert.match(line, /^time="[^"]+Z" level=warning msg=careful n=2\n$/);
    }
  }
});
