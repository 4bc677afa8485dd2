import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ContainerCreateRequest, HostConfig } from '../../api/types/index.ts';
import { isBerthError } from '../../common/index.ts';
import type { OciMount, RuntimeSpec } from '../../oci/index.ts';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.ts';
import { type ContainerSpec, toContainerSpec } from './container-spec.ts';
import {
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_MOUNTS,
  DEFAULT_READONLY_PATHS,
  RUNC_APPENDED_DEVICE_RULES,
} from './defaults.ts';
import { type OciContext, parseDeviceCgroupRule, replaceOrAppendEnv, toOciSpec } from './to-oci.ts';

const ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const MB = 1024 * 1024;

function specFor(hostConfig: HostConfig = {}, body: ContainerCreateRequest = {}): ContainerSpec {
  return toContainerSpec(
    { Image: 'busybox', Cmd: ['sh', '-c', 'echo hi'], ...body, HostConfig: hostConfig },
    { config: { Env: ['PATH=/bin:/usr/bin'], Cmd: ['sh'] } },
    { id: ID, name: 'web', apiVersion: '1.41' },
  ).spec;
}

const ctx: OciContext = {
  rootfsPath: '/var/lib/berth/snapshots/x/merged',
  cgroupsPath: `/berth/${ID}`,
  hostnamePath: `/var/lib/berth/containers/${ID}/hostname`,
  hostsPath: `/var/lib/berth/containers/${ID}/hosts`,
  resolvConfPath: `/var/lib/berth/containers/${ID}/resolv.conf`,
  user: { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' },
  netns: { mode: 'path', path: '/run/netns/berth-1' },
};

function oci(
  hostConfig: HostConfig = {},
  body: ContainerCreateRequest = {},
  extra: Partial<OciContext> = {},
): RuntimeSpec {
  return toOciSpec(specFor(hostConfig, body), { ...ctx, ...extra });
}

const dests = (mounts: OciMount[] | undefined) => (mounts ?? []).map((m) => m.destination);

test('the default spec has the process, root and hostname Docker gives a plain container', () => {
  const s = oci();
  assert.equal(s.ociVersion, '1.0.2-dev');
  assert.deepEqual(s.root, { path: ctx.rootfsPath, readonly: false });
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.equal(s.process?.terminal, false);
  assert.deepEqual(s.process?.args, ['sh', '-c', 'echo hi']);
  assert.equal(s.process?.cwd, '/');
  assert.deepEqual(s.process?.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
  assert.deepEqual(s.process?.env, ['PATH=/bin:/usr/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root']);
  assert.equal(s.process?.oomScoreAdj, 0);
  assert.equal(s.process?.noNewPrivileges, undefined);
  assert.equal(s.process?.rlimits, undefined);
  assert.equal(s.linux?.cgroupsPath, ctx.cgroupsPath);
  assert.equal(s.linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(s.linux?.sysctl, {
    'net.ipv4.ping_group_range': '0 2147483647',
    'net.ipv4.ip_unprivileged_port_start': '0',
  });
  assert.deepEqual(s.linux?.devices, []);
});

test('env: default PATH when the image sets none, TERM with a tty, container env replaces and unsets', () => {
  const spec = toContainerSpec(
    { Image: 'scratchy', Cmd: ['/app'], Tty: true, Env: ['HOSTNAME=mine', 'FOO=1'] },
    { config: {} },
    { id: ID, name: 'x', apiVersion: '1.41' },
  ).spec;
  const s = toOciSpec(spec, { ...ctx, user: { uid: 1000, gid: 1000, additionalGids: [1000] } });
  assert.deepEqual(s.process?.env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOSTNAME=mine',
    'TERM=xterm',
    'FOO=1',
  ]);
  assert.equal(s.process?.terminal, true);
  assert.deepEqual(replaceOrAppendEnv(['A=1', 'B=2', 'C=3'], ['B', 'C=4', 'D=5']), ['A=1', 'C=4', 'D=5']);
});

test("capabilities are Docker's 14 defaults in bounding, effective and permitted; inheritable and ambient empty", () => {
  const caps = oci().process?.capabilities;
  assert.deepEqual(caps?.bounding, DEFAULT_CAPABILITIES);
  assert.deepEqual(caps?.effective, DEFAULT_CAPABILITIES);
  assert.deepEqual(caps?.permitted, DEFAULT_CAPABILITIES);
  assert.deepEqual(caps?.inheritable, []);
  assert.deepEqual(caps?.ambient, []);
});

test('the defaults match shared/reference/docker-defaults.json', {
  skip: !existsSync('/work/shared/reference/docker-defaults.json') && 'reference file not present',
}, () => {
  const ref = JSON.parse(readFileSync('/work/shared/reference/docker-defaults.json', 'utf8'));
  assert.deepEqual(DEFAULT_CAPABILITIES, ref.defaultCapabilities);
  assert.deepEqual(DEFAULT_MASKED_PATHS, ref.maskedPaths);
  assert.deepEqual(DEFAULT_READONLY_PATHS, ref.readonlyPaths);
  assert.deepEqual(DEFAULT_MOUNTS, ref.defaultMounts);
  const rule = (r: {
    allow: boolean;
    type: string;
    major: number | null;
    minor: number | null;
    access: string;
  }) => ({
    allow: r.allow,
    type: r.type,
    ...(r.major === null ? {} : { major: r.major }),
    ...(r.minor === null ? {} : { minor: r.minor }),
    access: r.access,
  });
  assert.deepEqual(DEFAULT_DEVICE_RULES, ref.deviceCgroupRules.dockerSpec.map(rule));
  assert.deepEqual(RUNC_APPENDED_DEVICE_RULES, ref.deviceCgroupRules.appendedByRunc.map(rule));
  assert.equal(ref.defaultEnv.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
});

test("masked and readonly paths are Docker's defaults, plus extra ones the engine found", () => {
  const s = oci({}, {}, { extraMaskedPaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'] });
  assert.deepEqual(s.linux?.maskedPaths, [
    ...DEFAULT_MASKED_PATHS,
    '/sys/devices/system/cpu/cpu0/thermal_throttle',
  ]);
  assert.deepEqual(s.linux?.readonlyPaths, DEFAULT_READONLY_PATHS);
});

test("mounts: Docker's defaults in order with /dev/shm sized, then the network files as rprivate binds", () => {
  const s = oci({ ShmSize: 128 * MB });
  assert.deepEqual(dests(s.mounts), [
    '/proc',
    '/dev',
    '/dev/pts',
    '/sys',
    '/sys/fs/cgroup',
    '/dev/mqueue',
    '/dev/shm',
    '/etc/resolv.conf',
    '/etc/hostname',
    '/etc/hosts',
  ]);
  const shm = s.mounts?.find((m) => m.destination === '/dev/shm');
  assert.deepEqual(shm, {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${128 * MB}`],
  });
  assert.deepEqual(
    s.mounts?.find((m) => m.destination === '/etc/hosts'),
    { destination: '/etc/hosts', type: 'bind', source: ctx.hostsPath, options: ['rbind', 'rprivate'] },
  );
  assert.deepEqual(
    oci()
      .mounts?.find((m) => m.destination === '/dev/shm')
      ?.options?.at(-1),
    'size=67108864',
  );
});

test('mounts: tmpfs and binds follow, sorted by depth, and a user mount replaces a default one', () => {
  const s = oci(
    { Tmpfs: { '/run': 'rw,noexec,nosuid,size=65536k', '/dev/shm': 'size=1g' } },
    {},
    {
      mounts: [
        { source: '/host/data/sub', destination: '/data/sub', writable: true },
        { source: '/host/data', destination: '/data', writable: false, propagation: 'rslave' },
        { source: '/host/hosts', destination: '/etc/hosts', writable: true },
      ],
    },
  );
  assert.deepEqual(dests(s.mounts), [
    '/proc',
    '/dev',
    '/dev/pts',
    '/sys',
    '/sys/fs/cgroup',
    '/dev/mqueue',
    '/run',
    '/data',
    '/etc/resolv.conf',
    '/etc/hostname',
    '/dev/shm',
    '/data/sub',
    '/etc/hosts',
  ]);
  const byDest = (d: string) => s.mounts?.find((m) => m.destination === d);
  assert.deepEqual(byDest('/run'), {
    destination: '/run',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nodev', 'rprivate', 'rw', 'noexec', 'nosuid', 'size=65536k'],
  });
  assert.deepEqual(byDest('/data')?.options, ['rbind', 'ro', 'rslave']);
  assert.deepEqual(byDest('/etc/hosts')?.source, '/host/hosts');
  assert.equal(byDest('/dev/shm')?.type, 'tmpfs');
  assert.equal(s.linux?.rootfsPropagation, 'rslave');
});

test('mounts: a user /dev drops every default under /dev; IPC none drops /dev/shm; a shm path is bound', () => {
  const s = oci({}, {}, { mounts: [{ source: '/host/dev', destination: '/dev', writable: true }] });
  assert.deepEqual(
    dests(s.mounts).filter((d) => d.startsWith('/dev')),
    ['/dev'],
  );
  assert.equal(dests(oci({ IpcMode: 'none' }).mounts).includes('/dev/shm'), false);
  const shared = oci({ IpcMode: 'shareable' }, {}, { shmPath: `/var/lib/berth/containers/${ID}/shm` });
  const shm = shared.mounts?.filter((m) => m.destination === '/dev/shm');
  assert.deepEqual(shm, [
    {
      destination: '/dev/shm',
      type: 'bind',
      source: `/var/lib/berth/containers/${ID}/shm`,
      options: ['rbind', 'rprivate'],
    },
  ]);
});

test('read-only rootfs makes the root, /sys-style defaults and network files read-only', () => {
  const s = oci({ ReadonlyRootfs: true });
  assert.equal(s.root?.readonly, true);
  const opts = (d: string) => s.mounts?.find((m) => m.destination === d)?.options ?? [];
  assert.equal(opts('/proc').includes('ro'), false);
  assert.equal(opts('/dev').includes('ro'), false);
  assert.equal(opts('/dev/shm').includes('ro'), false);
  assert.equal(opts('/sys').includes('ro'), true);
  assert.deepEqual(opts('/etc/hosts'), ['rbind', 'ro', 'rprivate']);
});

test('namespaces per mode: new, host removes, container paths join, cgroup when private', () => {
  const types = (s: RuntimeSpec) => s.linux?.namespaces;
  assert.deepEqual(types(oci()), [
    { type: 'mount' },
    { type: 'network', path: '/run/netns/berth-1' },
    { type: 'uts' },
    { type: 'pid' },
    { type: 'ipc' },
  ]);
  const host = oci(
    { NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host' },
    {},
    { netns: { mode: 'host' } },
  );
  assert.deepEqual(types(host), [{ type: 'mount' }]);
  assert.equal(host.hostname, undefined);
  assert.deepEqual(host.linux?.sysctl, {});
  const joined = oci(
    { NetworkMode: 'container:db', PidMode: 'container:db', IpcMode: 'container:db' },
    {},
    {
      netns: { mode: 'path', pid: 42 },
      pidns: { mode: 'path', pid: 42 },
      ipcns: { mode: 'path', path: '/proc/42/ns/ipc' },
    },
  );
  assert.deepEqual(types(joined), [
    { type: 'mount' },
    { type: 'network', path: '/proc/42/ns/net' },
    { type: 'uts' },
    { type: 'pid', path: '/proc/42/ns/pid' },
    { type: 'ipc', path: '/proc/42/ns/ipc' },
  ]);
  assert.deepEqual(joined.linux?.sysctl, {});
  assert.deepEqual(
    types(oci({ CgroupnsMode: 'private' }, {}, { netns: { mode: 'new' }, timeNamespace: true })),
    [
      { type: 'mount' },
      { type: 'network' },
      { type: 'time' },
      { type: 'uts' },
      { type: 'pid' },
      { type: 'ipc' },
      { type: 'cgroup' },
    ],
  );
  assert.throws(
    () => oci({ PidMode: 'container:db' }),
    (err) => isBerthError(err, 'InvalidParameter'),
  );
});

test('resources: -m 64m, --cpus 1.5, --pids-limit, shares, cpuset and blkio map to the OCI fields', () => {
  const r = oci(
    {
      Memory: 64 * MB,
      MemoryReservation: 32 * MB,
      NanoCpus: 1.5e9,
      PidsLimit: 100,
      CpuShares: 512,
      CpusetCpus: '0-1',
      BlkioWeight: 300,
      BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1024 }],
    },
    {},
    { blockDevices: { '/dev/sda': { major: 8, minor: 0 } } },
  ).linux?.resources;
  assert.deepEqual(r?.memory, {
    limit: 67108864,
    reservation: 32 * MB,
    swap: 134217728,
    disableOOMKiller: false,
  });
  assert.deepEqual(r?.cpu, { shares: 512, cpus: '0-1', period: 100000, quota: 150000 });
  assert.deepEqual(r?.pids, { limit: 100 });
  assert.deepEqual(r?.blockIO, { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }] });
  const none = oci().linux?.resources;
  assert.deepEqual(none?.memory, { disableOOMKiller: false });
  assert.equal(none?.cpu, undefined);
  assert.equal(none?.pids, undefined);
  assert.equal(none?.blockIO, undefined);
  assert.deepEqual(
    oci({ CpuPeriod: 50000, CpuQuota: 25000, MemorySwap: -1, Memory: 8 * MB }).linux?.resources?.cpu,
    {
      period: 50000,
      quota: 25000,
    },
  );
  assert.deepEqual(oci({ MemorySwap: -1, Memory: 8 * MB }).linux?.resources?.memory, {
    limit: 8 * MB,
    disableOOMKiller: false,
  });
  assert.throws(() => oci({ BlkioDeviceReadBps: [{ Path: '/dev/nope', Rate: 1 }] }), /stat \/dev\/nope/);
});

test("device cgroup rules: Docker's defaults, --device and --device-cgroup-rule, then runc's", () => {
  const s = oci(
    { DeviceCgroupRules: ['c 42:* rmw', 'b *:* r'] },
    {},
    {
      devices: [
        {
          path: '/dev/fuse',
          type: 'c',
          major: 10,
          minor: 229,
          fileMode: 0o666,
          uid: 0,
          gid: 0,
          permissions: 'rwm',
        },
      ],
    },
  );
  const rules = s.linux?.resources?.devices ?? [];
  assert.deepEqual(rules.slice(0, 8), [
    { allow: false, type: 'a', access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  ]);
  assert.deepEqual(rules.slice(8, 11), [
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    { allow: true, type: 'c', major: 42, access: 'rmw' },
    { allow: true, type: 'b', access: 'r' },
  ]);
  assert.deepEqual(rules.slice(11, 13), [
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
  ]);
  assert.equal(rules.length, 11 + RUNC_APPENDED_DEVICE_RULES.length);
  assert.deepEqual(s.linux?.devices, [
    { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
  ]);
  assert.throws(
    () => parseDeviceCgroupRule('x 1:2 rwm'),
    (err) =>
      isBerthError(err, 'InvalidParameter') &&
      err.message === "invalid device cgroup rule format: 'x 1:2 rwm'",
  );
});

test('privileged: every capability, all devices allowed, /sys and cgroups writable, no masked paths', () => {
  const hostDevices = [
    { type: 'c', path: '/dev/kmsg', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 },
  ];
  const s = oci({ Privileged: true }, {}, { hostDevices });
  assert.deepEqual(s.process?.capabilities?.bounding, ALL_CAPABILITIES);
  assert.deepEqual(s.process?.capabilities?.effective, ALL_CAPABILITIES);
  assert.deepEqual(s.linux?.resources?.devices, [{ allow: true, access: 'rwm' }]);
  assert.deepEqual(s.linux?.devices, hostDevices);
  assert.equal(s.linux?.maskedPaths, undefined);
  assert.equal(s.linux?.readonlyPaths, undefined);
  assert.deepEqual(s.mounts?.find((m) => m.destination === '/sys')?.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(s.mounts?.find((m) => m.destination === '/sys/fs/cgroup')?.options, [
    'nosuid',
    'noexec',
    'nodev',
  ]);
});

test('--cap-add / --cap-drop including ALL', () => {
  const bounding = (h: HostConfig) => oci(h).process?.capabilities?.bounding;
  assert.deepEqual(bounding({ CapAdd: ['NET_ADMIN'], CapDrop: ['chown', 'CAP_KILL'] }), [
    ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL'),
    'CAP_NET_ADMIN',
  ]);
  assert.deepEqual(bounding({ CapDrop: ['ALL'], CapAdd: ['net_bind_service'] }), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(bounding({ CapDrop: ['ALL'] }), []);
  assert.deepEqual(
    bounding({ CapAdd: ['ALL'], CapDrop: ['SYS_ADMIN'] }),
    ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'),
  );
  assert.deepEqual(bounding({ CapAdd: ['CHOWN'] }), DEFAULT_CAPABILITIES);
});

test('security options, ulimits, OOM score, sysctls, annotations, init and working dir', () => {
  const s = oci(
    {
      SecurityOpt: ['no-new-privileges'],
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 4096 }],
      OomScoreAdj: 500,
      Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024', 'net.core.somaxconn': '1024' },
      Init: true,
      Annotations: { 'org.example': 'x' },
    },
    { WorkingDir: '/app', Domainname: 'example.com' },
    { initPath: '/usr/libexec/berth/init', defaultUlimits: [{ name: 'nproc', soft: 10, hard: 20 }] },
  );
  assert.equal(s.process?.noNewPrivileges, true);
  assert.deepEqual(s.process?.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
    { type: 'RLIMIT_NPROC', soft: 10, hard: 20 },
  ]);
  assert.equal(s.process?.oomScoreAdj, 500);
  assert.deepEqual(s.linux?.sysctl, {
    'net.ipv4.ping_group_range': '0 2147483647',
    'net.ipv4.ip_unprivileged_port_start': '1024',
    'net.core.somaxconn': '1024',
  });
  assert.deepEqual(s.annotations, undefined, 'annotations need API 1.43');
  assert.deepEqual(s.process?.args, ['/sbin/docker-init', '--', 'sh', '-c', 'echo hi']);
  assert.deepEqual(s.mounts?.at(-1), {
    destination: '/sbin/docker-init',
    type: 'bind',
    source: '/usr/libexec/berth/init',
    options: ['bind', 'ro'],
  });
  assert.equal(s.process?.cwd, '/app');
  assert.equal(s.domainname, 'example.com');
});

test('the OCI spec is plain JSON', () => {
  const s = oci({ Memory: 64 * MB });
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

test('a remapped container gets a new user namespace with the maps; no ping_group_range; cgroups writable', () => {
  const uidMap = [
    { containerID: 0, hostID: 100000, size: 65536 },
    { containerID: 65536, hostID: 300000, size: 10 },
  ];
  const gidMap = [{ containerID: 0, hostID: 200000, size: 65536 }];
  const s = oci({}, {}, { netns: { mode: 'new' }, userns: { uidMap, gidMap }, daemonUsernsRemap: true });
  assert.deepEqual(
    s.linux?.namespaces?.find((n) => n.type === 'user'),
    { type: 'user' },
  );
  assert.deepEqual(s.linux?.uidMappings, uidMap);
  assert.deepEqual(s.linux?.gidMappings, gidMap);
  assert.equal(s.linux?.sysctl?.['net.ipv4.ping_group_range'], undefined);
  assert.equal(s.linux?.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '0');
  const cgroup = s.mounts?.find((m) => m.type === 'cgroup');
  assert.ok(cgroup && !cgroup.options?.includes('ro'), 'cgroup mount writable');
});

test("a container joining another's user namespace names it by path, its maps listed as dockerd lists them", () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const s = oci(
    {},
    {},
    { userns: { uidMap: map, gidMap: map, path: '/proc/42/ns/user' }, daemonUsernsRemap: true },
  );
  assert.deepEqual(
    s.linux?.namespaces?.find((n) => n.type === 'user'),
    { type: 'user', path: '/proc/42/ns/user' },
  );
  assert.deepEqual(s.linux?.uidMappings, map);
});

test('--userns=host under a remapping daemon: no user namespace, still writable cgroups; without remapping neither', () => {
  const host = oci({ UsernsMode: 'host' }, {}, { daemonUsernsRemap: true });
  assert.equal(
    host.linux?.namespaces?.some((n) => n.type === 'user'),
    false,
  );
  assert.ok(!host.mounts?.find((m) => m.type === 'cgroup')?.options?.includes('ro'));
  const plain = oci();
  assert.equal(
    plain.linux?.namespaces?.some((n) => n.type === 'user'),
    false,
  );
  assert.ok(plain.mounts?.find((m) => m.type === 'cgroup')?.options?.includes('ro'));
  assert.equal(
    oci({}, {}, { netns: { mode: 'new' } }).linux?.sysctl?.['net.ipv4.ping_group_range'],
    '0 2147483647',
  );
});
