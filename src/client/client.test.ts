import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EngineClient, filtersQuery } from './client.ts';
import { DaemonError, DaemonUnreachableError, kindForStatus } from './errors.ts';
import { parseHost, resolveHost } from './host.ts';
import { encodeQuery } from './transport.ts';

async function withServer(
  apiVersion: string | undefined,
  fn: (socketPath: string, urls: string[]) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-client-'));
  const socketPath = join(dir, 's.sock');
  const urls: string[] = [];
  const server = createServer((req, res) => {
    urls.push(`${req.method} ${req.url}`);
    if (req.url === '/_ping') {
      res.writeHead(200, apiVersion ? { 'API-Version': apiVersion } : {}).end('OK');
    } else if (req.url?.endsWith('/containers/nope/json')) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such container: nope"}');
    } else if (req.url?.endsWith('/events')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"Type":"container","Action":"start","Actor":{"ID":"a","Attributes":{}}');
      res.end('}\n{"Type":"container","Action":"die","Actor":{"ID":"a","Attributes":{}}}\n');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"Version":"x"}');
    }
  });
  server.listen(socketPath);
  await once(server, 'listening');
  try {
    await fn(socketPath, urls);
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('the client pings once and uses the lower of the server and client API versions', async () => {
  await withServer('1.43', async (path, urls) => {
    const client = new EngineClient({ host: `unix://${path}` });
    await client.version();
    await client.info();
    client.close();
    assert.deepEqual(urls, ['GET /_ping', 'GET /v1.41/version', 'GET /v1.41/info']);
  });
  await withServer('1.40', async (path, urls) => {
    const client = new EngineClient({ host: `unix://${path}` });
    await client.version();
    client.close();
    assert.equal(urls[1], 'GET /v1.40/version');
  });
});

test('an error status becomes a DaemonError with the server message and kind', async () => {
  await withServer('1.41', async (path) => {
    const client = new EngineClient({ host: `unix://${path}` });
    await assert.rejects(client.containerInspect('nope'), (err: unknown) => {
      assert.ok(err instanceof DaemonError);
      assert.equal(err.message, 'No such container: nope');
      assert.equal(err.kind, 'NotFound');
      assert.equal(err.statusCode, 404);
      return true;
    });
    client.close();
  });
});

test('events are parsed across chunk boundaries', async () => {
  await withServer('1.41', async (path) => {
    const client = new EngineClient({ host: `unix://${path}` });
    const actions: string[] = [];
    for await (const e of client.events()) actions.push(e.Action);
    client.close();
    assert.deepEqual(actions, ['start', 'die']);
  });
});

test('nothing listening is DaemonUnreachableError with docker wording', async () => {
  const client = new EngineClient({ host: 'unix:///nonexistent/berth.sock' });
  await assert.rejects(client.ping(), (err: unknown) => {
    assert.ok(err instanceof DaemonUnreachableError);
    assert.equal(
      err.message,
      'Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?',
    );
    return true;
  });
});

test('host resolution: flag, then BERTH_HOST, then DOCKER_HOST, then the default socket', () => {
  assert.equal(resolveHost('tcp://a:1', { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'tcp://a:1');
  assert.equal(resolveHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'unix:///b');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///c' }), 'unix:///c');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/berth/berth.sock');
  assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 2376,
    url: 'tcp://127.0.0.1:2376',
  });
  assert.equal(
    parseHost('tcp://example').kind === 'tcp' && parseHost('tcp://example').url,
    'tcp://example:2375',
  );
  assert.throws(() => parseHost('ssh://x'), /unsupported protocol/);
});

test('queries and filters are encoded as the Go client does', () => {
  assert.equal(encodeQuery({ all: true, size: false, limit: 3, skip: undefined }), '?all=1&size=0&limit=3');
  assert.equal(filtersQuery({ status: ['running', 'exited'] }), '{"status":{"running":true,"exited":true}}');
  assert.equal(filtersQuery({}), undefined);
  assert.equal(kindForStatus(409), 'Conflict');
  assert.equal(kindForStatus(500), 'Internal');
});
