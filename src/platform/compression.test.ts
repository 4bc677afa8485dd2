import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { autoDecompress, compressor, detectCompression } from './compression.ts';

test('compression is detected from magic bytes', () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0])), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.equal(detectCompression(Buffer.from('ustar')), 'none');
});

test('autoDecompress passes plain data and unpacks gzip', async () => {
  assert.equal(
    await text(autoDecompress(Readable.from([Buffer.from('plain text data')]))),
    'plain text data',
  );
  assert.equal(await text(autoDecompress(Readable.from([gzipSync('zipped')]))), 'zipped');
  assert.equal(await text(autoDecompress(Readable.from([Buffer.from('ab')]))), 'ab');
});

test('zstd round-trips through the zstd tool', {
  skip: !existsSync('/usr/bin/zstd') && 'needs zstd',
}, async () => {
  const packed = Readable.from([Buffer.from('hello zstd '.repeat(100))]).pipe(compressor('zstd'));
  const chunks: Buffer[] = [];
  for await (const c of packed) chunks.push(c as Buffer);
  const out = await text(autoDecompress(Readable.from([Buffer.concat(chunks)])));
  assert.equal(out, 'hello zstd '.repeat(100));
});
