/**
 * Security defaults and flags through the real docker CLI: Docker's default capabilities and
 * seccomp profile, masked and read-only /proc paths, --privileged, --cap-add, --security-opt
 * (seccomp=unconfined|<file>, no-new-privileges), --device, --init and --ipc shareable.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

/** Docker's 14 default capabilities as a CapBnd mask. */
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';

function field(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
}

describe('container security', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  const sh = (...args: string[]) => {
    const script = args.pop() ?? '';
    return docker(d, 'run', '--rm', ...args, 'busybox', 'sh', '-c', script);
  };
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test("by default: Docker's 14 capabilities in every set but ambient, seccomp filter mode, no no_new_privs", async () => {
    const r = await sh('cat /proc/self/status');
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['CapBnd', 'CapEff', 'CapPrm']) assert.equal(field(r.stdout, f), DOCKER_DEFAULT_CAPS, f);
    assert.equal(field(r.stdout, 'CapInh'), '0000000000000000');
    assert.equal(field(r.stdout, 'CapAmb'), '0000000000000000');
    assert.equal(field(r.stdout, 'Seccomp'), '2');
    assert.equal(field(r.stdout, 'NoNewPrivs'), '0');
  });

  test('by default mount, unshare, writing /proc/sys, reading /proc/kcore or /proc/timer_list and using a new device node fail', async () => {
    const r = await sh(
      [
        'mount -t tmpfs t /tmp 2>/dev/null && echo mount-ok',
        'unshare -m true 2>/dev/null && echo unshare-ok',
        'echo 1 2>/dev/null > /proc/sys/kernel/panic && echo sysctl-ok',
        // /proc/kcore when the kernel has one; /proc/timer_list is masked the same way.
        'test "$(head -c1 /proc/kcore 2>/dev/null | wc -c)" = 1 && echo kcore-read',
        'test "$(head -c1 /proc/timer_list 2>/dev/null | wc -c)" = 1 && echo timer-list-read',
        'mknod /tmp/sda b 8 0 && (head -c1 /tmp/sda >/dev/null 2>&1 && echo blk-ok || echo blk-denied)',
        'echo done',
      ].join('; '),
    );
    assert.equal(r.stdout, 'blk-denied\ndone\n', r.stderr);
  });

  test('reboot and insmod are refused with EPERM', async () => {
    const r = await sh('reboot -f -n 2>&1; echo rc=$?; insmod /nope.ko 2>&1; echo rc=$?');
    assert.match(r.stdout, /rc=[1-9]/);
    assert.doesNotMatch(r.stdout, /rc=0/);
  });

  test('--security-opt seccomp=unconfined runs without a filter', async () => {
    const r = await sh('--security-opt', 'seccomp=unconfined', 'grep ^Seccomp: /proc/self/status');
    assert.equal(r.stdout, 'Seccomp:\t0\n');
  });

  test('--security-opt seccomp=<file> loads the profile (mkdir fails with the errno it names)', async () => {
    const file = join(d.dir, 'no-mkdir.json');
    await writeFile(
      file,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      }),
    );
    const r = await sh('--security-opt', `seccomp=${file}`, 'mkdir /tmp/x; echo rc=$?');
    assert.match(r.stderr, /Permission denied/);
    assert.equal(r.stdout, 'rc=1\n');
  });

  test('a malformed seccomp profile is refused before the container is created', async () => {
    const file = join(d.dir, 'bad.json');
    await writeFile(
      file,
      '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ {"names": ["x"], "action": "NOPE"}]}',
    );
    const r = await docker(d, 'create', '--security-opt', `seccomp=${file}`, 'busybox', 'true');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /seccomp profile: invalid action "NOPE"/);
    const ps = await docker(d, 'ps', '-aq');
    assert.equal(ps.stdout, '');
  });

  test('--security-opt no-new-privileges sets NoNewPrivs', async () => {
    const r = await sh('--security-opt', 'no-new-privileges', 'grep ^NoNewPrivs: /proc/self/status');
    assert.equal(r.stdout, 'NoNewPrivs:\t1\n');
  });

  test('--cap-add SYS_ADMIN allows mount (capability and seccomp); --cap-drop ALL leaves none', async () => {
    const r = await sh('--cap-add', 'SYS_ADMIN', 'mount -t tmpfs t /tmp && echo mounted');
    assert.equal(r.stdout, 'mounted\n', r.stderr);
    const none = await sh('--cap-drop', 'ALL', 'grep ^CapEff: /proc/self/status');
    assert.equal(none.stdout, 'CapEff:\t0000000000000000\n');
  });

  test('--privileged: every capability berthd holds, no seccomp, no masking, host devices, rw /sys', async () => {
    const own = await readFile(`/proc/${d.process.pid}/status`, 'utf8');
    const r = await sh(
      '--privileged',
      'cat /proc/self/status; mount -t tmpfs t /tmp && echo mounted; ' +
        'test "$(head -c1 /proc/timer_list | wc -c)" = 1 && echo timer-list; ' +
        'test -b /dev/loop0 && echo loop0; grep " /sys " /proc/self/mounts',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(field(r.stdout, 'CapBnd'), field(own, 'CapBnd'));
    assert.equal(field(r.stdout, 'CapEff'), field(own, 'CapBnd'));
    assert.equal(field(r.stdout, 'Seccomp'), '0');
    assert.match(r.stdout, /^mounted$/m);
    assert.match(r.stdout, /^timer-list$/m);
    assert.match(r.stdout, /^loop0$/m);
    assert.match(r.stdout, /sysfs \/sys sysfs rw,/);
  });

  test('exec --privileged gets every capability berthd holds in a default container, plain exec the container set', async () => {
    const own = await readFile(`/proc/${d.process.pid}/status`, 'utf8');
    assert.equal((await docker(d, 'run', '-d', '--name', 'privexec', 'busybox', 'sleep', '30')).code, 0);
    try {
      const priv = await docker(d, 'exec', '--privileged', 'privexec', 'cat', '/proc/self/status');
      assert.equal(priv.code, 0, priv.stderr);
      assert.equal(field(priv.stdout, 'CapEff'), field(own, 'CapBnd'));
      assert.equal(field(priv.stdout, 'CapBnd'), field(own, 'CapBnd'));
      // The container's seccomp filter still applies, as with dockerd.
      assert.equal(field(priv.stdout, 'Seccomp'), '2');
      const plain = await docker(d, 'exec', 'privexec', 'grep', '^CapEff:', '/proc/self/status');
      assert.equal(plain.stdout, 'CapEff:\t00000000a80425fb\n');
    } finally {
      await docker(d, 'rm', '-f', 'privexec');
    }
  });

  test('--device maps a host node into the container; a missing one is refused at create', async () => {
    const r = await sh(
      '--device',
      '/dev/zero:/dev/myzero',
      'ls -l /dev/myzero; head -c3 /dev/myzero | wc -c',
    );
    assert.match(r.stdout, /^crw.* 1,\s+5 .*\/dev\/myzero\n3\n$/, r.stderr);
    const bad = await docker(d, 'create', '--device', '/dev/nope-berth', 'busybox', 'true');
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /error gathering device information while adding custom device "\/dev\/nope-berth": no such file or directory/,
    );
  });

  test('--init runs a reaping init as PID 1 with the command as its child', async () => {
    const r = await sh(
      '--init',
      'cat /proc/1/cmdline | tr "\\0" " "; echo; (sleep 0 &) ; sleep 0.2; ps -o stat,comm | grep -c Z',
    );
    assert.match(r.stdout, /^\/sbin\/docker-init -- sh -c/, r.stderr);
    assert.match(r.stdout, /\n0\n$/);
  });

  test('--ipc shareable and --ipc container:<x> share /dev/shm and the IPC namespace', async () => {
    const a = await docker(
      d,
      'run',
      '-d',
      '--name',
      'ipc-donor',
      '--ipc',
      'shareable',
      'busybox',
      'sh',
      '-c',
      'echo hi > /dev/shm/f; readlink /proc/self/ns/ipc > /dev/shm/ns; exec sleep 30',
    );
    assert.equal(a.code, 0, a.stderr);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await sh(
        '--ipc',
        'container:ipc-donor',
        'cat /dev/shm/f; test "$(cat /dev/shm/ns)" = "$(readlink /proc/self/ns/ipc)" && echo same-ns',
      );
      assert.equal(r.stdout, 'hi\nsame-ns\n', r.stderr);
      const priv = await docker(d, 'run', '-d', '--name', 'ipc-private', 'busybox', 'sleep', '30');
      assert.equal(priv.code, 0);
      const refused = await sh('--ipc', 'container:ipc-private', 'true');
      assert.equal(refused.code, 125);
      assert.match(refused.stderr, /non-shareable IPC/);
    } finally {
      await docker(d, 'rm', '-f', 'ipc-donor', 'ipc-private');
    }
  });
});
