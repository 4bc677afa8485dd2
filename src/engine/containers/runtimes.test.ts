import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BERTH_RUNTIME, externalRuntime, runtimeTable } from './runtimes.ts';

test('berth is the default runtime; runc is predefined when found; added runtimes are listed', () => {
  const t = runtimeTable({
    shimPath: '/x/berth-shim',
    runcPath: '/usr/sbin/runc',
    added: { crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] } },
  });
  assert.equal(t.defaultRuntime, BERTH_RUNTIME);
  assert.deepEqual(t.runtimes, {
    berth: { path: '/x/berth-shim' },
    runc: { path: '/usr/sbin/runc' },
    crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] },
  });
  assert.equal(runtimeTable({ shimPath: '/s', runcPath: undefined }).runtimes.runc, undefined);
});

test('reserved names, unknown default runtime and unknown runtime get dockerd’s errors', () => {
  assert.throws(
    () => runtimeTable({ shimPath: '/s', added: { runc: { path: '/x' } } }),
    /runtime name 'runc' is reserved/,
  );
  assert.throws(
    () => runtimeTable({ shimPath: '/s', runcPath: undefined, defaultRuntime: 'nope' }),
    /specified default runtime 'nope' does not exist/,
  );
  const t = runtimeTable({ shimPath: '/s', runcPath: '/bin/true' });
  assert.throws(() => externalRuntime(t, 'bogus', '/run/b'), /Unknown runtime specified bogus/);
});

test('an external runtime gets its own --root under the exec root; berth’s own is not external', () => {
  const t = runtimeTable({
    shimPath: '/s',
    runcPath: '/bin/true',
    added: { x: { path: '/bin/true', runtimeArgs: ['--a'] } },
  });
  assert.equal(externalRuntime(t, 'berth', '/run/b'), undefined);
  assert.deepEqual(externalRuntime(t, 'x', '/run/b'), {
    path: '/bin/true',
    args: ['--a', '--root', '/run/b/runtime-x'],
  });
});
