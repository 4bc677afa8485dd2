import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHelperPlan, type HelperPlan, MountFlag } from './helper-plan.ts';

const minimal: HelperPlan = {
  namespaces: [],
  cgroupProcs: [],
  uidMappings: [],
  gidMappings: [],
  mounts: [],
  devices: [],
  symlinks: [],
  rlimits: [],
  sysctls: [],
  maskedPaths: [],
  readonlyPaths: [],
  user: { uid: 0, gid: 0, additionalGids: [] },
  cwd: '/',
  env: [],
  args: ['true'],
  noNewPrivileges: false,
  terminal: false,
  openStdin: false,
  stdinOnce: false,
};

const nul = (s: string) => s.replaceAll('|', '\0');

test('a minimal plan encodes to the magic and the always-present records', () => {
  assert.equal(
    encodeHelperPlan(minimal).toString('utf8'),
    nul('berth-plan/1|user|0|0||cwd|/|arg|true|no_new_privs|0|terminal|0|stdin|0|0|'),
  );
});

test('a full plan encodes every record in plan.h order with its fields', () => {
  const plan: HelperPlan = {
    ...minimal,
    rootfs: { path: '/r', readonly: true },
    namespaces: [{ type: 'pid' }, { type: 'net', path: '/proc/9/ns/net' }],
    cgroupProcs: ['/sys/fs/cgroup/pids/berth/x/cgroup.procs'],
    uidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
    gidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
    mounts: [
      {
        source: 'tmpfs',
        destination: '/dev',
        fstype: 'tmpfs',
        flags: MountFlag.NOSUID | MountFlag.STRICTATIME,
        propagation: 0,
        data: 'mode=755,size=65536k',
      },
    ],
    devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 }],
    symlinks: [{ target: 'pts/ptmx', path: '/dev/ptmx' }],
    hostname: 'box',
    rlimits: [{ resource: 7, soft: 1024n, hard: (1n << 64n) - 1n }],
    sysctls: [{ path: 'net/ipv4/ip_forward', value: '1' }],
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
    user: { uid: 1000, gid: 1000, umask: 0o22, additionalGids: [10, 20] },
    oomScoreAdj: -500,
    env: ['PATH=/bin'],
    args: ['sh', '-c', 'echo hi'],
    capabilities: { bounding: 5n, effective: 5n, inheritable: 0n, permitted: 5n, ambient: 0n },
    noNewPrivileges: true,
    seccomp: {
      defaultAction: 'errno',
      defaultErrno: 1,
      architectures: ['x86'],
      rules: [
        { action: 'allow', errno: 0, syscall: 'read', args: [] },
        {
          action: 'allow',
          errno: 0,
          syscall: 'personality',
          args: [{ index: 0, op: 'eq', value: 8n, valueTwo: 0n }],
        },
      ],
    },
    terminal: true,
    openStdin: true,
    stdinOnce: true,
    logPath: '/l/x-json.log',
  };
  assert.equal(
    encodeHelperPlan(plan).toString('utf8'),
    nul(
      'berth-plan/1|rootfs|/r|1|ns|pid||ns|net|/proc/9/ns/net|' +
        'cgroup|/sys/fs/cgroup/pids/berth/x/cgroup.procs|uidmap|0|100000|65536|gidmap|0|100000|65536|' +
        'mount|tmpfs|/dev|tmpfs|16777218|0|mode=755,size=65536k|device|/dev/null|c|1|3|438|0|0|' +
        'symlink|pts/ptmx|/dev/ptmx|hostname|box|rlimit|7|1024|18446744073709551615|' +
        'sysctl|net/ipv4/ip_forward|1|masked|/proc/kcore|readonly|/proc/sys|user|1000|1000|18|' +
        'group|10|group|20|oom_score_adj|-500|cwd|/|env|PATH=/bin|arg|sh|arg|-c|arg|echo hi|' +
        'caps|5|5|0|5|0|no_new_privs|1|seccomp|errno|1|seccomp_arch|x86|seccomp_rule|allow|0|read|' +
        'seccomp_rule|allow|0|personality|seccomp_arg|0|eq|8|0|terminal|1|stdin|1|1|log|/l/x-json.log|',
    ),
  );
});

test('a value with a NUL byte is an InvalidParameter', () => {
  assert.throws(() => encodeHelperPlan({ ...minimal, env: ['A=\0'] }), { kind: 'InvalidParameter' });
});

test('a negative uid is an InvalidParameter', () => {
  assert.throws(() => encodeHelperPlan({ ...minimal, user: { uid: -1, gid: 0, additionalGids: [] } }), {
    kind: 'InvalidParameter',
  });
});

test('UTF-8 strings are written as UTF-8 bytes', () => {
  const bytes = encodeHelperPlan({ ...minimal, args: ['é'] });
  assert.ok(bytes.includes(Buffer.from([0x61, 0x72, 0x67, 0, 0xc3, 0xa9, 0])));
});

test('log rotation and json-file attrs follow the log record', () => {
  const bytes = encodeHelperPlan({
    ...minimal,
    logPath: '/l/x-json.log',
    logRotate: { maxSize: 1024, maxFiles: 3, compress: true },
    logAttrs: '{"a":"1"}',
  });
  assert.ok(
    bytes.toString('utf8').endsWith(nul('log|/l/x-json.log|log_rotate|1024|3|1|log_attrs|{"a":"1"}|')),
  );
  assert.ok(!encodeHelperPlan({ ...minimal, logPath: '/l' }).includes('log_attrs'), 'none: no record');
});
