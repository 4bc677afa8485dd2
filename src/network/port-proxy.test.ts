import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { openProxy } from './port-proxy.ts';

test('the TCP proxy passes a half-close through: a client that shuts its sending side still gets the answer', async () => {
  // An upstream that answers only once the request has ended (as HTTP/1.0 servers and nc peers do).
  const upstream = net.createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (c) => (got += c));
    s.on('end', () => s.end(`echo:${got}`));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await openProxy({
    proto: 'tcp',
    hostIp: '127.0.0.1',
    hostPort: 0,
    containerIp: '127.0.0.1',
    containerPort: (upstream.address() as net.AddressInfo).port,
  });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: proxy.hostPort, allowHalfOpen: true }, () =>
        c.end('ping'),
      );
      let out = '';
      c.on('data', (d) => (out += d));
      c.on('end', () => resolve(out));
      c.on('error', reject);
    });
    assert.equal(answer, 'echo:ping');
  } finally {
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  }
});
