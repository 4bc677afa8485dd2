import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type Digest, sha256 } from '../common/index.ts';
import { contentRangeStart, downloadBlobBytes, retryable } from './blob-download.ts';
import { RegistryClient } from './client.ts';

const blob = randomBytes(256 * 1024);
const digest = sha256(blob) as Digest;

/**
 * A registry that serves one blob: the first `cuts` answers break off after `cutAt` bytes;
 * with `ranges` it honours Range (206), without it always sends the whole blob (200).
 */
async function flakyRegistry(options: { cuts: number; cutAt: number; ranges: boolean; redirect?: boolean }) {
  const seen: Array<string | undefined> = [];
  let cuts = options.cuts;
  const server: Server = createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-length': 2 }).end('{}');
      return;
    }
    if (options.redirect && req.url?.startsWith('/v2/')) {
      // Blob storage elsewhere (S3-style): the registry answers with a redirect.
      res.writeHead(307, { location: '/storage/blob', 'content-length': 0 }).end();
      return;
    }
    if (options.redirect && req.headers.authorization) throw new Error('authorization sent to storage');
    seen.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = options.ranges && m ? Number(m[1]) : 0;
    const body = blob.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': body.length,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
    });
    if (cuts-- > 0) {
      res.write(body.subarray(0, options.cutAt), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { domain: `127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

async function collect(domain: string, attempts = 5): Promise<Buffer> {
  const client = new RegistryClient({ domain });
  const chunks: Buffer[] = [];
  const desc = { digest, size: blob.length };
  for await (const c of downloadBlobBytes(client, 'x', desc, [], { attempts, retryDelay: () => 0 }))
    chunks.push(c);
  return Buffer.concat(chunks);
}

test('a download that breaks off continues with a Range request from the bytes it has', async () => {
  const reg = await flakyRegistry({ cuts: 2, cutAt: 70_000, ranges: true });
  try {
    const got = await collect(reg.domain);
    assert.equal(sha256(got), digest);
    assert.equal(reg.seen.length, 3);
    assert.equal(reg.seen[0], undefined);
    assert.match(reg.seen[1]!, /^bytes=\d+-$/);
    // The second resume starts further on than the first.
    assert.ok(Number(/\d+/.exec(reg.seen[2]!)![0]) > Number(/\d+/.exec(reg.seen[1]!)![0]));
  } finally {
    await reg.close();
  }
});

test('a resumed download through a storage redirect keeps its Range header', async () => {
  const reg = await flakyRegistry({ cuts: 1, cutAt: 50_000, ranges: true, redirect: true });
  try {
    const got = await collect(reg.domain);
    assert.equal(sha256(got), digest);
    assert.deepEqual(reg.seen, [undefined, 'bytes=50000-']);
  } finally {
    await reg.close();
  }
});

test('a registry that ignores Range sends it all again and the result is still the blob', async () => {
  const reg = await flakyRegistry({ cuts: 1, cutAt: 100_000, ranges: false });
  try {
    const got = await collect(reg.domain);
    assert.equal(got.length, blob.length);
    assert.equal(sha256(got), digest);
    assert.equal(reg.seen.length, 2);
  } finally {
    await reg.close();
  }
});

test('a download gives up after its attempts', async () => {
  const reg = await flakyRegistry({ cuts: 10, cutAt: 1000, ranges: true });
  try {
    await assert.rejects(collect(reg.domain, 3));
    assert.equal(reg.seen.length, 3);
  } finally {
    await reg.close();
  }
});

test('Content-Range start positions parse; registry refusals are not retried', async () => {
  assert.equal(contentRangeStart('bytes 100-199/200'), 100);
  assert.equal(contentRangeStart('bytes 0-9/*'), 0);
  assert.equal(contentRangeStart(undefined), undefined);
  const { notFound, unavailable } = await import('../common/index.ts');
  assert.equal(retryable(notFound('x')), false);
  assert.equal(retryable(unavailable('x')), true);
  assert.equal(retryable(new Error('other side closed')), true);
});
