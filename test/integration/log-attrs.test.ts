/**
 * json-file's extra attributes (`--log-opt labels=… env=… labels-regex=… env-regex=…`, also
 * from the daemon's log-opts): each line of the log file carries an `attrs` object, `docker logs
 * --details` prints them before each line; and attach with `logs=1` replays the stored log
 * before (stream=1) or instead of (stream=0) the live output, raw and through docker-py.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import {
  type TestDaemon,
  berth,
  canRunRoot,
  docker,
  inspectFormat,
  makeBusybox,
  run,
  startDaemon,
  waitFor,
} from '../helpers/daemon.ts';

/** POSTs without upgrading and returns the whole body. */
function post(d: TestDaemon, path: string): Promise<{ status: number; body: Buffer; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          type: String(res.headers['content-type']),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** A hijacked POST (Connection: Upgrade), as docker-py and the docker CLI attach. */
function hijack(d: TestDaemon, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: d.socket,
      method: 'POST',
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    req.on('upgrade', (_res, socket, head) => {
      if (head.length) socket.unshift(head);
      resolve(socket as Socket);
    });
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Splits a stdcopy body into its stdout and stderr text (a partial last frame is left out). */
function demux(body: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  let i = 0;
  while (i + 8 <= body.length) {
    const size = body.readUInt32BE(i + 4);
    if (i + 8 + size > body.length) break;
    const payload = body.subarray(i + 8, i + 8 + size).toString();
    if (body[i] === 2) out.stderr += payload;
    else out.stdout += payload;
    i += 8 + size;
  }
  return out;
}

async function logLines(d: TestDaemon, name: string): Promise<string[]> {
  const path = await inspectFormat(d, name, '{{.LogPath}}');
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean);
}

describe('json-file log attributes and attach logs=1', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('labels, env, env-regex and tag put the picked values in every line; logs --details prints them', async () => {
    const r = await docker(
      d,
      ...['run', '--name', 'attrs', '--label', 'com.example.team=core', '--label', 'other=x'],
      ...['-e', 'FOO=bar', '-e', 'SP=a b&c', '-e', 'FOX=1'],
      ...['--log-opt', 'labels=com.example.team,missing', '--log-opt', 'env=FOO,SP'],
      ...['--log-opt', 'env-regex=^FOX$', '--log-opt', 'tag={{.Name}}/{{.ID}}'],
      ...['busybox', 'sh', '-c', 'printf "hi\\tx\\n"; echo err >&2'],
    );
    assert.equal(r.code, 0, r.stderr);
    const id = (await inspectFormat(d, 'attrs', '{{.Id}}')).slice(0, 12);
    // What dockerd 20.10 writes for the same run (recorded with the private dockerd).
    const attrs = `{"FOO":"bar","FOX":"1","SP":"a b\\u0026c","com.example.team":"core","tag":"attrs/${id}"}`;
    const lines = await logLines(d, 'attrs');
    assert.equal(lines.length, 2);
    // The two streams are separate pipes: their lines may be logged in either order.
    const out = lines.find((l) => l.includes('"stdout"')) ?? '';
    const err = lines.find((l) => l.includes('"stderr"')) ?? '';
    assert.match(out, /^\{"log":"hi\\u0009x\\n","stream":"stdout","attrs":\{.*\},"time":"[^"]+"\}$/);
    assert.match(err, /^\{"log":"err\\n","stream":"stderr","attrs":\{.*\},"time":"[^"]+"\}$/);
    for (const l of lines) assert.ok(l.includes(`"attrs":${attrs},"time"`), l);

    const details = await docker(d, 'logs', '--details', 'attrs');
    assert.equal(details.code, 0, details.stderr);
    const prefix = `FOO=bar,FOX=1,SP=a+b%26c,com.example.team=core,tag=attrs%2F${id} `;
    assert.equal(details.stdout, `${prefix}hi\tx\n`);
    assert.equal(details.stderr, `${prefix}err\n`);
    const stamped = await docker(d, 'logs', '--details', '-t', 'attrs');
    assert.ok(stamped.stdout.endsWith(` ${prefix}hi\tx\n`), stamped.stdout);
    assert.match(
      stamped.stdout,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z FOO=bar,/,
      'nine digits, as dockerd',
    );
    const ours = await berth(d, 'logs', '--details', 'attrs');
    assert.equal(ours.stdout, `${prefix}hi\tx\n`, 'berth logs --details too');
    // Without --details nothing changes.
    assert.equal((await docker(d, 'logs', 'attrs')).stdout, 'hi\tx\n');
    assert.equal((await docker(d, 'rm', 'attrs')).code, 0);
  });

  test('labels-regex matches label names; without attributes details adds only a space and lines have no attrs', async () => {
    const r = await docker(
      d,
      ...['run', '--name', 'rx', '--label', 'app.tier=web', '--label', 'app.zone=eu', '--label', 'x=y'],
      ...['--log-opt', 'labels-regex=^app\\.', 'busybox', 'echo', 'hello'],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await docker(d, 'logs', '--details', 'rx')).stdout, 'app.tier=web,app.zone=eu hello\n');

    const p = await docker(d, 'run', '--name', 'plain', '--log-opt', 'env=NOPE', 'busybox', 'echo', 'hello');
    assert.equal(p.code, 0, p.stderr);
    const [line] = await logLines(d, 'plain');
    assert.match(line ?? '', /^\{"log":"hello\\n","stream":"stdout","time":"[^"]+"\}$/);
    assert.equal((await docker(d, 'logs', '--details', 'plain')).stdout, ' hello\n');
    assert.equal((await docker(d, 'rm', 'rx', 'plain')).code, 0);
  });

  test('a bad regexp or tag template fails the start, not the create; the local driver refuses the options', async () => {
    const r = await docker(d, 'run', '--name', 'badrx', '--log-opt', 'labels-regex=(', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed to initialize logging driver: error parsing regexp/);
    assert.equal(await inspectFormat(d, 'badrx', '{{.State.Running}}'), 'false');
    assert.equal((await docker(d, 'rm', 'badrx')).code, 0);

    const tag = await docker(d, 'run', '--name', 'badtag', '--log-opt', 'tag={{.Name', 'busybox', 'true');
    assert.match(tag.stderr, /failed to initialize logging driver: template: log-tag/);
    assert.equal((await docker(d, 'rm', 'badtag')).code, 0);
    const local = await docker(d, 'create', '--log-driver', 'local', '--log-opt', 'labels=a', 'busybox');
    assert.match(local.stderr, /unknown log opt 'labels' for log driver local/);
  });

  test("the daemon's log-opts apply to containers using its default driver", async () => {
    const d2 = await startDaemon({ args: ['--log-opt', 'env=ROLE', '--log-opt', 'labels=team'] });
    try {
      await makeBusybox(d2);
      const r = await docker(
        d2,
        ...['run', '--name', 'dflt', '-e', 'ROLE=db', '--label', 'team=ops', 'busybox', 'echo', 'x'],
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await docker(d2, 'logs', '--details', 'dflt')).stdout, 'ROLE=db,team=ops x\n');
      const [line] = await logLines(d2, 'dflt');
      assert.ok(line?.includes('"attrs":{"ROLE":"db","team":"ops"}'), line);
    } finally {
      await d2.stop();
    }
  });

  test('attach logs=1&stream=0 replays the selected streams of a stopped container', async () => {
    const r = await docker(
      d,
      'run',
      '--name',
      'replay',
      'busybox',
      'sh',
      '-c',
      'echo out1; echo err1 >&2; echo out2',
    );
    assert.equal(r.code, 0, r.stderr);
    const both = await post(d, '/v1.41/containers/replay/attach?logs=1&stream=0&stdout=1&stderr=1');
    assert.equal(both.status, 200);
    assert.equal(both.type, 'application/vnd.docker.raw-stream');
    assert.deepEqual(demux(both.body), { stdout: 'out1\nout2\n', stderr: 'err1\n' });
    const errOnly = await post(d, '/containers/replay/attach?logs=1&stream=0&stderr=1');
    assert.deepEqual(demux(errOnly.body), { stdout: '', stderr: 'err1\n' });
    const nothing = await post(d, '/containers/replay/attach?logs=0&stream=0&stdout=1');
    assert.equal(nothing.body.length, 0);
    assert.equal((await docker(d, 'rm', 'replay')).code, 0);
  });

  test('attach logs=1&stream=1 (hijacked) replays the log, then the live output and stdin follow', async () => {
    const r = await docker(
      d,
      ...['run', '-d', '-i', '--name', 'live', 'busybox', 'sh', '-c', 'echo first; read x; echo got $x'],
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor('first line logged', async () => (await docker(d, 'logs', 'live')).stdout === 'first\n');
    const sock = await hijack(d, '/containers/live/attach?logs=1&stream=1&stdin=1&stdout=1&stderr=1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((res) => sock.once('end', res));
    await waitFor('the log replayed', async () => demux(Buffer.concat(chunks)).stdout === 'first\n');
    sock.write('hello\n');
    await ended;
    assert.deepEqual(demux(Buffer.concat(chunks)), { stdout: 'first\ngot hello\n', stderr: '' });
    sock.destroy();
    assert.equal((await docker(d, 'wait', 'live')).stdout.trim(), '0');
    assert.equal((await docker(d, 'rm', 'live')).code, 0);
  });

  test('docker-py attach(logs=True, stream=False) returns the stored output', async (t) => {
    const probe = await run('python3', ['-c', 'import docker']);
    if (probe.code !== 0) return t.skip('docker-py (python3-docker) is not installed');
    const r = await docker(d, 'run', '--name', 'py', '-t', 'busybox', 'sh', '-c', 'echo one; echo two');
    assert.equal(r.code, 0, r.stderr);
    const py = await run('python3', [
      '-c',
      [
        'import docker, sys',
        `c = docker.DockerClient(base_url="${d.host}")`,
        'out = c.containers.get("py").attach(stdout=True, stderr=True, logs=True, stream=False)',
        'sys.stdout.write(repr(out))',
      ].join('\n'),
    ]);
    assert.equal(py.code, 0, py.stderr);
    assert.equal(py.stdout, String.raw`b'one\r\ntwo\r\n'`);
    assert.equal((await docker(d, 'rm', 'py')).code, 0);
  });
});
