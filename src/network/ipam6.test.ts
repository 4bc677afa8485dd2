import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocateAddress6,
  bigToIp6,
  contains6,
  formatCidr6,
  ip6ToBig,
  parseCidr6,
  userPool6,
} from './ipam6.ts';

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

test('a user network IPv6 pool: canonical subnet, gateway (default the first address), range and aux addresses checked', () => {
  assert.deepEqual(userPool6({ Subnet: 'fd12:1::/64' }, []), { subnet: 'fd12:1::/64', gateway: 'fd12:1::1' });
  assert.deepEqual(
    userPool6(
      {
        Subnet: 'fd12:1::/64',
        Gateway: 'fd12:1::fe',
        IPRange: 'fd12:1::100/120',
        AuxiliaryAddresses: { r: 'fd12:1::5' },
      },
      [],
    ),
    {
      subnet: 'fd12:1::/64',
      gateway: 'fd12:1::fe',
      ipRange: 'fd12:1::100/120',
      auxAddresses: { r: 'fd12:1::5' },
    },
  );
  assert.throws(() => userPool6({ Subnet: 'fd12:1::5/64' }, []), /it should be fd12:1::\/64/);
  assert.throws(() => userPool6({ Subnet: 'fd12:1::/64' }, [parseCidr6('fd12::/16')]), /Pool overlaps/);
  assert.throws(
    () => userPool6({ Subnet: 'fd12:1::/64', Gateway: 'fd12:2::1' }, []),
    /no matching subnet for gateway/,
  );
  assert.throws(
    () => userPool6({ Subnet: 'fd12:1::/64', IPRange: 'fd12:1::/60' }, []),
    /no matching subnet for range/,
  );
});

test('IPv6 allocation stays inside the ip-range', () => {
  const subnet = parseCidr6('fd12:1::/64');
  assert.equal(allocateAddress6(subnet, new Set(), parseCidr6('fd12:1::100/120')), 'fd12:1::100');
  assert.equal(
    allocateAddress6(subnet, new Set(['fd12:1::100']), parseCidr6('fd12:1::100/120')),
    'fd12:1::101',
  );
});
