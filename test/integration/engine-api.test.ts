/**
 * Bad input through the Engine API: Docker's status codes and messages, and berthd keeps
 * serving with nothing left behind.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, makeBusybox, startDaemon } from '../helpers/daemon.ts';

describe('Engine API bad input', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test("an unknown image is a 404 with Docker's message", async () => {
    const r = await d.api('POST', '/containers/create', { Image: 'nosuch:1', Cmd: ['true'] });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { message: 'No such image: nosuch:1' });
  });

  test('an unknown container is a 404', async () => {
    const r = await d.api('GET', '/containers/nosuch/json');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { message: 'No such container: nosuch' });
  });

  test('a malformed JSON body is a 400 and berthd keeps serving', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          socketPath: d.socket,
          method: 'POST',
          path: '/containers/create',
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{"Image": "busybox", ');
    });
    assert.equal(status, 400);
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });

  test('a container with no command is a 400 and leaves nothing behind', async () => {
    const before = await readdir(join(d.dataRoot, 'containers'));
    // An image without CMD: import one with no --change.
    const r = await d.api('POST', '/containers/create', { Image: 'busybox', Entrypoint: [''], Cmd: [] });
    assert.equal(r.status, 400);
    assert.match((r.body as { message: string }).message, /No command specified/);
    assert.deepEqual(await readdir(join(d.dataRoot, 'containers')), before);
  });

  test('starting a running container is a 304', async () => {
    const c = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '30'] }))
      .body as { Id: string };
    assert.equal((await d.api('POST', `/containers/${c.Id}/start`)).status, 204);
    assert.equal((await d.api('POST', `/containers/${c.Id}/start`)).status, 304);
    const rm = await d.api('DELETE', `/containers/${c.Id}`);
    assert.equal(rm.status, 409);
    assert.match(
      (rm.body as { message: string }).message,
      /stop the container before removing or force remove/,
    );
    assert.equal((await d.api('DELETE', `/containers/${c.Id}?force=1`)).status, 204);
  });

  test('a start failure leaves the container created with exit code 127, the error, and no mount', async () => {
    const c = (await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['/nope'] })).body as {
      Id: string;
    };
    const s = await d.api('POST', `/containers/${c.Id}/start`);
    assert.equal(s.status, 400);
    const i = (await d.api('GET', `/containers/${c.Id}/json`)).body as {
      State: { ExitCode: number; Status: string; Error: string };
    };
    assert.equal(i.State.ExitCode, 127);
    assert.equal(i.State.Status, 'created', 'dockerd keeps a container whose start failed "created"');
    assert.match(i.State.Error, /nope/);
    const { readFile } = await import('node:fs/promises');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(c.Id), 'no mount of the container remains');
    await d.api('DELETE', `/containers/${c.Id}`);
  });
});
