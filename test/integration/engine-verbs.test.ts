/**
 * The rest of the engine foundation's verbs through the real docker CLI: logs options, top,
 * rename, events, list filters, start -a, exec with stdin and a tty, and the image verbs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';

describe('docker CLI verbs against berthd', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('logs honours --tail, -t and stderr', async () => {
    const r = await docker(d, 'run', '--name', 'lg', 'busybox', 'sh', '-c', 'echo a; echo b; echo c >&2');
    assert.equal(r.code, 0, r.stderr);
    const all = await docker(d, 'logs', 'lg');
    assert.equal(all.stdout, 'a\nb\n');
    assert.equal(all.stderr, 'c\n');
    const tail = await docker(d, 'logs', '--tail', '1', 'lg');
    assert.equal(tail.stdout + tail.stderr, 'c\n');
    const ts = await docker(d, 'logs', '-t', 'lg');
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z a\n/);
    await docker(d, 'rm', 'lg');
  });

  test('logs -f follows until the container exits', async () => {
    const id = (
      await docker(d, 'run', '-d', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.2; done')
    ).stdout.trim();
    const f = await docker(d, 'logs', '-f', id);
    assert.equal(f.stdout, '1\n2\n3\n');
    await docker(d, 'rm', id);
  });

  test('top lists the container processes', async () => {
    const id = (await docker(d, 'run', '-d', 'busybox', 'sleep', '30')).stdout.trim();
    const top = await docker(d, 'top', id);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
    assert.match(top.stdout, /sleep 30/);
    await docker(d, 'rm', '-f', id);
  });

  test('rename changes the name and frees the old one', async () => {
    await docker(d, 'create', '--name', 'old1', 'busybox', 'true');
    const r = await docker(d, 'rename', 'old1', 'new1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await docker(d, 'inspect', '-f', '{{.Name}}', 'new1')).stdout, '/new1\n');
    assert.notEqual((await docker(d, 'inspect', 'old1')).code, 0);
    await docker(d, 'rm', 'new1');
  });

  test('ps filters by status and name, -q -l shows the latest', async () => {
    await docker(d, 'run', '--name', 'done1', 'busybox', 'true');
    const running = (
      await docker(d, 'run', '-d', '--name', 'up1', '-l', 'k=v', 'busybox', 'sleep', '30')
    ).stdout.trim();
    const exited = await docker(d, 'ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}');
    assert.match(exited.stdout, /^done1$/m);
    assert.doesNotMatch(exited.stdout, /up1/);
    const byLabel = await docker(d, 'ps', '--filter', 'label=k=v', '-q', '--no-trunc');
    assert.equal(byLabel.stdout, `${running}\n`);
    const latest = await docker(d, 'ps', '-a', '-q', '-l');
    assert.equal(latest.stdout, `${running.slice(0, 12)}\n`);
    await docker(d, 'rm', '-f', 'done1', 'up1');
  });

  test('events reports the lifecycle of a container', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = (await docker(d, 'run', '-d', 'busybox', 'true')).stdout.trim();
    await docker(d, 'wait', id);
    await docker(d, 'rm', id);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const ev = await docker(
      d,
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--filter',
      `container=${id}`,
      '--format',
      '{{.Action}}',
    );
    assert.deepEqual(ev.stdout.trim().split('\n'), ['create', 'start', 'die', 'destroy']);
  });

  test('start -a attaches and returns the exit code', async () => {
    await docker(d, 'create', '--name', 'sa1', 'busybox', 'sh', '-c', 'echo attached; exit 4');
    const r = await docker(d, 'start', '-a', 'sa1');
    assert.equal(r.stdout, 'attached\n');
    assert.equal(r.code, 4);
    await docker(d, 'rm', 'sa1');
  });

  test('run -i and exec -i pass stdin through', async () => {
    const r = await run('docker', ['-H', d.host, 'run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], {
      input: 'hello\n',
    });
    assert.equal(r.stdout, 'HELLO\n');
    const id = (await docker(d, 'run', '-d', 'busybox', 'sleep', '30')).stdout.trim();
    const e = await run('docker', ['-H', d.host, 'exec', '-i', id, 'wc', '-l'], { input: 'a\nb\nc\n' });
    assert.equal(e.stdout.trim(), '3');
    const code = await docker(d, 'exec', id, 'sh', '-c', 'exit 5');
    assert.equal(code.code, 5);
    await docker(d, 'rm', '-f', id);
  });

  test('exec -u, -w and -e set the user, directory and environment', async () => {
    const id = (await docker(d, 'run', '-d', '-e', 'A=1', 'busybox', 'sleep', '30')).stdout.trim();
    const r = await docker(
      d,
      'exec',
      '-u',
      'nobody',
      '-w',
      '/tmp',
      '-e',
      'B=2',
      id,
      'sh',
      '-c',
      'id -un; pwd; echo $A$B',
    );
    assert.equal(r.stdout, 'nobody\n/tmp\n12\n');
    const u = await docker(d, 'exec', '-u', '1234:5678', id, 'id');
    assert.match(u.stdout, /^uid=1234 gid=5678/);
    await docker(d, 'rm', '-f', id);
  });

  test('run -t gives the container a terminal', async () => {
    // CI has no TTY: script(1) gives the docker CLI one.
    const r = await run('script', ['-qec', `docker -H ${d.host} run --rm -t busybox tty`, '/dev/null']);
    assert.match(r.stdout, /\/dev\/pts\/0/);
  });

  test('images, tag and rmi behave as Docker', async () => {
    const tag = await docker(d, 'tag', 'busybox', 'mybox:v1');
    assert.equal(tag.code, 0, tag.stderr);
    const images = await docker(d, 'images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.deepEqual(images.stdout.trim().split('\n').sort(), ['busybox:latest', 'mybox:v1']);
    const rmi = await docker(d, 'rmi', 'mybox:v1');
    assert.equal(rmi.stdout, 'Untagged: mybox:v1\n');
    const missing = await docker(d, 'rmi', 'nosuch:1');
    assert.match(missing.stderr, /No such image: nosuch:1/);
  });
});
