import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { StdcopyDecoder, StdcopyEncoder, stdcopyFrame } from './stdcopy.ts';

test('a frame is an 8-byte header with the stream and big-endian length, then the payload', () => {
  assert.deepEqual([...stdcopyFrame(2, Buffer.from('hi'))], [2, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
});

test('the decoder splits frames that arrive in arbitrary pieces', async () => {
  const bytes = Buffer.concat([stdcopyFrame(1, Buffer.from('out\n')), stdcopyFrame(2, Buffer.from('err\n'))]);
  const pieces = [bytes.subarray(0, 3), bytes.subarray(3, 11), bytes.subarray(11)];
  const frames = await Readable.from(pieces).pipe(new StdcopyDecoder()).toArray();
  assert.deepEqual(
    frames.map((f: { stream: number; payload: Buffer }) => [f.stream, f.payload.toString()]),
    [
      [1, 'out\n'],
      [2, 'err\n'],
    ],
  );
});

test('the encoder frames each chunk and skips empty ones', async () => {
  const out = await Readable.from([Buffer.from('a'), Buffer.alloc(0)])
    .pipe(new StdcopyEncoder(1))
    .toArray();
  assert.deepEqual(Buffer.concat(out), stdcopyFrame(1, Buffer.from('a')));
});

test('a stream that ends inside a frame is an error', async () => {
  await assert.rejects(
    Readable.from([Buffer.from([1, 0, 0, 0, 0, 0, 0, 5, 1])])
      .pipe(new StdcopyDecoder())
      .toArray(),
  );
});
