import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolverRedirectScript } from './container-resolver.ts';

test('the resolver redirect rewrites 127.0.0.11:53 to the gateway and the loopback source to the container', () => {
  const script = resolverRedirectScript('10.7.0.1', '10.7.0.5');
  assert.match(script, /ip daddr 127\.0\.0\.11 meta l4proto \{ tcp, udp \} th dport 53 dnat to 10\.7\.0\.1:53/);
  assert.match(script, /ip saddr 127\.0\.0\.0\/8 ip daddr 10\.7\.0\.1 .* snat to 10\.7\.0\.5/);
  // Re-applying replaces the table instead of failing or doubling the rules.
  assert.ok(script.indexOf('delete table ip berth_resolver') < script.indexOf('table ip berth_resolver {'));
});
