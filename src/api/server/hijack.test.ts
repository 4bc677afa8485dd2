import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ChunkedDecoder, readHijackBody } from './hijack.ts';

test('a chunked body split anywhere decodes to its bytes', () => {
  const wire = Buffer.from('5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nRAW');
  for (let cut = 1; cut < wire.length; cut++) {
    const d = new ChunkedDecoder();
    assert.ok(d.push(wire.subarray(0, cut)));
    assert.ok(d.push(wire.subarray(cut)));
    assert.equal(d.body.toString(), 'hello world', `cut at ${cut}`);
    assert.ok(d.isDone);
    assert.equal(d.rest.toString(), 'RAW');
  }
});

test('a malformed chunk size is refused', () => {
  assert.equal(new ChunkedDecoder().push(Buffer.from('zz\r\n')), false);
});

test('a never-ended chunked JSON body is complete once its chunks parse; what follows is the raw stream', async () => {
  const socket = new PassThrough();
  const head = Buffer.from('1c\r\n{"Detach":false,"Tty":false}\r\n');
  const pending = readHijackBody(socket, head.subarray(0, 10), { 'transfer-encoding': 'chunked' }, true);
  socket.write(Buffer.concat([head.subarray(10), Buffer.from('stdin!')]));
  const { body, rest } = await pending;
  assert.deepEqual(JSON.parse(body.toString()), { Detach: false, Tty: false });
  assert.equal(rest.toString(), 'stdin!');
});

test('a Content-Length body is read exactly and the rest is the raw stream', async () => {
  const socket = new PassThrough();
  const pending = readHijackBody(socket, Buffer.from('{"De'), { 'content-length': '15' }, true);
  socket.write('tach":true}more');
  const { body, rest } = await pending;
  assert.equal(body.toString(), '{"Detach":true}');
  assert.equal(rest.toString(), 'more');
});

test('an attach with a terminated empty chunked body passes everything after it as stdin', async () => {
  const socket = new PassThrough();
  const { body, rest } = await readHijackBody(
    socket,
    Buffer.from('0\r\n\r\necho hi\n'),
    { 'transfer-encoding': 'chunked' },
    false,
  );
  assert.equal(body.length, 0);
  assert.equal(rest.toString(), 'echo hi\n');
});

test('a chunked JSON body whose terminator arrives late is consumed whole', async () => {
  const socket = new PassThrough();
  const pending = readHijackBody(
    socket,
    Buffer.from('2\r\n{}\r\n0\r'),
    { 'transfer-encoding': 'chunked' },
    true,
  );
  socket.write('\n\r\nstdin');
  const { body, rest } = await pending;
  assert.equal(body.toString(), '{}');
  assert.equal(rest.toString(), 'stdin');
});
