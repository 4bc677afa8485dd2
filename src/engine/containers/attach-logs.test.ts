import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { stdcopyFrame } from '../../common/index.ts';
import type { IoSession, LogEntry } from '../engine.ts';
import { attachWithReplay } from './attach-logs.ts';

async function* entries(...list: Array<[1 | 2, string]>): AsyncIterable<LogEntry> {
  for (const [s, l] of list) yield { stream: s === 2 ? 'stderr' : 'stdout', line: Buffer.from(l), time: '' };
}

async function collect(s: IoSession): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s.output) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('without a TTY the log is replayed as stdcopy frames, then the output ends (stream=0)', async () => {
  const s = attachWithReplay({
    tty: false,
    entries: entries([1, 'a\n'], [2, 'b\n']),
    abort: new AbortController(),
  });
  assert.deepEqual(
    await collect(s),
    Buffer.concat([stdcopyFrame(1, Buffer.from('a\n')), stdcopyFrame(2, Buffer.from('b\n'))]),
  );
});

test('with a TTY the log is raw, then the live output follows until it ends', async () => {
  const liveOut = new PassThrough();
  let closed = false;
  const live: IoSession = { tty: true, output: liveOut, close: () => (closed = true) };
  liveOut.write('live1\n');
  const s = attachWithReplay({
    tty: true,
    entries: entries([1, 'old\n']),
    live,
    abort: new AbortController(),
  });
  setTimeout(() => liveOut.end('live2\n'), 20);
  assert.equal((await collect(s)).toString(), 'old\nlive1\nlive2\n');
  assert.equal(closed, false);
  s.close();
  assert.equal(closed, true, 'closing the session detaches the live one');
});

test('an unreadable log is reported in the stream and the live output is not followed', async () => {
  const live: IoSession = { tty: false, output: new PassThrough(), close: () => {} };
  const s = attachWithReplay({
    tty: false,
    error: 'configured logging driver does not support reading',
    live,
    abort: new AbortController(),
  });
  assert.deepEqual(
    await collect(s),
    stdcopyFrame(1, Buffer.from('Error attaching: configured logging driver does not support reading\n')),
  );
});

test('neither logs nor stream: the output ends at once', async () => {
  const s = attachWithReplay({ tty: false, abort: new AbortController() });
  assert.equal((await collect(s)).length, 0);
});
