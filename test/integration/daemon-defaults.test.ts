/**
 * berthd's defaults for containers, through the docker CLI: --init, --no-new-privileges,
 * --seccomp-profile, --default-ulimit and --dns/--dns-search/--dns-opt apply where a container
 * says nothing and yield to what it says; info shows the labels and security options.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

describe('daemon defaults for containers', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let dir: string;
  let profile: string;
  const sh = async (...args: string[]) => {
    const script = args.pop()!;
    const r = await docker(d, 'run', '--rm', ...args, 'busybox', 'sh', '-c', script);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bdd-'));
    profile = join(dir, 'no-mkdir.json');
    // Everything allowed but creating directories.
    await writeFile(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
      }),
    );
    d = await startDaemon({
      args: [
        '--init',
        '--no-new-privileges',
        '--seccomp-profile',
        profile,
        '--default-ulimit',
        'nofile=1000:2000',
        '--dns',
        '10.9.9.9',
        '--dns-search',
        'corp.test',
        '--dns-opt',
        'ndots:3',
        '--label',
        'tier=test',
        '--default-cgroupns-mode',
        'private',
        '--default-ipc-mode',
        'shareable',
        '--default-shm-size',
        '32m',
      ],
    });
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a container that says nothing gets the init, no-new-privileges, the profile, the ulimits and the DNS settings', async () => {
    const out = await sh(
      'cat /proc/1/cmdline | tr "\\0" " "; echo; grep ^NoNewPrivs /proc/self/status; ulimit -n; ulimit -Hn; mkdir /x 2>&1; cat /etc/resolv.conf',
    );
    assert.match(out, /^\/sbin\/docker-init -- sh -c/m);
    assert.match(out, /^NoNewPrivs:\t1$/m);
    assert.match(out, /^1000\n2000$/m);
    assert.match(out, /mkdir: can't create directory '\/x': Operation not permitted/);
    assert.match(out, /^nameserver 10\.9\.9\.9$/m);
    assert.match(out, /^search corp\.test$/m);
    assert.match(out, /^options ndots:3$/m);
  });

  test("a container's own settings win over the daemon's", async () => {
    const out = await sh(
      '--init=false',
      '--security-opt',
      'no-new-privileges=false',
      '--security-opt',
      'seccomp=unconfined',
      '--ulimit',
      'nofile=500:600',
      '--dns',
      '10.8.8.8',
      'cat /proc/1/cmdline | tr "\\0" " "; echo; grep ^NoNewPrivs /proc/self/status; ulimit -n; mkdir /x && echo made; grep nameserver /etc/resolv.conf',
    );
    assert.match(out, /^sh -c/m);
    assert.match(out, /^NoNewPrivs:\t0$/m);
    assert.match(out, /^500$/m);
    assert.match(out, /^made$/m);
    assert.equal(out.match(/^nameserver /gm)?.length, 1);
    assert.match(out, /^nameserver 10\.8\.8\.8$/m);
  });

  test('on a user-defined network the search domains and options apply behind 127.0.0.11', async () => {
    assert.equal((await docker(d, 'network', 'create', 'ddnet')).code, 0);
    try {
      const out = await sh('--network', 'ddnet', 'cat /etc/resolv.conf');
      assert.match(out, /^nameserver 127\.0\.0\.11$/m);
      assert.match(out, /^search corp\.test$/m);
      assert.match(out, /^options ndots:3$/m);
    } finally {
      await docker(d, 'network', 'rm', 'ddnet');
    }
  });

  test('the default cgroup namespace, IPC mode and /dev/shm size are decided at create and stored', async () => {
    const created = await docker(
      d,
      'run',
      '--name',
      'nsdef',
      'busybox',
      'sh',
      '-c',
      'df -k /dev/shm | tail -1; grep memory /proc/self/cgroup',
    );
    try {
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /^shm\s+32768\s/m);
      // A private cgroup namespace shows the container's own cgroup as the root.
      assert.match(created.stdout, /^\d+:memory:\/$/m);
      const hc = JSON.parse((await docker(d, 'inspect', 'nsdef')).stdout)[0].HostConfig;
      assert.equal(hc.CgroupnsMode, 'private');
      assert.equal(hc.IpcMode, 'shareable');
      assert.equal(hc.ShmSize, 32 * 1024 * 1024);
    } finally {
      await docker(d, 'rm', '-f', 'nsdef');
    }
  });

  test('info shows the labels and the security options', async () => {
    const info = JSON.parse((await docker(d, 'info', '--format', '{{json .}}')).stdout);
    assert.deepEqual(info.Labels, ['tier=test']);
    assert.ok(
      info.SecurityOptions.includes(`name=seccomp,profile=${profile}`),
      info.SecurityOptions.join(' '),
    );
    assert.ok(info.SecurityOptions.includes('name=no-new-privileges'));
  });
});
