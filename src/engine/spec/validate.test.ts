import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerCreateRequest } from '../../api/types/index.ts';
import { isBerthError } from '../../common/index.ts';
import { apiVersionLessThan, parseSecurityOpt, validateCreate } from './validate.ts';

const MB = 1024 * 1024;

function rejects(body: ContainerCreateRequest, message: string, apiVersion = '1.41', cpuCount = 2): void {
  assert.throws(
    () =>
      validateCreate({ Image: 'busybox', ...body }, apiVersion, { cpuCount, runtimes: ['runc', 'berth'] }),
    (err) => {
      assert.ok(isBerthError(err, 'InvalidParameter'), `not InvalidParameter: ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    },
  );
}

test('a plain create body is valid and has no warnings', () => {
  assert.deepEqual(validateCreate({ Image: 'busybox', Cmd: ['true'], HostConfig: {} }, '1.41'), []);
});

test("resource limits are checked with Docker's messages", () => {
  rejects({ HostConfig: { Memory: 4 * MB } }, 'Minimum memory limit allowed is 6MB');
  rejects(
    { HostConfig: { Memory: 64 * MB, MemorySwap: 32 * MB } },
    'Minimum memoryswap limit should be larger than memory limit, see usage',
  );
  rejects(
    { HostConfig: { MemorySwap: 64 * MB } },
    'You should always set the Memory limit when using Memoryswap limit, see usage',
  );
  rejects({ HostConfig: { MemoryReservation: MB } }, 'Minimum memory reservation allowed is 6MB');
  rejects(
    { HostConfig: { Memory: 64 * MB, MemoryReservation: 128 * MB } },
    'Minimum memory limit can not be less than memory reservation limit, see usage',
  );
  rejects(
    { HostConfig: { MemorySwappiness: 101 } },
    'Invalid value: 101, valid memory swappiness range is 0-100',
  );
  rejects(
    { HostConfig: { NanoCpus: 1e9, CpuPeriod: 100000 } },
    'Conflicting options: Nano CPUs and CPU Period cannot both be set',
  );
  rejects(
    { HostConfig: { NanoCpus: 1e9, CpuQuota: 50000 } },
    'Conflicting options: Nano CPUs and CPU Quota cannot both be set',
  );
  rejects(
    { HostConfig: { NanoCpus: 3e9 } },
    'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available',
  );
  rejects(
    { HostConfig: { CpuPeriod: 500 } },
    'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)',
  );
  rejects({ HostConfig: { CpuQuota: 999 } }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  rejects({ HostConfig: { CpuShares: -1 } }, 'invalid CPU shares (-1): value must be a positive integer');
  rejects({ HostConfig: { BlkioWeight: 5 } }, 'Range of blkio weight is from 10 to 1000');
  rejects(
    { HostConfig: { CpusetCpus: '0-5' } },
    'Requested CPUs are not available - requested 0-5, available: 0-1',
  );
  rejects({ HostConfig: { CpusetCpus: 'a' } }, 'Invalid value a for cpuset cpus: invalid format: a');
  rejects({ HostConfig: { ShmSize: -1 } }, 'SHM size can not be less than 0');
  rejects(
    { HostConfig: { OomScoreAdj: 1001 } },
    'Invalid value 1001, range for oom score adj is [-1000, 1000]',
  );
  rejects(
    { HostConfig: { IOMaximumBandwidth: 1 } },
    'Invalid QoS settings: linux does not support configuration of maximum bandwidth',
  );
});

test('valid resource limits pass; MemorySwap -1 and swappiness -1 mean unset', () => {
  const body: ContainerCreateRequest = {
    Image: 'busybox',
    HostConfig: {
      Memory: 64 * MB,
      MemorySwap: -1,
      MemorySwappiness: -1,
      NanoCpus: 1.5e9,
      PidsLimit: 0,
      BlkioWeight: 500,
    },
  };
  assert.deepEqual(validateCreate(body, '1.41', { cpuCount: 2 }), []);
});

test('restart policy, AutoRemove and capabilities are checked', () => {
  rejects(
    { HostConfig: { RestartPolicy: { Name: 'sometimes' as 'no' } } },
    "invalid restart policy 'sometimes'",
  );
  rejects(
    { HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } } },
    "maximum retry count cannot be used with restart policy 'always'",
  );
  rejects(
    { HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } } },
    'maximum retry count cannot be negative',
  );
  rejects(
    { HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } },
    "can't create 'AutoRemove' container with restart policy",
  );
  rejects({ HostConfig: { CapAdd: ['FOO'] } }, 'invalid CapAdd: unknown capability: "CAP_FOO"');
  rejects({ HostConfig: { CapDrop: ['cap_bar'] } }, 'invalid CapDrop: unknown capability: "CAP_BAR"');
  assert.deepEqual(
    validateCreate(
      { HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'no' }, CapAdd: ['net_admin', 'ALL'] } },
      '1.41',
    ),
    [],
  );
});

test('config fields are checked: working dir, env, stop signal, healthcheck, hostname', () => {
  rejects({ WorkingDir: 'app' }, "the working directory 'app' is invalid, it needs to be an absolute path");
  rejects({ Env: ['=x'] }, 'invalid environment variable: =x');
  rejects({ StopSignal: 'SIGFOO' }, 'Invalid signal: SIGFOO');
  rejects({ Healthcheck: { Interval: 1000 } }, 'Interval in Healthcheck cannot be less than 1ms');
  rejects({ Healthcheck: { Retries: -1 } }, 'Retries in Healthcheck cannot be negative');
  rejects({ Hostname: 'h'.repeat(65) }, `hostname "${'h'.repeat(65)}" is too long (maximum 64 bytes)`);
});

test("network mode conflicts use runconfig's messages", () => {
  rejects(
    { HostConfig: { NetworkMode: 'container:' } },
    'Invalid network mode: invalid container format container:<name|id>',
  );
  rejects(
    { HostConfig: { NetworkMode: 'container' } },
    'Invalid network mode: invalid container format container:<name|id>',
  );
  rejects(
    { Hostname: 'h', HostConfig: { NetworkMode: 'container:db' } },
    'conflicting options: hostname and the network mode',
  );
  rejects(
    { HostConfig: { NetworkMode: 'container:db', Dns: ['1.1.1.1'] } },
    'conflicting options: dns and the network mode',
  );
  rejects(
    { HostConfig: { NetworkMode: 'container:db', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } } },
    'conflicting options: port publishing and the container type network mode',
  );
  rejects(
    { ExposedPorts: { '80/tcp': {} }, HostConfig: { NetworkMode: 'container:db' } },
    'conflicting options: port exposing and the container type network mode',
  );
  rejects(
    { Hostname: 'h', HostConfig: { UTSMode: 'host' } },
    'conflicting options: hostname and the UTS mode',
  );
  rejects(
    { HostConfig: { NetworkMode: 'host', Links: ['db:db'] } },
    "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
  );
});

test('namespace modes, ports, hosts, mounts and security options are checked', () => {
  rejects({ HostConfig: { IpcMode: 'bogus' } }, 'invalid IPC mode: bogus');
  rejects({ HostConfig: { PidMode: 'container:' } }, 'invalid PID mode: container:');
  rejects({ HostConfig: { UTSMode: 'private' } }, 'invalid UTS mode: private');
  rejects({ HostConfig: { UsernsMode: 'private' } }, 'invalid USER mode: private');
  rejects({ HostConfig: { UsernsMode: 'container:x' } }, 'invalid USER mode: container:x');
  rejects({ HostConfig: { CgroupnsMode: 'bogus' } }, 'invalid cgroup namespace mode: bogus');
  rejects({ HostConfig: { PortBindings: { '99999/tcp': [] } } }, 'invalid port specification: "99999"');
  rejects(
    { HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 'abc' }] } } },
    'invalid port specification: "abc"',
  );
  rejects({ HostConfig: { ExtraHosts: ['nohost'] } }, 'bad format for add-host: "nohost"');
  rejects({ HostConfig: { ExtraHosts: ['h:300.1.1.1'] } }, 'invalid IP address in add-host: "300.1.1.1"');
  rejects(
    { HostConfig: { Tmpfs: { relative: '' } } },
    "invalid mount path: 'relative' mount path must be absolute",
  );
  rejects({ HostConfig: { Tmpfs: { '/': '' } } }, "invalid specification: destination can't be '/'");
  rejects(
    { HostConfig: { Mounts: [{ Type: 'bind', Target: '/data' }] } },
    'invalid mount config for type "bind": field Source must not be empty',
  );
  rejects(
    { HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/t', BindOptions: {} }] } },
    'BindOptions must not be specified on mount type "tmpfs"',
    '1.42',
  );
  rejects({ HostConfig: { SecurityOpt: ['bogus'] } }, 'invalid --security-opt 1: "bogus"');
  rejects({ HostConfig: { SecurityOpt: ['foo=bar'] } }, 'invalid --security-opt 2: "foo=bar"');
  rejects({ HostConfig: { Runtime: 'kata' } }, 'Unknown runtime specified kata');
  assert.deepEqual(
    validateCreate(
      {
        HostConfig: {
          ExtraHosts: ['a:1.2.3.4', 'b:::1', 'c:host-gateway', 'd:[fe80::1]'],
          PortBindings: { '80/tcp': [{ HostPort: '' }, { HostPort: '8000-8010' }], '53/udp': null },
          Tmpfs: { '/run': 'size=1m' },
          SecurityOpt: ['no-new-privileges', 'seccomp=unconfined', 'apparmor:unconfined'],
          PidMode: 'container:db',
          IpcMode: 'shareable',
        },
      },
      '1.41',
    ),
    [],
  );
});

test('warnings are returned for settings Docker accepts but ignores', () => {
  assert.deepEqual(
    validateCreate(
      { HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '80' }] } } },
      '1.41',
    ),
    ['Published ports are discarded when using host network mode'],
  );
});

test('API version rules: multiple endpoints before 1.44', () => {
  const body: ContainerCreateRequest = { NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } };
  rejects(body, 'Container cannot be created with multiple network endpoints: a, b', '1.43');
  assert.deepEqual(validateCreate(body, '1.44'), []);
  assert.equal(apiVersionLessThan('1.9', '1.41'), true);
  assert.equal(apiVersionLessThan('1.41', '1.41'), false);
});

test('security options parse like Docker', () => {
  assert.deepEqual(parseSecurityOpt('no-new-privileges'), { noNewPrivileges: true, labelOpts: [] });
  assert.deepEqual(parseSecurityOpt('no-new-privileges=false'), { noNewPrivileges: false, labelOpts: [] });
  assert.deepEqual(parseSecurityOpt('seccomp=unconfined'), {
    noNewPrivileges: false,
    labelOpts: [],
    seccompProfile: 'unconfined',
  });
  assert.throws(() => parseSecurityOpt('no-new-privileges=maybe'), /invalid --security-opt 2/);
});
