import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDefaultDeviceRuleSet } from './devices.ts';

const dockerDefaults = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

test("Docker's base device rules are the default set", () => {
  assert.equal(isDefaultDeviceRuleSet(dockerDefaults), true);
});

test("runc's appended rules (pts, ptmx, tun, mknod) are part of the default set", () => {
  const rules = [
    ...dockerDefaults,
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'c', major: 136, access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
  ];
  assert.equal(isDefaultDeviceRuleSet(rules), true);
});

test('privileged (allow everything) and an empty list are default sets', () => {
  assert.equal(isDefaultDeviceRuleSet([{ allow: true, type: 'a', access: 'rwm' }]), true);
  assert.equal(isDefaultDeviceRuleSet([]), true);
});

test('an extra allowed device (--device /dev/sda) is not the default set', () => {
  assert.equal(
    isDefaultDeviceRuleSet([
      ...dockerDefaults,
      { allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' },
    ]),
    false,
  );
});

test('an extra denied device is not the default set', () => {
  assert.equal(
    isDefaultDeviceRuleSet([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]),
    false,
  );
});
