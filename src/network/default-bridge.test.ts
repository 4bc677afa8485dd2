import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bridgeDaemonConfig,
  defaultBridgeBase,
  defaultBridgePool,
  defaultBridgePool6,
  endpointGateway,
  parseBoolOption,
} from './default-bridge.ts';

test('the bridge flags default to on; iptables=false turns ip-masq off and refuses icc=false, as dockerd does', () => {
  assert.deepEqual(bridgeDaemonConfig({}), { icc: true, ipMasq: true, iptables: true, ipForward: true });
  assert.equal(bridgeDaemonConfig({ iptables: false }).ipMasq, false);
  assert.throws(
    () => bridgeDaemonConfig({ iptables: false, icc: false }),
    /ICC=false uses iptables to function/,
  );
  assert.equal(bridgeDaemonConfig({ ipMasq: false }).ipMasq, false);
  assert.equal(bridgeDaemonConfig({ ipForward: false }).ipForward, false);
});

test('fixed-cidr is made canonical and must lie inside bip; default-gateway must be an IPv4 address; IPv6 is refused', () => {
  assert.equal(bridgeDaemonConfig({ fixedCidr: '10.5.0.130/25' }).fixedCidr, '10.5.0.128/25');
  assert.throws(
    () => bridgeDaemonConfig({ fixedCidr: '10.6.0.0/24', bip: '10.5.0.1/24' }),
    /subset of bridge network/,
  );
  assert.throws(
    () => bridgeDaemonConfig({ fixedCidr: '10.5.0.0/23', bip: '10.5.0.1/24' }),
    /subset of bridge network/,
  );
  assert.throws(() => bridgeDaemonConfig({ fixedCidr: 'nope' }), /fixed-cidr/);
  assert.throws(() => bridgeDaemonConfig({ defaultGateway: 'x' }), /invalid default-gateway/);
  assert.throws(() => bridgeDaemonConfig({ ipv6: true }), /--ipv6 needs --fixed-cidr-v6/);
  assert.equal(
    bridgeDaemonConfig({ ipv6: true, fixedCidrV6: 'fd12:0:0:7::9/64' }).ipv6Subnet,
    'fd12:0:0:7::/64',
  );
  assert.equal(bridgeDaemonConfig({ fixedCidrV6: 'fd12::/64' }).ipv6Subnet, undefined);
  assert.throws(() => bridgeDaemonConfig({ ipv6: true, fixedCidrV6: 'fd12::/126' }), /too long/);
  assert.throws(() => bridgeDaemonConfig({ ipv6: true, fixedCidrV6: '10.0.0.0/8' }), /invalid CIDR/);
});

test('the default bridge subnet: bip first, else fixed-cidr (or the previous subnet containing it), else the previous one', () => {
  const prev = { subnet: '10.5.0.0/16', gateway: '10.5.0.1' };
  assert.deepEqual(defaultBridgeBase('10.9.0.7/24', '10.9.0.128/25', prev), {
    subnet: '10.9.0.0/24',
    gateway: '10.9.0.7',
  });
  assert.deepEqual(defaultBridgeBase(undefined, '10.5.3.0/24', prev), prev);
  assert.deepEqual(defaultBridgeBase(undefined, '10.7.3.0/24', prev), {
    subnet: '10.7.3.0/24',
    gateway: '10.7.3.1',
  });
  assert.deepEqual(
    defaultBridgeBase(undefined, '10.4.0.0/15', { subnet: '10.4.0.0/24', gateway: '10.4.0.1' }),
    {
      subnet: '10.4.0.0/15',
      gateway: '10.4.0.1',
    },
  );
  assert.deepEqual(defaultBridgeBase(undefined, undefined, prev), prev);
  assert.equal(defaultBridgeBase(undefined, undefined, undefined), undefined);
});

test('the default bridge pool carries fixed-cidr as IPRange and default-gateway as DefaultGatewayIPv4', () => {
  const base = { subnet: '10.5.0.0/24', gateway: '10.5.0.1' };
  const pool = defaultBridgePool(base, { fixedCidr: '10.5.0.128/25', defaultGateway: '10.5.0.254' });
  assert.deepEqual(pool, {
    ...base,
    ipRange: '10.5.0.128/25',
    auxAddresses: { DefaultGatewayIPv4: '10.5.0.254' },
  });
  assert.equal(endpointGateway(pool), '10.5.0.254');
  assert.equal(endpointGateway(base), '10.5.0.1');
  assert.throws(
    () => defaultBridgePool(base, { defaultGateway: '10.6.0.1' }),
    /default gateway ip must be part of the network/,
  );
  assert.throws(() => defaultBridgePool(base, { fixedCidr: '10.6.0.0/25' }), /subset of bridge network/);
});

test('the default bridge IPv6 pool: gateway is the first address, fixed-cidr-v6 the range', () => {
  assert.deepEqual(defaultBridgePool6('fd12:0:0:7::/64'), {
    subnet: 'fd12:0:0:7::/64',
    gateway: 'fd12:0:0:7::1',
    ipRange: 'fd12:0:0:7::/64',
  });
});

test('bridge driver booleans parse as Go strconv.ParseBool', () => {
  assert.equal(parseBoolOption('k', undefined, true), true);
  assert.equal(parseBoolOption('k', '0', true), false);
  assert.equal(parseBoolOption('k', 'False', true), false);
  assert.equal(parseBoolOption('k', 'T', false), true);
  assert.throws(() => parseBoolOption('k', 'yes', true), /failed to parse k value/);
});
