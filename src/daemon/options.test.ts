import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDaemonConfig, configFileArg, flagConflicts } from './config-file.ts';
import { type DaemonOptions, parseDaemonArgs } from './options.ts';

const parse = (argv: string[], file = {}) => parseDaemonArgs(argv, file) as DaemonOptions;

test('daemon.json values apply when no flag sets them', () => {
  const o = parse(
    [],
    checkDaemonConfig({
      'data-root': '/d',
      hosts: ['unix:///x.sock'],
      'log-driver': 'local',
      'log-opts': { 'max-size': '1m' },
      'shutdown-timeout': 3,
      'live-restore': false,
    }),
  );
  assert.equal(o.dataRoot, '/d');
  assert.deepEqual(o.hosts, [{ unix: '/x.sock' }]);
  assert.equal(o.logDriver, 'local');
  assert.deepEqual(o.logOpts, { 'max-size': '1m' });
  assert.equal(o.shutdownTimeout, 3);
  assert.equal(o.liveRestore, false);
});

test('defaults: json-file, 15 s shutdown timeout, live restore, no TLS', () => {
  const o = parse([]);
  assert.equal(o.logDriver, 'json-file');
  assert.equal(o.shutdownTimeout, 15);
  assert.equal(o.liveRestore, true);
  assert.equal(o.tls, undefined);
  assert.equal(o.tlsDisabled, false);
});

test('a setting both in the file and as a flag is refused, as dockerd does', () => {
  assert.throws(
    () => parse(['-H', 'unix:///a'], { hosts: ['unix:///b'] }),
    /specified both as a flag and in the configuration file: hosts/,
  );
  assert.throws(() => flagConflicts(new Set(['log-opt']), { 'log-opts': {} }), /log-opts/);
});

test('unknown keys, wrong types and Docker keys berth lacks are refused by name', () => {
  assert.throws(() => checkDaemonConfig({ bogus: 1 }), /don't match any configuration option: bogus/);
  assert.throws(() => checkDaemonConfig({ debug: 'yes' }), /debug must be a boolean/);
  assert.throws(() => checkDaemonConfig({ 'cgroup-driver': 'systemd' }), /don't match any configuration option/);
  assert.throws(
    () => checkDaemonConfig({ 'userland-proxy': false }),
    /userland-proxy: not supported by berth yet/,
  );
  assert.throws(() => checkDaemonConfig({ icc: 'no' }), /icc must be a boolean/);
  assert.deepEqual(
    checkDaemonConfig({ bip: '10.9.0.1/24', 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }] })
      .bip,
    '10.9.0.1/24',
  );
  assert.throws(() => checkDaemonConfig({ 'storage-driver': 'vfs' }), /overlay2 only/);
  assert.throws(() => checkDaemonConfig([]), /not a JSON object/);
});

test('--tlsverify implies TLS with the certificate files; --tls=false is an explicit opt-out', () => {
  const o = parse([
    '--tlsverify',
    '--tlscacert',
    '/c/ca.pem',
    '--tlscert',
    '/c/cert.pem',
    '--tlskey',
    '/c/key.pem',
  ]);
  assert.deepEqual(o.tls, { verify: true, ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' });
  assert.equal(parse(['--tls=false']).tlsDisabled, true);
  assert.throws(() => parse(['--tls=false', '--tlsverify']), /conflicts/);
  assert.equal(parse(['--live-restore=false']).liveRestore, false);
  assert.equal(configFileArg(['-D', '--config-file', '/x.json']), '/x.json');
  assert.equal(configFileArg(['--config-file=/y.json']), '/y.json');
});

test('--userns-remap and daemon.json userns-remap set the remapping; empty is off; both is a conflict', () => {
  assert.equal(parse(['--userns-remap', 'default']).usernsRemap, 'default');
  assert.equal(parse([], checkDaemonConfig({ 'userns-remap': 'alice:staff' })).usernsRemap, 'alice:staff');
  assert.equal(parse(['--userns-remap=']).usernsRemap, undefined);
  assert.equal(parse([]).usernsRemap, undefined);
  assert.throws(
    () => parse(['--userns-remap', 'a'], checkDaemonConfig({ 'userns-remap': 'b' })),
    /specified both as a flag and in the configuration file: userns-remap/,
  );
  assert.throws(() => checkDaemonConfig({ 'userns-remap': 5 }), /userns-remap must be a string/);
});

test("registry mirrors and insecure registries: from flags or daemon.json, refused with dockerd's words when malformed", () => {
  assert.deepEqual(
    parse(['--registry-mirror', 'http://10.0.0.5:5000', '--insecure-registry', '10.0.0.0/8']).registry,
    {
      insecure: ['10.0.0.0/8'],
      mirrors: ['http://10.0.0.5:5000/'],
    },
  );
  assert.deepEqual(
    parse(
      [],
      checkDaemonConfig({ 'registry-mirrors': ['https://m.example'], 'insecure-registries': ['r:5000'] }),
    ).registry,
    { insecure: ['r:5000'], mirrors: ['https://m.example/'] },
  );
  assert.throws(() => parse(['--registry-mirror', 'ftp://m.example']), {
    message: 'invalid mirror: unsupported scheme "ftp" in "ftp://m.example"',
  });
  assert.throws(() => parse(['--registry-mirror', 'http://m.example/v2/']), {
    message: 'invalid mirror: path, query, or fragment at end of the URI "http://m.example/v2/"',
  });
  assert.throws(() => parse(['--insecure-registry', 'http://r.example']), {
    message: "insecure registry http://r.example should not contain '://'",
  });
  assert.throws(() => flagConflicts(new Set(['registry-mirror']), { 'registry-mirrors': ['http://m/'] }), {
    message: /registry-mirrors/,
  });
});

test('container defaults, labels and transfer limits: from flags or daemon.json', () => {
  const o = parse([
    '--init',
    '--no-new-privileges',
    '--seccomp-profile',
    '/etc/p.json',
    '--default-ulimit',
    'nofile=1024:2048',
    '--default-ulimit',
    'core=0',
    '--dns',
    '10.0.0.2',
    '--dns-search',
    'corp.test',
    '--dns-opt',
    'ndots:2',
    '--label',
    'a=b',
    '--max-concurrent-downloads',
    '6',
  ]);
  assert.deepEqual(o.containers, {
    init: true,
    noNewPrivileges: true,
    seccompProfile: '/etc/p.json',
    ulimits: [
      { name: 'nofile', soft: 1024, hard: 2048 },
      { name: 'core', soft: 0, hard: 0 },
    ],
    dns: ['10.0.0.2'],
    dnsSearch: ['corp.test'],
    dnsOptions: ['ndots:2'],
  });
  assert.deepEqual(o.labels, ['a=b']);
  assert.equal(o.maxConcurrentDownloads, 6);
  assert.equal(o.maxConcurrentUploads, 5);
  const f = parse(
    [],
    checkDaemonConfig({
      'default-ulimits': { nofile: { Name: 'nofile', Soft: 64000, Hard: 64000 } },
      dns: ['10.0.0.3'],
      'dns-opts': ['use-vc'],
      'no-new-privileges': true,
      'max-concurrent-uploads': 2,
    }),
  );
  assert.deepEqual(f.containers.ulimits, [{ name: 'nofile', soft: 64000, hard: 64000 }]);
  assert.deepEqual(f.containers.dnsOptions, ['use-vc']);
  assert.equal(f.containers.noNewPrivileges, true);
  assert.equal(f.containers.seccompProfile, 'builtin');
  assert.equal(f.maxConcurrentUploads, 2);
  assert.throws(() => parse(['--default-ulimit', 'wings=1']), { message: 'invalid ulimit type: wings' });
  assert.throws(() => parse(['--default-ulimit', 'nofile=10:5']), {
    message: 'ulimit soft limit must be less than or equal to hard limit: 10 > 5',
  });
  assert.throws(() => parse(['--max-concurrent-downloads', '0']), {
    message: /invalid max-concurrent-downloads/,
  });
});

test('default cgroupns and IPC modes and /dev/shm size, refused when invalid', () => {
  const o = parse([
    '--default-cgroupns-mode',
    'private',
    '--default-ipc-mode',
    'shareable',
    '--default-shm-size',
    '128m',
  ]);
  assert.equal(o.containers.cgroupnsMode, 'private');
  assert.equal(o.containers.ipcMode, 'shareable');
  assert.equal(o.containers.shmSize, 128 * 1024 * 1024);
  assert.equal(parse([], checkDaemonConfig({ 'default-shm-size': '1g' })).containers.shmSize, 2 ** 30);
  assert.throws(() => parse(['--default-cgroupns-mode', 'shared']), {
    message: 'default cgroup namespace mode (shared) is invalid',
  });
  assert.throws(() => parse(['--default-ipc-mode', 'host']), { message: 'invalid default IPC mode: host' });
  assert.throws(() => parse(['--default-shm-size', 'lots']), { message: 'invalid default-shm-size: lots' });
});

test('--add-runtime and daemon.json runtimes are merged; --default-runtime names one', () => {
  const file = checkDaemonConfig({
    runtimes: { crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] } },
    'default-runtime': 'crun',
  });
  const o = parseDaemonArgs(['--add-runtime', 'youki=/usr/bin/youki'], file) as DaemonOptions;
  assert.deepEqual(o.runtimes, {
    crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] },
    youki: { path: '/usr/bin/youki' },
  });
  assert.equal(o.defaultRuntime, 'crun');
  assert.throws(() => parseDaemonArgs(['--add-runtime', 'nopath']), /invalid runtime: nopath/);
  assert.throws(() => checkDaemonConfig({ runtimes: { x: { args: [] } } }), /runtimes must map names to/);
});

test('the bridge flags and keys: icc, ip-masq, iptables, ip-forward, fixed-cidr, default-gateway', () => {
  const n = (argv: string[], file = {}) => {
    const o = parseDaemonArgs(argv, checkDaemonConfig(file));
    if (typeof o === 'string') throw new Error(o);
    return o.network;
  };
  const d = n([]);
  assert.equal(d.icc && d.ipMasq && d.iptables && d.ipForward, true);
  assert.equal(n(['--icc=false']).icc, false);
  assert.equal(n([], { icc: false }).icc, false);
  assert.equal(n(['--ip-masq=false']).ipMasq, false);
  assert.equal(n([], { 'ip-forward': false }).ipForward, false);
  const off = n(['--iptables=false']);
  assert.equal(off.iptables, false);
  assert.equal(off.ipMasq, false);
  assert.throws(() => n(['--iptables=false', '--icc=false']), /ICC=false uses iptables/);
  assert.throws(
    () => n(['--icc=false'], { icc: false }),
    /specified both as a flag and in the configuration file: icc/,
  );
  const f = n([
    '--bip',
    '10.44.0.1/24',
    '--fixed-cidr',
    '10.44.0.128/25',
    '--default-gateway',
    '10.44.0.254',
  ]);
  assert.equal(f.fixedCidr, '10.44.0.128/25');
  assert.equal(f.defaultGateway, '10.44.0.254');
  assert.equal(n([], { 'fixed-cidr': '10.45.0.0/24' }).fixedCidr, '10.45.0.0/24');
  assert.throws(
    () => n(['--bip', '10.44.0.1/24', '--fixed-cidr', '10.45.0.0/24']),
    /subset of bridge network/,
  );
  assert.equal(n(['--ip', '127.0.0.1']).bindIp, '127.0.0.1');
  assert.equal(n([], { ip: '127.0.0.2' }).bindIp, '127.0.0.2');
  assert.throws(() => n(['--ip', 'nope']), /invalid argument "nope" for "--ip" flag/);
  assert.throws(() => n(['--ipv6']), /--ipv6 needs --fixed-cidr-v6/);
  assert.equal(n(['--ipv6', '--fixed-cidr-v6', 'fd12:3::/64']).ipv6Subnet, 'fd12:3::/64');
  assert.equal(n([], { ipv6: true, 'fixed-cidr-v6': 'fd12:4::/64' }).ipv6Subnet, 'fd12:4::/64');
});
