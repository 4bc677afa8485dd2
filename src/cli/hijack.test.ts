import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { test } from 'node:test';
import { stdcopyFrame } from '../common/stdcopy.ts';
import { DetachKeyWatcher, parseDetachKeys, streamHijacked } from './hijack.ts';

test('detach keys parse like moby/term ToBytes', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-[,a'), [0, 27, 97]);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /Unknown character/);
});

test('the watcher holds back a partial sequence and releases it on mismatch', () => {
  const w = new DetachKeyWatcher([16, 17]);
  assert.deepEqual(w.feed(Buffer.from([104, 16])), { forward: Buffer.from([104]), detached: false });
  assert.deepEqual(w.feed(Buffer.from([105])), { forward: Buffer.from([16, 105]), detached: false });
  assert.deepEqual(w.feed(Buffer.from([16])), { forward: Buffer.from([]), detached: false });
  assert.deepEqual(w.feed(Buffer.from([17, 120])), { forward: Buffer.from([]), detached: true });
});

/** A socket whose far end is scripted by the test: `toClient` feeds reads, `fromClient` collects writes. */
function fakeSocket() {
  const toClient = new PassThrough();
  const fromClient: Buffer[] = [];
  let ended = false;
  const socket = new Duplex({
    read() {},
    write(chunk, _enc, done) {
      fromClient.push(chunk as Buffer);
      done();
    },
    final(done) {
      ended = true;
      done();
    },
  });
  toClient.on('data', (c) => socket.push(c));
  toClient.on('end', () => socket.push(null));
  return { socket, toClient, fromClient, wasEnded: () => ended };
}

test('without a TTY output is demultiplexed and stdin EOF half-closes the socket', async () => {
  const { socket, toClient, fromClient, wasEnded } = fakeSocket();
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c) => out.push(c));
  stderr.on('data', (c) => err.push(c));
  const done = streamHijacked({ socket, tty: false, stdin, stdout, stderr });
  stdin.end('input');
  await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(fromClient).toString(), 'input');
  assert.equal(wasEnded(), true);
  toClient.write(stdcopyFrame(1, Buffer.from('o')));
  toClient.end(stdcopyFrame(2, Buffer.from('e')));
  assert.deepEqual(await done, { detached: false });
  assert.equal(Buffer.concat(out).toString(), 'o');
  assert.equal(Buffer.concat(err).toString(), 'e');
});

test('with a TTY the detach keys end the session without forwarding them', async () => {
  const { socket, fromClient } = fakeSocket();
  const stdin = new PassThrough();
  const done = streamHijacked({ socket, tty: true, stdin, stdout: new PassThrough() });
  stdin.write(Buffer.from('ls\r'));
  stdin.write(Buffer.from([16, 17]));
  assert.deepEqual(await done, { detached: true });
  assert.equal(Buffer.concat(fromClient).toString(), 'ls\r');
  assert.equal(socket.destroyed, true);
});
