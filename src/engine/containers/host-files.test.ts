import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostsFile, resolvConf } from './host-files.ts';

test('resolv.conf drops loopback nameservers and keeps search and options', () => {
  const host = 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.com\noptions ndots:2 edns0\n';
  assert.equal(resolvConf(host), 'nameserver 10.0.0.2\nsearch example.com\noptions ndots:2 edns0\n');
});

test('resolv.conf falls back to public resolvers when only loopback ones exist', () => {
  assert.equal(resolvConf('nameserver 127.0.0.1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
});

test('--dns replaces the host nameservers', () => {
  assert.equal(resolvConf('nameserver 10.0.0.2\n', { dns: ['1.1.1.1'] }), 'nameserver 1.1.1.1\n');
});

test('hosts starts with the localhost lines Docker writes and adds entries', () => {
  const text = hostsFile([{ ip: '172.17.0.2', names: ['abc123'] }]);
  assert.match(text, /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n/);
  assert.match(text, /172\.17\.0\.2\tabc123\n$/);
});
