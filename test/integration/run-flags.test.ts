/**
 * The run flags of the runtime issue that no other suite drives through the real docker CLI:
 * each is given to `docker run`/`create` against berthd and checked where it takes effect (the
 * container's own view, its cgroup files, inspect), with Docker's warnings where the host lacks
 * the controller.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type TestDaemon,
  canRunRoot,
  cgroupFile,
  docker,
  inspectContainer,
  makeBusybox,
  startDaemon,
} from '../helpers/daemon.ts';

describe('run flags through the docker CLI', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  const cg = (controller: string, id: string, file: string) => cgroupFile(d, controller, id, file);
  const inspect = (name: string) => inspectContainer(d, name);
  const ok = async (...args: string[]) => {
    const r = await docker(d, ...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('--group-add adds supplementary groups by number and by the image group name', async () => {
    const r = await ok(
      'run',
      '--rm',
      '-u',
      '1000',
      '--group-add',
      '1234',
      '--group-add',
      'wheel',
      'busybox',
      'sh',
      '-c',
      'grep -E "^(Uid|Gid|Groups):" /proc/self/status',
    );
    const lines = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(':\t') as [string, string]),
    );
    assert.match(lines.Uid!, /^1000\t/);
    assert.match(lines.Gid!, /^0\t/);
    // Docker puts the primary gid (0 for a uid without a passwd entry) first, then the added ones.
    assert.deepEqual(
      lines
        .Groups!.trim()
        .split(/\s+/)
        .map(Number)
        .sort((a, b) => a - b),
      [0, 10, 1234],
    );
  });

  test('--oom-score-adj is the process score and is kept in HostConfig', async () => {
    await ok(
      'run',
      '--name',
      'oomadj',
      '--oom-score-adj',
      '500',
      'busybox',
      'cat',
      '/proc/self/oom_score_adj',
    );
    try {
      assert.equal((await ok('logs', 'oomadj')).stdout.trim(), '500');
      assert.equal((await inspect('oomadj')).HostConfig.OomScoreAdj, 500);
      const bad = await docker(d, 'run', '--rm', '--oom-score-adj', '1001', 'busybox', 'true');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
    } finally {
      await docker(d, 'rm', '-f', 'oomadj');
    }
  });

  test('--stop-signal is what stop sends; --stop-timeout bounds the wait before SIGKILL', async () => {
    await ok(
      'run',
      '-d',
      '--name',
      'usr1',
      '--stop-signal',
      'SIGUSR1',
      'busybox',
      'sh',
      '-c',
      "trap 'echo got-usr1; exit 0' USR1; echo ready; while :; do sleep 0.1; done",
    );
    await ok(
      'run',
      '-d',
      '--name',
      'stubborn',
      '--stop-timeout',
      '1',
      'busybox',
      'sh',
      '-c',
      "trap '' TERM; echo ready; while :; do sleep 0.1; done",
    );
    try {
      for (const name of ['usr1', 'stubborn']) {
        for (let i = 0; i < 50 && !(await ok('logs', name)).stdout.includes('ready'); i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const usr1 = await inspect('usr1');
      assert.equal(usr1.Config.StopSignal, 'SIGUSR1');
      await ok('stop', 'usr1');
      assert.match((await ok('logs', 'usr1')).stdout, /got-usr1/);
      assert.equal((await inspect('usr1')).State.ExitCode, 0);

      assert.equal((await inspect('stubborn')).Config.StopTimeout, 1);
      const started = Date.now();
      await ok('stop', 'stubborn');
      // TERM is ignored, so only the SIGKILL after the container's own 1 s timeout ends it
      // (Docker's default would wait 10 s).
      assert.ok(Date.now() - started < 9000, 'stop used the container stop timeout, not the default');
      assert.equal((await inspect('stubborn')).State.ExitCode, 137);
    } finally {
      await docker(d, 'rm', '-f', 'usr1', 'stubborn');
    }
  });

  test('--memory-reservation, --cpu-period/--cpu-quota and --cpuset-cpus/--cpuset-mems reach the cgroup', async () => {
    const flags = ['--memory-reservation', '20m', '--cpu-period', '50000', '--cpu-quota', '25000'];
    await ok(
      'run',
      '-d',
      '--name',
      'limits',
      ...flags,
      '--cpuset-cpus',
      '0',
      '--cpuset-mems',
      '0',
      'busybox',
      'sh',
      '-c',
      'grep Cpus_allowed_list /proc/self/status; sleep 30',
    );
    try {
      const c = await inspect('limits');
      for (let i = 0; i < 50 && !(await ok('logs', 'limits')).stdout; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match((await ok('logs', 'limits')).stdout, /Cpus_allowed_list:\t0$/m);
      assert.equal(c.HostConfig.MemoryReservation, 20 * 1024 * 1024);
      assert.equal(c.HostConfig.CpuPeriod, 50000);
      assert.equal(c.HostConfig.CpuQuota, 25000);
      assert.equal(c.HostConfig.CpusetCpus, '0');
      assert.equal(c.HostConfig.CpusetMems, '0');
      const id = c.Id as string;
      assert.equal(await cg('memory', id, 'memory.soft_limit_in_bytes'), String(20 * 1024 * 1024));
      assert.equal(await cg('cpu', id, 'cpu.cfs_period_us'), '50000');
      assert.equal(await cg('cpu', id, 'cpu.cfs_quota_us'), '25000');
      assert.equal(await cg('cpuset', id, 'cpuset.cpus'), '0');
      assert.equal(await cg('cpuset', id, 'cpuset.mems'), '0');
      const bad = await docker(d, 'run', '--rm', '--cpu-period', '500', 'busybox', 'true');
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr,
        /CPU cfs period can not be less than 1ms \(i\.e\. 1000\) or larger than 1s \(i\.e\. 1000000\)/,
      );
    } finally {
      await docker(d, 'rm', '-f', 'limits');
    }
  });

  test('--device-read-bps/-write-bps/-read-iops/-write-iops become blkio throttle rules', async (t) => {
    const dev = ['/dev/loop0', '/dev/vda', '/dev/sda'].find(
      (p) => existsSync(p) && statSync(p).isBlockDevice(),
    );
    if (!dev) {
      t.skip('no block device to throttle');
      return;
    }
    const rdev = statSync(dev).rdev;
    const majmin = `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
    await ok(
      'run',
      '-d',
      '--name',
      'blk',
      '--device-read-bps',
      `${dev}:1mb`,
      '--device-write-bps',
      `${dev}:2mb`,
      '--device-read-iops',
      `${dev}:100`,
      '--device-write-iops',
      `${dev}:200`,
      'busybox',
      'sleep',
      '30',
    );
    try {
      const c = await inspect('blk');
      assert.deepEqual(c.HostConfig.BlkioDeviceReadBps, [{ Path: dev, Rate: 1024 * 1024 }]);
      assert.deepEqual(c.HostConfig.BlkioDeviceWriteIOps, [{ Path: dev, Rate: 200 }]);
      const id = c.Id as string;
      assert.equal(await cg('blkio', id, 'blkio.throttle.read_bps_device'), `${majmin} ${1024 * 1024}`);
      assert.equal(await cg('blkio', id, 'blkio.throttle.write_bps_device'), `${majmin} ${2 * 1024 * 1024}`);
      assert.equal(await cg('blkio', id, 'blkio.throttle.read_iops_device'), `${majmin} 100`);
      assert.equal(await cg('blkio', id, 'blkio.throttle.write_iops_device'), `${majmin} 200`);
    } finally {
      await docker(d, 'rm', '-f', 'blk');
    }
  });

  test("--blkio-weight is applied where the kernel has a weight file, else discarded with Docker's warning", async () => {
    const r = await ok('create', '--name', 'weight', '--blkio-weight', '300', 'busybox', 'true');
    try {
      const hasWeight = ['blkio.weight', 'blkio.bfq.weight'].some((f) =>
        existsSync(join('/sys/fs/cgroup/blkio', f)),
      );
      const weight = (await inspect('weight')).HostConfig.BlkioWeight;
      if (hasWeight) assert.equal(weight, 300);
      else {
        assert.match(
          r.stderr,
          /Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./,
        );
        assert.equal(weight, 0);
      }
      // dockerd discards an unsupported weight before its range check: 5 is an error only where
      // the weight is applied.
      const bad = await docker(d, 'create', '--name', 'weight5', '--blkio-weight', '5', 'busybox', 'true');
      if (hasWeight) {
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /Range of blkio weight is from 10 to 1000/);
      } else assert.equal(bad.code, 0, bad.stderr);
    } finally {
      await docker(d, 'rm', '-f', 'weight', 'weight5');
    }
  });
  test('-u resolves user and group names from the image; --read-only with --tmpfs leaves /tmp writable', async () => {
    const ids = await ok('run', '--rm', '-u', 'www-data', 'busybox', 'sh', '-c', 'echo $(id -u):$(id -g)');
    assert.equal(ids.stdout.trim(), '33:33');
    const named = await ok(
      'run',
      '--rm',
      '-u',
      'operator:wheel',
      'busybox',
      'sh',
      '-c',
      'echo $(id -u):$(id -g)',
    );
    assert.equal(named.stdout.trim(), '37:10');
    const missing = await docker(d, 'run', '--rm', '-u', 'nosuchuser', 'busybox', 'true');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);

    const ro = await docker(
      d,
      'run',
      '--name',
      'ro',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/run:size=1m,mode=1777',
      'busybox',
      'sh',
      '-c',
      'touch /x 2>&1; touch /tmp/x && echo tmp-ok; grep " /run " /proc/mounts',
    );
    try {
      assert.equal(ro.code, 0, ro.stderr);
      assert.match(ro.stdout, /Read-only file system/);
      assert.match(ro.stdout, /tmp-ok/);
      assert.match(ro.stdout, /tmpfs \/run tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
      assert.equal((await inspect('ro')).HostConfig.ReadonlyRootfs, true);
    } finally {
      await docker(d, 'rm', '-f', 'ro');
    }
  });

  test('--ulimit sets soft and hard limits; --sysctl sets namespaced keys', async () => {
    const r = await ok(
      'run',
      '--rm',
      '--ulimit',
      'nofile=1024:2048',
      '--ulimit',
      'core=0',
      '--ulimit',
      'nproc=200',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      '--sysctl',
      'kernel.shm_rmid_forced=1',
      'busybox',
      'sh',
      '-c',
      'echo $(ulimit -n) $(ulimit -Hn) $(ulimit -c) $(ulimit -u) $(cat /proc/sys/net/ipv4/ip_forward) $(cat /proc/sys/kernel/shm_rmid_forced)',
    );
    assert.equal(r.stdout.trim(), '1024 2048 0 200 1 1');
    // A sysctl of the host's network namespace is refused, as runc refuses it.
    const hostNet = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'host',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      'busybox',
      'true',
    );
    assert.notEqual(hostNet.code, 0);
    assert.match(hostNet.stderr, /sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace/);
  });

  test('--pid host and --uts host share the host namespaces', async () => {
    const pid = await ok(
      'run',
      '--rm',
      '--pid',
      'host',
      'busybox',
      'sh',
      '-c',
      'cat /proc/1/comm; readlink /proc/self/ns/pid',
    );
    const [comm, ns] = pid.stdout.trim().split('\n');
    assert.equal(comm, (await readFile('/proc/1/comm', 'utf8')).trim());
    assert.equal(ns, await readlink('/proc/self/ns/pid'));
    const uts = await ok('run', '--rm', '--uts', 'host', 'busybox', 'hostname');
    assert.equal(uts.stdout.trim(), hostname());
    const c = await ok('create', '--name', 'hostns', '--pid', 'host', '--uts', 'host', 'busybox', 'true');
    try {
      assert.equal(c.code, 0);
      const hc = (await inspect('hostns')).HostConfig;
      assert.equal(hc.PidMode, 'host');
      assert.equal(hc.UTSMode, 'host');
    } finally {
      await docker(d, 'rm', '-f', 'hostns');
    }
  });
  test('bad input is refused at create and leaves no container behind', async () => {
    const before = (await ok('ps', '-aq')).stdout;
    const cases: Array<[string[], RegExp]> = [
      [['--cap-add', 'BOGUS'], /unknown capability: "CAP_BOGUS"/],
      [['-m', '4m'], /Minimum memory limit allowed is 6MB/],
      [
        ['--device', '/dev/nope-berth'],
        /error gathering device information while adding custom device "\/dev\/nope-berth"/,
      ],
      [
        ['--security-opt', 'seccomp=/nonexistent-profile.json'],
        /opening seccomp profile \(\/nonexistent-profile\.json\) failed/,
      ],
      [['--cpuset-cpus', '99'], /Requested CPUs are not available - requested 99, available: /],
    ];
    for (const [flags, message] of cases) {
      const r = await docker(d, 'create', ...flags, 'busybox', 'true');
      assert.notEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, message, flags.join(' '));
    }
    assert.equal((await ok('ps', '-aq')).stdout, before);
  });
});
