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
  assert.throws(() => checkDaemonConfig({ dns: ['1.1.1.1'] }), /dns: not supported by berth yet/);
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
