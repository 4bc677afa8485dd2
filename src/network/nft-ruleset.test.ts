import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderRuleset } from './nft-ruleset.ts';

test('the ruleset replaces berth table only, masquerades, isolates bridges and DNATs published ports', () => {
  const s = renderRuleset({
    table: 'berth',
    bridges: [
      { name: 'berth0', subnet: '172.17.0.0/16', internal: false, masquerade: true, icc: true },
      { name: 'br-1', subnet: '172.18.0.0/16', internal: true, masquerade: true, icc: true },
    ],
    ports: [
      { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 },
    ],
  });
  assert.match(s, /^table inet berth \{\}\ndelete table inet berth\ntable inet berth \{/);
  assert.match(s, /ip saddr 172\.17\.0\.0\/16 oifname != "berth0" masquerade/);
  assert.doesNotMatch(s, /172\.18\.0\.0\/16 oifname != "br-1" masquerade/);
  assert.match(s, /iifname "berth0" oifname \{ "br-1" \} drop/);
  assert.match(s, /iifname "br-1" oifname != "br-1" drop/);
  assert.match(s, /ip daddr 127\.0\.0\.1 tcp dport 8080 dnat ip to 172\.17\.0\.2:80/);
});
