/**
 * The engine foundation, driven by the real docker CLI (28.x) against a berthd of our own:
 * the "Done when" list of the engine foundation issue.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

describe('docker CLI against berthd', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('run --rm busybox echo hi prints hi', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'echo', 'hi');
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.code, 0);
    const left = await docker(d, 'ps', '-aq');
    assert.equal(left.stdout, '', 'the --rm container is gone');
  });

  test('run returns the exit code of the container', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'sh', '-c', 'exit 3');
    assert.equal(r.code, 3);
  });

  test("a one-letter name is refused with Docker's message (Docker needs two characters)", async () => {
    const r = await docker(d, 'run', '-d', '--name', 't', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Invalid container name \(t\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
  });

  test('a detached container is listed, logs, execs, inspects, stops and is removed', async () => {
    const run = await docker(
      d,
      'run',
      '-d',
      '--name',
      'tt',
      'busybox',
      'sh',
      '-c',
      'echo started; exec sleep 100',
    );
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);

    const ps = await docker(d, 'ps');
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
    assert.match(ps.stdout, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+.*Up .*\\s+tt\\n`));

    const logs = await docker(d, 'logs', 'tt');
    assert.equal(logs.stdout, 'started\n');

    const exec = await docker(d, 'exec', 'tt', 'ps');
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /PID\s+USER\s+(TIME\s+)?COMMAND/);
    assert.match(exec.stdout, /^\s*1 root\s+.*sleep 100$/m);

    const pid = await docker(d, 'inspect', '-f', '{{.State.Pid}}', 'tt');
    assert.match(pid.stdout, /^[1-9]\d*\n$/);
    const comm = await readFile(`/proc/${pid.stdout.trim()}/cmdline`, 'utf8');
    assert.equal(comm, 'sleep\u0000100\u0000');

    const stop = await docker(d, 'stop', '-t', '1', 'tt');
    assert.equal(stop.stdout, 'tt\n');
    const state = await docker(d, 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'tt');
    assert.equal(state.stdout, 'exited 137\n');

    const rm = await docker(d, 'rm', 'tt');
    assert.equal(rm.stdout, 'tt\n');
    const gone = await docker(d, 'inspect', 'tt');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such object: tt|No such container: tt/);
  });

  test('inside a container PID 1 is the command and the host is invisible', async () => {
    const r = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'none',
      '--hostname',
      'box1',
      'busybox',
      'sh',
      '-c',
      'cat /proc/1/cmdline | tr "\\0" " "; echo; hostname; ps -o pid= | wc -l; ls /sys/class/net; cut -d" " -f2 /proc/mounts | sort -u | tr "\\n" ,',
    );
    assert.equal(r.code, 0, r.stderr);
    const [cmdline, hostname, nprocs, ifaces, nmounts] = r.stdout.split('\n');
    assert.equal(
      cmdline,
      'sh -c cat /proc/1/cmdline | tr "\\0" " "; echo; hostname; ps -o pid= | wc -l; ls /sys/class/net; cut -d" " -f2 /proc/mounts | sort -u | tr "\\n" , ',
    );
    assert.equal(hostname, 'box1');
    assert.ok(Number(nprocs) <= 5, `only the container's processes are visible (${nprocs})`);
    assert.equal(ifaces, 'lo');
    // Only the container's own mounts: its root, the kernel filesystems and the files berth
    // writes for it; none of the host's other mount points.
    const points = (nmounts ?? '').split(',').filter(Boolean);
    const own = /^\/$|^\/(proc|dev|sys)(\/|$)|^\/etc\/(hostname|hosts|resolv\.conf)$/;
    assert.deepEqual(
      points.filter((m) => !own.test(m)),
      [],
      'the host mount table is not visible',
    );
  });

  test('the default hostname is the short container id', async () => {
    const r = await docker(d, 'run', '-d', 'busybox', 'sleep', '30');
    const id = r.stdout.trim();
    const h = await docker(d, 'exec', id, 'hostname');
    assert.equal(h.stdout, `${id.slice(0, 12)}\n`);
    await docker(d, 'rm', '-f', id);
  });

  test('a write to the container rootfs does not change the image', async () => {
    const w = await docker(
      d,
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'echo x > /bin/marker && rm /bin/ls && ls /bin/marker',
    );
    assert.equal(w.code, 0, w.stderr);
    const r = await docker(
      d,
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'test ! -e /bin/marker && test -e /bin/ls && echo clean',
    );
    assert.equal(r.stdout, 'clean\n');
  });

  test('-m 64m is the memory limit of the container cgroup', async () => {
    const r = await docker(d, 'run', '-d', '-m', '64m', 'busybox', 'sleep', '30');
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const pid = (await docker(d, 'inspect', '-f', '{{.State.Pid}}', id)).stdout.trim();
    const cgroup = (await readFile(`/proc/${pid}/cgroup`, 'utf8'))
      .split('\n')
      .find((l) => /:memory:/.test(l))!
      .split(':')[2]!;
    const limit = await readFile(`/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`, 'utf8');
    assert.equal(limit.trim(), String(64 * 1024 * 1024));
    const mem = await docker(d, 'inspect', '-f', '{{.HostConfig.Memory}}', id);
    assert.equal(mem.stdout, '67108864\n');
    await docker(d, 'rm', '-f', id);
  });

  test('a missing command exits 127 and a missing image is reported', async () => {
    const r = await docker(d, 'run', '--rm', 'busybox', 'nosuchcmd');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found in \$PATH/);
    const img = await docker(d, 'run', '--rm', 'nosuchimage');
    assert.equal(img.code, 125);
    assert.match(img.stderr, /Unable to find image 'nosuchimage:latest' locally/);
  });

  test('name conflicts and unknown containers get Docker errors', async () => {
    const a = await docker(d, 'create', '--name', 'dup', 'busybox', 'true');
    assert.equal(a.code, 0, a.stderr);
    const b = await docker(d, 'create', '--name', 'dup', 'busybox', 'true');
    assert.equal(b.code, 1);
    assert.match(b.stderr, /Conflict\. The container name "\/dup" is already in use by container/);
    const rm = await docker(d, 'rm', 'nosuch');
    assert.match(rm.stderr, /No such container: nosuch/);
    await docker(d, 'rm', 'dup');
  });
});
