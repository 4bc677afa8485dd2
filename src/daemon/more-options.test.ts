import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDaemonConfig } from './config-file.ts';
import { cgroupDriver, checkStorageOpts, features, logFormat, metricsAddress } from './more-options.ts';
import { type DaemonOptions, parseDaemonArgs } from './options.ts';

const parse = (argv: string[], file = {}) => parseDaemonArgs(argv, checkDaemonConfig(file)) as DaemonOptions;

test('defaults: not experimental, JSON logs, cgroupfs, no storage options, no metrics', () => {
  const m = parse([]).more;
  assert.equal(m.experimental, false);
  assert.equal(m.logFormat, 'json');
  assert.equal(m.cgroupDriver, 'cgroupfs');
  assert.deepEqual(m.storageOpts, []);
  assert.deepEqual(m.features, {});
  assert.equal(m.selinuxEnabled, false);
  assert.equal(m.metricsAddr, undefined);
  assert.deepEqual(m.builderGc, { enabled: false, rules: [] });
});

test('each key works from daemon.json and as its dockerd flag', () => {
  const file = parse([], {
    experimental: true,
    'log-format': 'text',
    'exec-opts': ['native.cgroupdriver=cgroupfs'],
    features: { buildkit: false },
    'selinux-enabled': true,
    'metrics-addr': '127.0.0.1:9323',
  }).more;
  const flags = parse([
    '--experimental',
    '--log-format=text',
    '--exec-opt',
    'native.cgroupdriver=cgroupfs',
    '--feature',
    'buildkit=false',
    '--selinux-enabled',
    '--metrics-addr',
    '127.0.0.1:9323',
  ]).more;
  for (const m of [file, flags]) {
    assert.equal(m.experimental, true);
    assert.equal(m.logFormat, 'text');
    assert.equal(m.cgroupDriver, 'cgroupfs');
    assert.deepEqual(m.features, { buildkit: false });
    assert.equal(m.selinuxEnabled, true);
    assert.deepEqual(m.metricsAddr, { host: '127.0.0.1', port: 9323 });
  }
  assert.equal(parse(['--experimental=false']).more.experimental, false);
});

test('a key in the file and its flag is refused; features merge as dockerd merges them', () => {
  assert.throws(
    () => parse(['--experimental'], { experimental: true }),
    /both as a flag and in the configuration file: experimental/,
  );
  assert.throws(() => parse(['--exec-opt', 'a=b'], { 'exec-opts': [] }), /exec-opts/);
  assert.throws(() => parse(['--log-format', 'json'], { 'log-format': 'text' }), /log-format/);
  assert.deepEqual(parse(['--feature', 'x'], { features: { buildkit: false } }).more.features, {
    buildkit: false,
    x: true,
  });
});

test('cgroup-driver is not a dockerd key: refused as unknown', () => {
  assert.throws(
    () => checkDaemonConfig({ 'cgroup-driver': 'systemd' }),
    /don't match any configuration option: cgroup-driver/,
  );
  assert.throws(
    () => checkDaemonConfig({ features: { buildkit: 'no' } }),
    /features must be a map of names to booleans/,
  );
});

test('log-format: text or json, anything else with dockerd’s words', () => {
  assert.equal(logFormat('text'), 'text');
  assert.equal(logFormat(''), 'json');
  assert.throws(() => logFormat('xml'), /invalid log format: xml/);
});

test('exec-opts: dockerd’s checks; systemd refused with the reason; isolation is Windows-only', () => {
  assert.equal(cgroupDriver([' Native.CgroupDriver = cgroupfs ']), 'cgroupfs');
  assert.throws(
    () => cgroupDriver(['native.cgroupdriver']),
    /invalid exec-opt \(native.cgroupdriver\): must be formatted 'opt=value'/,
  );
  assert.throws(() => cgroupDriver(['isolation=hyperv']), /option 'isolation' is only supported on windows/);
  assert.throws(() => cgroupDriver(['foo=bar']), /unknown option: 'foo'/);
  assert.throws(
    () => cgroupDriver(['native.cgroupdriver=none']),
    /is internally used and cannot be specified manually/,
  );
  assert.throws(
    () => cgroupDriver(['native.cgroupdriver=bogus']),
    /native.cgroupdriver option bogus not supported/,
  );
  assert.throws(
    () => cgroupDriver(['native.cgroupdriver=systemd'], false),
    /systemd not running on this host/,
  );
  assert.throws(() => cgroupDriver(['native.cgroupdriver=systemd'], true), /cgroupfs only/);
});

test('storage-opts: overlay2.size needs xfs project quotas (dockerd’s error elsewhere); override_kernel_check is a no-op as in 20.10; others are unknown', () => {
  assert.deepEqual(checkStorageOpts(['overlay2.size=10G']), ['overlay2.size=10G']);
  assert.throws(
    () => checkStorageOpts(['overlay2.size=10G'], 'extfs'),
    /Storage Option overlay2.size only supported for backingFS XFS. Found extfs/,
  );
  assert.throws(() => checkStorageOpts(['overlay2.size=10G'], 'xfs'), /project quotas/);
  assert.deepEqual(checkStorageOpts(['overlay2.override_kernel_check=true'], 'extfs'), [
    'overlay2.override_kernel_check=true',
  ]);
  assert.throws(
    () => checkStorageOpts(['overlay2.mountopt=nodev']),
    /overlay2: unknown option overlay2.mountopt/,
  );
  assert.throws(
    () => checkStorageOpts(['overlay2.size']),
    /unable to parse storage-opt key\/value: overlay2.size/,
  );
  assert.throws(() => checkStorageOpts(['overlay2.size=lots']), /invalid size/);
});

test('features: buildkit=false is berth’s builder; features berth lacks are refused when on', () => {
  assert.deepEqual(features(['buildkit=false', 'cdi=0'], undefined), { buildkit: false, cdi: false });
  assert.throws(() => features(['buildkit'], undefined), /classic builder only/);
  assert.throws(() => features(undefined, { 'containerd-snapshotter': true }), /without containerd/);
  assert.throws(() => features(undefined, { cdi: true }), /CDI/);
  assert.throws(() => features(['x=maybe'], undefined), /invalid feature value/);
  assert.deepEqual(features(['somefuture'], undefined), { somefuture: true });
});

test('metrics-addr: host:port, [v6]:port, :port for every address', () => {
  assert.deepEqual(metricsAddress('127.0.0.1:9323'), { host: '127.0.0.1', port: 9323 });
  assert.deepEqual(metricsAddress('[::1]:9323'), { host: '::1', port: 9323 });
  assert.deepEqual(metricsAddress(':9323'), { host: '0.0.0.0', port: 9323 });
  assert.throws(() => metricsAddress('9323'), /invalid metrics-addr/);
  assert.throws(() => metricsAddress('h:99999'), /invalid metrics-addr/);
});
