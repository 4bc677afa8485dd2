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

test('icc=false drops traffic between ports of that bridge only, except the ports legacy links open', () => {
  const s = renderRuleset({
    table: 't',
    bridges: [
      { name: 'b0', subnet: '10.1.0.0/24', internal: false, masquerade: true, icc: false },
      { name: 'b1', subnet: '10.2.0.0/24', internal: false, masquerade: true, icc: true },
    ],
    ports: [],
    links: [{ bridge: 'b0', from: '10.1.0.2', to: '10.1.0.3', proto: 'tcp', port: 80 }],
  });
  const allow = 'iifname "b0" oifname "b0" ip saddr 10.1.0.2 ip daddr 10.1.0.3 tcp dport 80 accept';
  const back = 'iifname "b0" oifname "b0" ip saddr 10.1.0.3 ip daddr 10.1.0.2 tcp sport 80 accept';
  const drop = 'iifname "b0" oifname "b0" drop';
  assert.ok(s.indexOf(allow) > 0 && s.indexOf(back) > s.indexOf(allow) && s.indexOf(drop) > s.indexOf(back));
  assert.doesNotMatch(s, /iifname "b1" oifname "b1" drop/);
  assert.ok(
    s.includes('dstnat; policy accept;\n    iifname "b0" return\n    fib daddr type local jump publish'),
    'no DNAT for traffic from the icc=false bridge',
  );
});

test('ip-masq off leaves the bridge without masquerade rules; forwardDrop makes the forward policy drop', () => {
  const bridges = [{ name: 'b0', subnet: '10.1.0.0/24', internal: false, masquerade: false, icc: true }];
  const s = renderRuleset({ table: 't', bridges, ports: [] });
  assert.doesNotMatch(s, /masquerade/);
  assert.match(s, /type filter hook forward priority filter; policy accept;/);
  const d = renderRuleset({ table: 't', bridges, ports: [], forwardDrop: true });
  assert.match(d, /type filter hook forward priority filter; policy drop;/);
  assert.match(d, /oifname "b0" ct state related,established accept/);
  assert.match(d, /oifname "b0" ct status dnat accept/);
  assert.match(d, /iifname "b0" accept/);
});
