import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuntimeSpec } from '../oci/index.ts';
import { MountFlag as F } from '../platform/index.ts';
import {
  capabilityMask,
  cgroupV1Tree,
  mountToHelper,
  parseMountOptions,
  planForExec,
  planFromSpec,
} from './plan-from-spec.ts';

const opts = {
  bundleDir: '/b',
  cgroupProcs: ['/cg/cgroup.procs'],
  cgroupVersion: 1 as const,
  openStdin: false,
  stdinOnce: false,
};

const base: RuntimeSpec = {
  ociVersion: '1.0.2',
  root: { path: 'rootfs' },
  hostname: 'h',
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
  linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }] },
};

test('mount options become flags, propagation and data', () => {
  const table: [string[], number, number, string][] = [
    [['nosuid', 'noexec', 'nodev'], F.NOSUID | F.NOEXEC | F.NODEV, 0, ''],
    [
      ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      F.NOSUID | F.STRICTATIME,
      0,
      'mode=755,size=65536k',
    ],
    [
      ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      F.NOSUID | F.NOEXEC,
      0,
      'newinstance,ptmxmode=0666,mode=0620,gid=5',
    ],
    [['rbind', 'ro', 'rprivate'], F.BIND | F.REC | F.RDONLY, F.PRIVATE | F.REC, ''],
    [['bind', 'slave'], F.BIND, F.SLAVE, ''],
    [['ro', 'rw'], 0, 0, ''],
    [['z', 'Z', 'tmpcopyup'], 0, 0, ''],
  ];
  for (const [options, flags, propagation, data] of table) {
    assert.deepEqual(parseMountOptions(options), { flags, propagation, data }, options.join(','));
  }
});

test('a bind-type mount is a MS_BIND mount without a filesystem type', () => {
  assert.deepEqual(
    mountToHelper(
      { destination: '/etc/hosts', type: 'bind', source: '/x/hosts', options: ['rbind', 'ro'] },
      1,
    ),
    {
      source: '/x/hosts',
      destination: '/etc/hosts',
      fstype: '',
      flags: F.BIND | F.REC | F.RDONLY,
      propagation: 0,
      data: '',
    },
  );
});

test('the cgroup mount is left out on cgroup v1 and is cgroup2 on v2', () => {
  const m = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] };
  assert.equal(mountToHelper(m, 1), undefined);
  assert.deepEqual(mountToHelper(m, 2), {
    source: 'cgroup2',
    destination: '/sys/fs/cgroup',
    fstype: 'cgroup2',
    flags: F.RDONLY | F.NOSUID,
    propagation: 0,
    data: '',
  });
});

test('capability names become bit masks; a missing CAP_ prefix is accepted; unknown names are invalid', () => {
  assert.equal(capabilityMask(['CAP_CHOWN', 'CAP_KILL']), 1n | (1n << 5n));
  assert.equal(capabilityMask(['net_admin']), 1n << 12n);
  assert.equal(capabilityMask(['CAP_CHECKPOINT_RESTORE']), 1n << 40n);
  assert.equal(capabilityMask(undefined), 0n);
  assert.throws(() => capabilityMask(['CAP_FLY']), { kind: 'InvalidParameter' });
});

test('namespaces map to the shim names, joined ones keep their path', () => {
  const plan = planFromSpec(
    {
      ...base,
      linux: {
        namespaces: [
          { type: 'pid' },
          { type: 'network', path: '/proc/7/ns/net' },
          { type: 'mount' },
          { type: 'ipc' },
          { type: 'uts' },
          { type: 'cgroup' },
          { type: 'time' },
        ],
      },
    },
    opts,
  );
  assert.deepEqual(plan.namespaces, [
    { type: 'pid', path: undefined },
    { type: 'net', path: '/proc/7/ns/net' },
    { type: 'mnt', path: undefined },
    { type: 'ipc', path: undefined },
    { type: 'uts', path: undefined },
    { type: 'cgroup', path: undefined },
    { type: 'time', path: undefined },
  ]);
});

test('the hostname is set only with a private UTS namespace', () => {
  assert.equal(planFromSpec(base, opts).hostname, 'h');
  assert.equal(
    planFromSpec({ ...base, linux: { namespaces: [{ type: 'mount' }] } }, opts).hostname,
    undefined,
  );
});

test('a spec without its own mount namespace or without args is invalid', () => {
  assert.throws(() => planFromSpec({ ...base, linux: { namespaces: [] } }, opts), {
    kind: 'InvalidParameter',
  });
  assert.throws(() => planFromSpec({ ...base, process: { ...base.process!, args: [] } }, opts), {
    kind: 'InvalidParameter',
  });
});

test('a relative root path is relative to the bundle', () => {
  assert.deepEqual(planFromSpec(base, opts).rootfs, { path: '/b/rootfs', readonly: false });
  assert.deepEqual(planFromSpec({ ...base, root: { path: '/abs', readonly: true } }, opts).rootfs, {
    path: '/abs',
    readonly: true,
  });
});

test('rlimits get their numbers and huge values mean unlimited', () => {
  const plan = planFromSpec(
    {
      ...base,
      process: {
        ...base.process!,
        rlimits: [
          { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
          { type: 'RLIMIT_CORE', soft: JSON.parse('18446744073709551615'), hard: -1 },
        ],
      },
    },
    opts,
  );
  const max = (1n << 64n) - 1n;
  assert.deepEqual(plan.rlimits, [
    { resource: 7, soft: 1024n, hard: 4096n },
    { resource: 4, soft: max, hard: max },
  ]);
  assert.throws(
    () =>
      planFromSpec(
        { ...base, process: { ...base.process!, rlimits: [{ type: 'RLIMIT_WINGS', soft: 1, hard: 1 }] } },
        opts,
      ),
    { kind: 'InvalidParameter' },
  );
});

test('default devices and /dev links are made only over a /dev tmpfs, spec devices win', () => {
  assert.deepEqual(planFromSpec(base, opts).devices, []);
  const plan = planFromSpec(
    {
      ...base,
      mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] }],
      linux: {
        ...base.linux,
        devices: [
          { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
        ],
      },
    },
    opts,
  );
  assert.deepEqual(
    plan.devices.map((d) => `${d.path} ${d.major}:${d.minor} ${d.mode.toString(8)}`),
    [
      '/dev/random 1:8 666',
      '/dev/full 1:7 666',
      '/dev/tty 5:0 666',
      '/dev/zero 1:5 666',
      '/dev/urandom 1:9 666',
      '/dev/null 1:3 600',
      '/dev/fuse 10:229 666',
    ],
  );
  assert.ok(plan.symlinks.some((l) => l.path === '/dev/ptmx' && l.target === 'pts/ptmx'));
});

test('user, sysctls, masked and read-only paths, capabilities and stdio options pass through', () => {
  const plan = planFromSpec(
    {
      ...base,
      process: {
        ...base.process!,
        user: { uid: 1000, gid: 100, umask: 0o27, additionalGids: [5] },
        env: ['A=1'],
        cwd: '/w',
        noNewPrivileges: true,
        terminal: true,
        oomScoreAdj: 10,
        capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      },
      linux: {
        namespaces: [...(base.linux?.namespaces ?? []), { type: 'network' }],
        sysctl: { 'net.ipv4.ip_unprivileged_port_start': '0' },
        maskedPaths: ['/proc/kcore'],
        readonlyPaths: ['/proc/sys'],
      },
    },
    { ...opts, logPath: '/l.json', openStdin: true, stdinOnce: true },
  );
  assert.deepEqual(plan.user, { uid: 1000, gid: 100, umask: 0o27, additionalGids: [5] });
  assert.deepEqual(plan.sysctls, [{ path: 'net/ipv4/ip_unprivileged_port_start', value: '0' }]);
  assert.deepEqual([plan.maskedPaths, plan.readonlyPaths], [['/proc/kcore'], ['/proc/sys']]);
  assert.deepEqual(plan.capabilities, {
    bounding: 32n,
    effective: 32n,
    inheritable: 0n,
    permitted: 32n,
    ambient: 0n,
  });
  assert.deepEqual(
    [
      plan.env,
      plan.cwd,
      plan.noNewPrivileges,
      plan.terminal,
      plan.oomScoreAdj,
      plan.logPath,
      plan.openStdin,
      plan.stdinOnce,
    ],
    [['A=1'], '/w', true, true, 10, '/l.json', true, true],
  );
  assert.deepEqual(plan.cgroupProcs, ['/cg/cgroup.procs']);
});

test('an exec plan joins the init namespaces the spec lists and has no rootfs or mounts', () => {
  const plan = planForExec(
    {
      ...base,
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/proc/3/ns/net' }],
      },
    },
    { user: { uid: 0, gid: 0 }, args: ['ls'], cwd: '/', terminal: true },
    { initPid: 42, cgroupProcs: ['/cg/cgroup.procs'] },
  );
  assert.deepEqual(plan.namespaces, [
    { type: 'pid', path: '/proc/42/ns/pid' },
    { type: 'mnt', path: '/proc/42/ns/mnt' },
    { type: 'net', path: '/proc/42/ns/net' },
  ]);
  assert.equal(plan.rootfs, undefined);
  assert.deepEqual([plan.mounts, plan.devices, plan.terminal], [[], [], true]);
});

test('cgroup v1: a tmpfs with one bind per hierarchy in mountinfo order, links for co-mounted controllers', () => {
  const m = {
    destination: '/sys/fs/cgroup',
    type: 'cgroup',
    source: 'cgroup',
    options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
  };
  const procs = ['memory', 'cpu,cpuacct', 'unified', 'systemd'].map((h) => `/cg/${h}/berth/x/cgroup.procs`);
  const tree = cgroupV1Tree(m, procs, {
    root: '/cg',
    cgroupns: false,
    order: ['/cg/cpu,cpuacct', '/cg/memory'],
  });
  assert.deepEqual(
    tree.mounts.map((x) => [x.destination, x.source, x.fstype]),
    [
      ['/sys/fs/cgroup', 'tmpfs', 'tmpfs'],
      ['/sys/fs/cgroup/cpu,cpuacct', '/cg/cpu,cpuacct/berth/x', ''],
      ['/sys/fs/cgroup/memory', '/cg/memory/berth/x', ''],
      ['/sys/fs/cgroup/systemd', '/cg/systemd/berth/x', ''],
    ],
  );
  assert.equal(tree.mounts[0]?.data, 'mode=755');
  assert.ok((tree.mounts[1]?.flags ?? 0) & F.RDONLY);
  assert.ok((tree.mounts[1]?.flags ?? 0) & F.BIND);
  assert.deepEqual(tree.links, [
    { target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpu' },
    { target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpuacct' },
  ]);
});

test('cgroup v1 with a cgroup namespace: fresh cgroup mounts of each hierarchy', () => {
  const m = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] };
  const tree = cgroupV1Tree(m, ['/cg/pids/a/cgroup.procs', '/cg/systemd/a/cgroup.procs'], {
    root: '/cg',
    cgroupns: true,
  });
  assert.deepEqual(
    tree.mounts.slice(1).map((x) => [x.source, x.fstype, x.data]),
    [
      ['cgroup', 'cgroup', 'pids'],
      ['systemd', 'cgroup', 'name=systemd'],
    ],
  );
});
