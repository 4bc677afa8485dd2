import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OciNamespace } from '../oci/index.ts';
import { validateSysctls } from './sysctl.ts';

const own: OciNamespace[] = [{ type: 'ipc' }, { type: 'network' }, { type: 'uts' }, { type: 'mount' }];
const none: OciNamespace[] = [{ type: 'mount' }];

test('namespaced sysctls are allowed in a namespace of their own', () => {
  validateSysctls(
    {
      'kernel.shm_rmid_forced': '1',
      'fs.mqueue.msg_max': '10',
      'net.ipv4.ip_forward': '1',
      'kernel.domainname': 'x',
    },
    own,
  );
});

test("sysctls of the host's namespaces are refused with runc's words", () => {
  assert.throws(() => validateSysctls({ 'kernel.sem': '1' }, none), {
    message: 'sysctl "kernel.sem" is not allowed in the hosts ipc namespace',
  });
  assert.throws(() => validateSysctls({ 'net.ipv4.ip_forward': '1' }, none), {
    message: 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
  });
  assert.throws(() => validateSysctls({ 'kernel.domainname': 'x' }, none), {
    message: 'sysctl "kernel.domainname" is not in a separate kernel namespace',
  });
  assert.throws(() => validateSysctls({ 'vm.swappiness': '1' }, own), {
    message: 'sysctl "vm.swappiness" is not in a separate kernel namespace',
  });
  assert.throws(() => validateSysctls({ 'kernel.hostname': 'x' }, own), {
    message: 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field',
  });
});

test("a joined network namespace is the host's when it is the current one", () => {
  const joined: OciNamespace[] = [{ type: 'network', path: '/proc/123/ns/net' }];
  assert.throws(() => validateSysctls({ 'net.core.somaxconn': '1' }, joined, () => true), {
    message: 'sysctl "net.core.somaxconn" not allowed in host network namespace',
  });
  validateSysctls({ 'net.core.somaxconn': '1' }, joined, () => false);
});
