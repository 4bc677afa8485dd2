import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerCreateRequest } from '../../api/types/index.ts';
import { isBerthError } from '../../common/index.ts';
import type { ContainerConfig as ImageRunConfig } from '../../oci/index.ts';
import { toContainerSpec } from './container-spec.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './defaults.ts';
import { mergeImageConfig } from './image-merge.ts';

const ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const options = { id: ID, name: 'web', apiVersion: '1.41' };

const busybox: ImageRunConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
};
const nginx: ImageRunConfig = {
  Env: ['PATH=/usr/local/bin:/usr/bin', 'NGINX_VERSION=1.25', 'PKG=x'],
  Entrypoint: ['/docker-entrypoint.sh'],
  Cmd: ['nginx', '-g', 'daemon off;'],
  WorkingDir: '/srv',
  User: 'www-data',
  Labels: { maintainer: 'nginx', shared: 'image' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/var/cache': {} },
  StopSignal: 'SIGQUIT',
  Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 },
};

test('Cmd and Entrypoint merge with the image like Docker (table)', () => {
  const table: [string, ContainerCreateRequest, ImageRunConfig, string[] | null, string[] | null][] = [
    ['image defaults', {}, nginx, ['/docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;']],
    ['Cmd replaces the image Cmd only', { Cmd: ['ls'] }, nginx, ['/docker-entrypoint.sh'], ['ls']],
    ['Entrypoint without Cmd drops the image Cmd', { Entrypoint: ['/bin/sh'] }, nginx, ['/bin/sh'], null],
    [
      'Entrypoint and Cmd both given',
      { Entrypoint: ['/bin/sh'], Cmd: ['-c', 'x'] },
      nginx,
      ['/bin/sh'],
      ['-c', 'x'],
    ],
    [
      'Entrypoint [""] clears the entrypoint and keeps Cmd',
      { Entrypoint: [''], Cmd: ['ls'] },
      nginx,
      null,
      ['ls'],
    ],
    [
      'Entrypoint "" (string form) is the same as [""]',
      { Entrypoint: '', Cmd: 'ls -l' },
      nginx,
      null,
      ['ls -l'],
    ],
    [
      'empty Entrypoint [] keeps the image Cmd but not its Entrypoint',
      { Entrypoint: [] },
      nginx,
      [],
      ['nginx', '-g', 'daemon off;'],
    ],
    [
      'null fields mean unset',
      { Entrypoint: null, Cmd: null },
      nginx,
      ['/docker-entrypoint.sh'],
      ['nginx', '-g', 'daemon off;'],
    ],
    ['image without entrypoint', { Cmd: ['echo', 'hi'] }, busybox, null, ['echo', 'hi']],
  ];
  for (const [name, body, image, entrypoint, cmd] of table) {
    const m = mergeImageConfig(body, image);
    assert.deepEqual(m.entrypoint, entrypoint, `${name}: entrypoint`);
    assert.deepEqual(m.cmd, cmd, `${name}: cmd`);
  }
});

test('no command at all is InvalidParameter "No command specified"', () => {
  const cases: [ContainerCreateRequest, ImageRunConfig][] = [
    [{}, {}],
    [{ Entrypoint: [''] }, nginx],
    [{ Cmd: [] }, { Env: [] }],
  ];
  for (const [body, image] of cases) {
    assert.throws(
      () => toContainerSpec({ Image: 'x', ...body }, { config: image }, options),
      (err) => isBerthError(err, 'InvalidParameter') && err.message === 'No command specified',
    );
  }
});

test("Env merges by key: the container wins, the image's other variables (PATH) are kept", () => {
  const m = mergeImageConfig({ Env: ['PKG=y', 'FOO=bar', 'EMPTY='] }, nginx);
  assert.deepEqual(m.env, [
    'PKG=y',
    'FOO=bar',
    'EMPTY=',
    'PATH=/usr/local/bin:/usr/bin',
    'NGINX_VERSION=1.25',
  ]);
  assert.deepEqual(mergeImageConfig({}, nginx).env, nginx.Env);
  assert.equal(mergeImageConfig({ Cmd: ['x'] }, {}).env, null);
});

test('labels, ports, volumes, user, working dir, stop signal and healthcheck merge with the image', () => {
  const m = mergeImageConfig(
    {
      Labels: { shared: 'container', own: '1' },
      ExposedPorts: { '443/tcp': {} },
      Volumes: { '/data': {} },
      Healthcheck: { Timeout: 2e9 },
    },
    nginx,
  );
  assert.deepEqual(m.labels, { shared: 'container', own: '1', maintainer: 'nginx' });
  assert.deepEqual(Object.keys(m.exposedPorts ?? {}), ['443/tcp', '80/tcp']);
  assert.deepEqual(Object.keys(m.volumes ?? {}), ['/data', '/var/cache']);
  assert.equal(m.user, 'www-data');
  assert.equal(m.workingDir, '/srv');
  assert.equal(m.stopSignal, 'SIGQUIT');
  assert.deepEqual(m.healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 3 });
  const own = mergeImageConfig({ User: '1000', WorkingDir: '/app', StopSignal: 'SIGINT' }, nginx);
  assert.deepEqual([own.user, own.workingDir, own.stopSignal], ['1000', '/app', 'SIGINT']);
});

test("a docker run busybox body gets Docker 20.10's inspect defaults and spec defaults", () => {
  const { spec, config, hostConfig } = toContainerSpec(
    { Image: 'busybox', Cmd: ['echo', 'hi'], HostConfig: {} },
    { config: busybox },
    options,
  );
  assert.equal(spec.name, '/web');
  assert.equal(spec.hostname, ID.slice(0, 12));
  assert.equal(config.Hostname, ID.slice(0, 12));
  assert.equal(spec.path, 'echo');
  assert.deepEqual(spec.args, ['hi']);
  assert.equal(spec.stopSignal, 'SIGTERM');
  assert.equal(config.StopSignal, undefined);
  assert.deepEqual(config.Env, busybox.Env);
  assert.equal(config.Image, 'busybox');
  assert.deepEqual(config.Labels, {});
  assert.equal(config.Volumes, null);
  assert.equal(config.Entrypoint, null);
  assert.equal(hostConfig.NetworkMode, 'default');
  assert.equal(spec.network.mode, 'bridge');
  assert.deepEqual(hostConfig.LogConfig, { Type: 'json-file', Config: {} });
  assert.deepEqual(hostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(hostConfig.ShmSize, 67108864);
  assert.equal(hostConfig.IpcMode, 'private');
  assert.equal(hostConfig.CgroupnsMode, 'host');
  assert.equal(hostConfig.OomKillDisable, false);
  assert.equal(hostConfig.Runtime, 'berth');
  assert.deepEqual(hostConfig.PortBindings, {});
  assert.deepEqual(hostConfig.ConsoleSize, [0, 0]);
  assert.deepEqual(hostConfig.MaskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(hostConfig.ReadonlyPaths, DEFAULT_READONLY_PATHS);
  assert.equal(hostConfig.Binds, null);
  assert.equal(hostConfig.PidsLimit, null);
  assert.deepEqual(spec.restartPolicy, { name: 'no', maximumRetryCount: 0 });
  assert.deepEqual(spec.logConfig, { type: 'json-file', config: {} });
  assert.equal(spec.namespaces.cgroupns, 'host');
  assert.equal(spec.storage.shmSize, 67108864);
  assert.deepEqual(spec.security.maskedPaths, DEFAULT_MASKED_PATHS);
  // The stored record is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
});

test('API 1.44+ shows NetworkMode "bridge" and moves a "default" endpoint to "bridge"', () => {
  const { hostConfig, spec } = toContainerSpec(
    {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'default' },
      NetworkingConfig: { EndpointsConfig: { default: { Aliases: ['a'] } } },
    },
    { config: busybox },
    { ...options, apiVersion: '1.44' },
  );
  assert.equal(hostConfig.NetworkMode, 'bridge');
  assert.deepEqual(Object.keys(spec.network.endpoints), ['bridge']);
  assert.deepEqual(spec.network.endpoints.bridge?.aliases, ['a']);
});

test('daemon defaults: swap is twice the memory, cgroup v2 gives a private cgroupns, host network uses the host name', () => {
  const { hostConfig, spec, config } = toContainerSpec(
    {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { Memory: 64 * 1024 * 1024, NetworkMode: 'host', PidsLimit: -1, MemorySwappiness: -1 },
    },
    { config: busybox },
    { ...options, host: { cgroupV2: true, hostname: 'myhost' } },
  );
  assert.equal(hostConfig.MemorySwap, 128 * 1024 * 1024);
  assert.equal(spec.resources.memorySwap, 128 * 1024 * 1024);
  assert.equal(hostConfig.CgroupnsMode, 'private');
  assert.equal(config.Hostname, 'myhost');
  assert.equal(spec.network.mode, 'host');
  assert.equal(hostConfig.PidsLimit, null);
  assert.equal(spec.resources.pidsLimit, undefined);
  assert.equal(hostConfig.MemorySwappiness, null);
  assert.equal(spec.resources.memorySwappiness, undefined);
});

test('privileged containers store no masked or readonly paths; caps and security opts are normalised', () => {
  const { hostConfig, spec } = toContainerSpec(
    {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: {
        Privileged: true,
        CapAdd: ['net_admin'],
        CapDrop: ['all'],
        SecurityOpt: ['no-new-privileges:true', 'seccomp=unconfined'],
      },
    },
    { config: busybox },
    options,
  );
  assert.equal(hostConfig.MaskedPaths, null);
  assert.deepEqual(spec.security.maskedPaths, []);
  assert.deepEqual(spec.security.capAdd, ['CAP_NET_ADMIN']);
  assert.deepEqual(spec.security.capDrop, ['ALL']);
  assert.equal(spec.security.noNewPrivileges, true);
  assert.equal(spec.security.seccompProfile, 'unconfined');
});

test('an explicit empty MaskedPaths list is kept (systempaths=unconfined)', () => {
  const { hostConfig, spec } = toContainerSpec(
    { Image: 'busybox', Cmd: ['true'], HostConfig: { MaskedPaths: [], ReadonlyPaths: [] } },
    { config: busybox },
    options,
  );
  assert.deepEqual(hostConfig.MaskedPaths, []);
  assert.deepEqual(spec.security.maskedPaths, []);
  assert.deepEqual(spec.security.readonlyPaths, []);
});

test('ports, mounts, devices and ulimits become the camelCase model', () => {
  const { spec } = toContainerSpec(
    {
      Image: 'busybox',
      Cmd: ['true'],
      ExposedPorts: { '53/udp': {} },
      HostConfig: {
        PortBindings: { '80': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
        Binds: ['/src:/dst:ro'],
        Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 } }],
        Tmpfs: { '/run': 'size=1m' },
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '', CgroupPermissions: '' }],
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      },
    },
    { config: nginx },
    options,
  );
  assert.deepEqual(spec.exposedPorts, ['53/udp', '80/tcp']);
  assert.deepEqual(spec.network.portBindings, { '80/tcp': [{ hostIp: '127.0.0.1', hostPort: '8080' }] });
  assert.deepEqual(spec.storage.binds, ['/src:/dst:ro']);
  assert.deepEqual(spec.storage.mounts, [
    { type: 'tmpfs', source: '', target: '/t', readOnly: false, tmpfsOptions: { sizeBytes: 1024 } },
  ]);
  assert.deepEqual(spec.storage.tmpfs, { '/run': 'size=1m' });
  assert.deepEqual(spec.resources.devices, [
    { pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', cgroupPermissions: 'rwm' },
  ]);
  assert.deepEqual(spec.resources.ulimits, [{ name: 'nofile', soft: 1024, hard: 2048 }]);
  assert.deepEqual(spec.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
  assert.equal(spec.user, 'www-data');
  assert.deepEqual(spec.volumes, ['/var/cache']);
  assert.equal(spec.healthcheck?.intervalNs, 5e9);
});
