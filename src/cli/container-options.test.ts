import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { BerthCommand } from './berth-command.ts';
import {
  type ContainerFlags,
  parseContainerOptions,
  parseEnvFile,
  parseMount,
  parsePublish,
  parseRestartPolicy,
  parseUlimit,
} from './container-options.ts';
import { UsageError } from './errors.ts';
import { buildProgram } from './program.ts';

/** Parses `berth run …` with the real command definition and returns the translated body. */
async function parseRun(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  const program = buildProgram(io, env, () => {});
  const run = program.commands.find((c) => c.name() === 'run') as BerthCommand;
  let captured: { opts: Record<string, unknown>; args: string[] } | undefined;
  run.action((...a: unknown[]) => {
    const cmd = a[a.length - 1] as BerthCommand;
    captured = { opts: cmd.opts(), args: cmd.args };
  });
  await program.parseAsync(['run', ...argv], { from: 'user' });
  assert.ok(captured);
  const [image = '', ...cmd] = captured.args;
  const isSet = (k: keyof ContainerFlags) => run.getOptionValueSource(k) === 'cli';
  return {
    opts: captured.opts,
    ...parseContainerOptions(captured.opts as ContainerFlags, image, cmd, isSet, { env }),
  };
}

test('everything after the image is the command, flags included', async () => {
  const r = await parseRun([
    '-it',
    '--rm',
    '-e',
    'A=1',
    '-m',
    '64m',
    '--name',
    'x',
    'busybox',
    'sh',
    '-c',
    'echo hi',
    '--rm',
  ]);
  assert.equal(r.body.Image, 'busybox');
  assert.deepEqual(r.body.Cmd, ['sh', '-c', 'echo hi', '--rm']);
  assert.equal(r.body.Tty, true);
  assert.equal(r.body.OpenStdin, true);
  assert.equal(r.body.AttachStdin, true);
  assert.equal(r.body.AttachStdout, true);
  assert.equal(r.body.AttachStderr, true);
  assert.equal(r.body.StdinOnce, true);
  assert.deepEqual(r.body.Env, ['A=1']);
  assert.equal(r.body.HostConfig?.AutoRemove, true);
  assert.equal(r.body.HostConfig?.Memory, 64 * 1024 * 1024);
  assert.equal(r.name, 'x');
  assert.equal(r.body.Entrypoint, null);
  assert.equal(r.body.HostConfig?.NetworkMode, 'default');
  assert.deepEqual(r.body.HostConfig?.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
});

test('a run without a command sends Cmd null so the image default applies', async () => {
  const r = await parseRun(['-d', 'alpine']);
  assert.equal(r.body.Cmd, null);
  assert.equal(r.opts.detach, true);
  assert.equal(r.body.OpenStdin, false);
  assert.equal(r.body.StdinOnce, false);
  assert.equal('Init' in (r.body.HostConfig ?? {}), false);
  assert.equal('StopSignal' in r.body, false);
});

test('host, resource and security flags land where docker puts them', async () => {
  const r = await parseRun([
    '-p',
    '8080:80',
    '-p',
    '127.0.0.1::53/udp',
    '-v',
    '/data',
    '-v',
    '/host:/c:ro',
    '--tmpfs',
    '/run:rw,size=1m',
    '-l',
    'a=b',
    '-l',
    'c',
    '--restart',
    'on-failure:3',
    '--entrypoint',
    '',
    '--network',
    'none',
    '--cap-add',
    'NET_ADMIN',
    '--cap-drop',
    'ALL',
    '--ulimit',
    'nofile=1024:2048',
    '--pids-limit',
    '100',
    '--cpus',
    '1.5',
    '--cpu-shares',
    '512',
    '--init',
    '--stop-signal',
    'SIGINT',
    '--stop-timeout',
    '5',
    '--add-host',
    'h=1.2.3.4',
    '--dns',
    '8.8.8.8',
    '-w',
    '/w',
    '-u',
    '1000:1000',
    '-h',
    'myhost',
    '--privileged',
    '--read-only',
    '--security-opt',
    'no-new-privileges',
    '--security-opt',
    'label:disable',
    '--cidfile',
    '/tmp/cid',
    '--expose',
    '9000-9001',
    'alpine',
    'true',
  ]);
  const b = r.body;
  const h = b.HostConfig ?? {};
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {} });
  assert.deepEqual(h.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
  });
  assert.deepEqual(b.Volumes, { '/data': {} });
  assert.deepEqual(h.Binds, ['/host:/c:ro']);
  assert.deepEqual(h.Tmpfs, { '/run': 'rw,size=1m' });
  assert.deepEqual(b.Labels, { a: 'b', c: '' });
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(b.Entrypoint, ['']);
  assert.equal(h.NetworkMode, 'none');
  assert.deepEqual(h.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(h.CapDrop, ['ALL']);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.equal(h.PidsLimit, 100);
  assert.equal(h.NanoCpus, 1_500_000_000);
  assert.equal(h.CpuShares, 512);
  assert.equal(h.Init, true);
  assert.equal(b.StopSignal, 'SIGINT');
  assert.equal(b.StopTimeout, 5);
  assert.deepEqual(h.ExtraHosts, ['h:1.2.3.4']);
  assert.deepEqual(h.Dns, ['8.8.8.8']);
  assert.equal(b.WorkingDir, '/w');
  assert.equal(b.User, '1000:1000');
  assert.equal(b.Hostname, 'myhost');
  assert.equal(h.Privileged, true);
  assert.equal(h.ReadonlyRootfs, true);
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges', 'label=disable']);
  assert.equal(h.ContainerIDFile, '/tmp/cid');
  assert.deepEqual(b.Cmd, ['true']);
});

test('boolean flags accept pflag-style =true/=false', async () => {
  const r = await parseRun(['--sig-proxy=false', '--rm=false', '--privileged=true', '-i', 'alpine']);
  assert.equal(r.opts.sigProxy, false);
  assert.equal(r.body.HostConfig?.AutoRemove, false);
  assert.equal(r.body.HostConfig?.Privileged, true);
});

test('combined short flags with a value at the end read the next word', async () => {
  const r = await parseRun(['-dite', 'A=1', 'alpine']);
  assert.equal(r.opts.detach, true);
  assert.equal(r.body.Tty, true);
  assert.deepEqual(r.body.Env, ['A=1']);
});

test('an unimplemented flag is an unknown flag, with docker usage text', async () => {
  await assert.rejects(parseRun(['--gpus', 'all', 'alpine']), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(
      err.message,
      /^unknown flag: --gpus\n\nUsage: {2}berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nRun 'berth run --help' for more information$/,
    );
    return true;
  });
});

test('a bad memory value reports the flag and go-units reason', async () => {
  await assert.rejects(parseRun(['-m', '12x', 'alpine']), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /^invalid argument "12x" for "-m, --memory" flag: invalid suffix: 'x'/);
    return true;
  });
});

test('--rm with a restart policy conflicts', async () => {
  await assert.rejects(parseRun(['--rm', '--restart', 'always', 'alpine']), {
    message: 'conflicting options: cannot specify both --restart and --rm',
  });
});

test('a bare -e NAME takes the value from the environment, or is passed as is', async () => {
  const r = await parseRun(['-e', 'HOME', '-e', 'UNSET_X', 'alpine'], { HOME: '/root' });
  assert.deepEqual(r.body.Env, ['HOME=/root', 'UNSET_X']);
});

test('env files skip comments and blank lines and drop unset bare names', () => {
  const text = '# comment\n\nA=1\n  B=two words\nHOME\nMISSING\n';
  assert.deepEqual(parseEnvFile(text, 'f', { HOME: '/root' }), ['A=1', 'B=two words', 'HOME=/root']);
  assert.throws(() => parseEnvFile('A B=1\n', 'f', {}), { message: "variable 'A B' contains whitespaces" });
});

test('publish specs follow nat.ParsePortSpecs', () => {
  assert.deepEqual(parsePublish(['8000-8001:80-81']).bindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8000' }],
    '81/tcp': [{ HostIp: '', HostPort: '8001' }],
  });
  assert.deepEqual(parsePublish(['8000-8010:80']).bindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }],
  });
  assert.deepEqual(parsePublish(['80']).bindings, { '80/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(parsePublish(['[::1]:8080:80']).bindings, {
    '80/tcp': [{ HostIp: '::1', HostPort: '8080' }],
  });
  assert.deepEqual(parsePublish(['published=8080,target=80,protocol=udp']).bindings, {
    '80/udp': [{ HostIp: '', HostPort: '8080' }],
  });
  assert.throws(() => parsePublish(['99999']), { message: 'invalid containerPort: 99999' });
});

test('mount specs become API mounts', () => {
  assert.deepEqual(parseMount('type=bind,source=/a,target=/b,readonly'), {
    Type: 'bind',
    Source: '/a',
    Target: '/b',
    ReadOnly: true,
  });
  assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777'), {
    Type: 'tmpfs',
    Target: '/t',
    TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 },
  });
  assert.deepEqual(parseMount('src=vol,dst=/v,volume-nocopy'), {
    Type: 'volume',
    Source: 'vol',
    Target: '/v',
    VolumeOptions: { NoCopy: true },
  });
});

test('restart policies and ulimits parse like docker/cli opts', () => {
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('always:3'), /maximum retry count cannot be used/);
  assert.throws(() => parseRestartPolicy('sometimes'), /unknown policy 'sometimes'/);
  assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Soft: 10, Hard: 10 });
});
