import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import type { LinuxSeccomp } from '../../oci/index.ts';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.ts';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-default-profile.ts';
import {
  goArch,
  kernelAtLeast,
  parseSeccompProfile,
  resolveSeccompProfile,
  seccompForContainer,
} from './seccomp.ts';

const AMD64 = { arch: 'amd64', kernel: '6.1.0-13-amd64' };

function allowed(s: LinuxSeccomp): Set<string> {
  return new Set(
    (s.syscalls ?? []).filter((c) => c.action === 'SCMP_ACT_ALLOW' && !c.args).flatMap((c) => c.names),
  );
}

test('the default profile on amd64 covers x86_64, x86 and x32 and denies with EPERM', () => {
  const s = resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, DEFAULT_CAPABILITIES, AMD64);
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
});

test('with Docker default capabilities mount, reboot, init_module and unshare are not allowed', () => {
  const s = resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, DEFAULT_CAPABILITIES, AMD64);
  const ok = allowed(s);
  for (const name of ['mount', 'umount2', 'reboot', 'init_module', 'unshare', 'setns', 'bpf', 'syslog']) {
    assert.equal(ok.has(name), false, name);
  }
  for (const name of ['read', 'write', 'execve', 'chroot', 'arch_prctl', 'modify_ldt', 'ptrace']) {
    assert.equal(ok.has(name), true, name);
  }
  assert.equal(ok.has('s390_runtime_instr'), false);
});

test('clone is allowed only without namespace flags, clone3 fails with ENOSYS, unless CAP_SYS_ADMIN', () => {
  const s = resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, DEFAULT_CAPABILITIES, AMD64);
  const clone = (s.syscalls ?? []).filter((c) => c.names.includes('clone'));
  assert.deepEqual(clone, [
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
    },
  ]);
  const clone3 = (s.syscalls ?? []).find((c) => c.names.includes('clone3'));
  assert.deepEqual(clone3, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });

  const admin = resolveSeccompProfile(
    DEFAULT_SECCOMP_PROFILE,
    [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'],
    AMD64,
  );
  const ok = allowed(admin);
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'bpf'])
    assert.ok(ok.has(name), name);
  assert.equal(
    (admin.syscalls ?? []).some((c) => c.action === 'SCMP_ACT_ERRNO'),
    false,
  );
});

test('capability includes: CAP_SYS_BOOT allows reboot, CAP_SYS_MODULE allows init_module', () => {
  const caps = [...DEFAULT_CAPABILITIES, 'CAP_SYS_BOOT', 'CAP_SYS_MODULE'];
  const ok = allowed(resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, caps, AMD64));
  assert.ok(ok.has('reboot'));
  assert.ok(ok.has('init_module'));
  assert.ok(ok.has('finit_module'));
  assert.equal(ok.has('settimeofday'), false);
});

test('minKernel: ptrace is allowed from kernel 4.8, not on 4.4', () => {
  assert.ok(allowed(resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, [], AMD64)).has('ptrace'));
  assert.equal(
    allowed(resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, [], { arch: 'amd64', kernel: '4.4.0' })).has(
      'ptrace',
    ),
    false,
  );
});

test('arm64 gets aarch64 + arm and the arm-only syscalls, not arch_prctl', () => {
  const s = resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, [], { arch: 'arm64', kernel: '6.1' });
  assert.deepEqual(s.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const ok = allowed(s);
  assert.ok(ok.has('arm_fadvise64_64'));
  assert.equal(ok.has('arch_prctl'), false);
});

test('kernelAtLeast compares major.minor', () => {
  assert.ok(kernelAtLeast('6.18.44-fc', '4.8'));
  assert.ok(kernelAtLeast('4.8.0', '4.8'));
  assert.equal(kernelAtLeast('4.7.9', '4.8'), false);
  assert.equal(kernelAtLeast('3.19', '4.8'), false);
  assert.equal(goArch('x64'), 'amd64');
});

test('privileged and unconfined containers get no filter; builtin means the default', () => {
  const base = { boundingCaps: DEFAULT_CAPABILITIES, platform: AMD64 };
  assert.equal(seccompForContainer({ ...base, privileged: true, profile: undefined }), undefined);
  assert.equal(seccompForContainer({ ...base, privileged: false, profile: 'unconfined' }), undefined);
  assert.equal(
    seccompForContainer({ ...base, privileged: false, profile: 'builtin' })?.defaultAction,
    'SCMP_ACT_ERRNO',
  );
  assert.equal(
    seccompForContainer({ ...base, privileged: false, profile: undefined, seccompEnabled: false }),
    undefined,
  );
  assert.throws(
    () =>
      seccompForContainer({
        ...base,
        privileged: false,
        profile: '{"defaultAction":"SCMP_ACT_ALLOW"}',
        seccompEnabled: false,
      }),
    /seccomp is not enabled in your kernel/,
  );
});

test('a custom profile with name and architectures is resolved as given', () => {
  const json = JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_FOWNER'] } },
    ],
  });
  const s = seccompForContainer({
    privileged: false,
    profile: json,
    boundingCaps: DEFAULT_CAPABILITIES,
    platform: AMD64,
  });
  assert.deepEqual(s, {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
  });
});

test('malformed profiles are InvalidParameter errors with Docker wording', () => {
  const bad = (text: string, re: RegExp) =>
    assert.throws(
      () => parseSeccompProfile(text),
      (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter' && re.test((e as Error).message),
    );
  bad('{not json', /^Decoding seccomp profile failed: /);
  bad('[]', /not a JSON object/);
  bad('{"defaultAction":"SCMP_ACT_NOPE"}', /invalid defaultAction/);
  bad(
    '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}]}',
    /both 'architectures' and 'archMap'/,
  );
  bad(
    '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}',
    /either 'name' or 'names'/,
  );
  bad(
    '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["b"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_FOO"}]}]}',
    /invalid operator/,
  );
});

test('every capability: the default profile has no ERRNO rule left', () => {
  const s = resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, ALL_CAPABILITIES, AMD64);
  assert.equal(
    s.syscalls?.every((c) => c.action === 'SCMP_ACT_ALLOW'),
    true,
  );
});
