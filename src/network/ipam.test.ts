import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocateAddress,
  formatCidr,
  macFromIp,
  overlaps,
  parseAddressPool,
  parseCidr,
  pickSubnet,
} from './ipam.ts';

test('parseCidr clears the host bits', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/24')), '10.1.2.0/24');
});

test('overlapping subnets are detected either way round', () => {
  assert.ok(overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.17.5.0/24')));
  assert.ok(!overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.18.0.0/16')));
});

test('pickSubnet skips subnets that overlap used ones', () => {
  const pools = [parseAddressPool('base=10.5.0.0/16,size=24')];
  assert.equal(formatCidr(pickSubnet(pools, [parseCidr('10.5.0.0/23')])), '10.5.2.0/24');
});

test('allocateAddress hands out the lowest free address of the range, never network or broadcast', () => {
  const subnet = parseCidr('10.0.0.0/30');
  assert.equal(allocateAddress(subnet, new Set(['10.0.0.1'])), '10.0.0.2');
  assert.throws(
    () => allocateAddress(subnet, new Set(['10.0.0.1', '10.0.0.2'])),
    /no available IPv4 addresses/,
  );
  assert.equal(
    allocateAddress(parseCidr('10.0.0.0/24'), new Set(), parseCidr('10.0.0.128/25')),
    '10.0.0.128',
  );
});

test('MACs derive from the address as libnetwork does', () => {
  assert.equal(macFromIp('172.17.0.2'), '02:42:ac:11:00:02');
});
