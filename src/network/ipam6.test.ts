import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateAddress6, bigToIp6, contains6, formatCidr6, ip6ToBig, parseCidr6 } from './ipam6.ts';

test('IPv6 addresses round-trip in RFC 5952 form', () => {
  for (const [input, out] of [
    ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['fd12:3456:789a:1::', 'fd12:3456:789a:1::'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
  ] as const) {
    assert.equal(bigToIp6(ip6ToBig(input)), out);
  }
  assert.throws(() => ip6ToBig('10.0.0.1'), /invalid IPv6 address/);
});

test('IPv6 subnets: host bits cleared, containment, sequential allocation after the gateway', () => {
  const c = parseCidr6('fd12:3456:789a:1::5/64');
  assert.equal(formatCidr6(c), 'fd12:3456:789a:1::/64');
  assert.ok(contains6(c, ip6ToBig('fd12:3456:789a:1::ffff')));
  assert.ok(!contains6(c, ip6ToBig('fd12:3456:789a:2::1')));
  assert.equal(allocateAddress6(c, new Set(['fd12:3456:789a:1::1'])), 'fd12:3456:789a:1::2');
  assert.throws(() => parseCidr6('fd00::/129'), /invalid CIDR/);
  assert.throws(() => allocateAddress6(parseCidr6('fd00::/127'), new Set(['fd00::1'])), /no available IPv6/);
});
