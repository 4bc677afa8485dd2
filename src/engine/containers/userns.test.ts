import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsernsRemap } from '../../platform/index.ts';
import { checkSameRemap, checkUsernsConflicts, containerRemap } from './userns.ts';

const remap: UsernsRemap = {
  user: 'u',
  group: 'u',
  idMap: { uidMap: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMap: [] },
  root: { uid: 100000, gid: 100000 },
};

test('every container is remapped unless it asks for --userns=host', () => {
  assert.equal(containerRemap(remap, {}), remap);
  assert.equal(containerRemap(remap, { UsernsMode: '' }), remap);
  assert.equal(containerRemap(remap, { UsernsMode: 'host' }), undefined);
  assert.equal(containerRemap(undefined, {}), undefined);
});

test("with remapping, --privileged, --net=host and --pid=host are refused with dockerd's words", () => {
  assert.throws(
    () => checkUsernsConflicts({ Privileged: true }, true),
    /^BerthError: privileged mode is incompatible with user namespaces\. {2}You must run the container in the host namespace when running privileged mode$/,
  );
  assert.throws(
    () => checkUsernsConflicts({ NetworkMode: 'host' }, true),
    /cannot share the host's network namespace when user namespaces are enabled/,
  );
  assert.throws(
    () => checkUsernsConflicts({ PidMode: 'host' }, true),
    /cannot share the host PID namespace when user namespaces are enabled/,
  );
});

test('--userns=host, or no remapping, allows them all', () => {
  const all = { Privileged: true, NetworkMode: 'host', PidMode: 'host' };
  checkUsernsConflicts({ ...all, UsernsMode: 'host' }, true);
  checkUsernsConflicts(all, false);
});

test('a container starts only under the remapping it was created with', () => {
  checkSameRemap({ id: 'c1' }, undefined);
  checkSameRemap({ id: 'c1', remappedRoot: { uid: 100000, gid: 100000 } }, remap);
  assert.throws(
    () => checkSameRemap({ id: 'c1' }, remap),
    /container c1 was created with no user namespace remapping and berthd now runs it with user namespace remapping to 100000:100000: remove it and create it again/,
  );
  assert.throws(
    () => checkSameRemap({ id: 'c1', remappedRoot: { uid: 100000, gid: 100000 } }, undefined),
    /created with user namespace remapping to 100000:100000 and berthd now runs it with no user namespace remapping/,
  );
});
