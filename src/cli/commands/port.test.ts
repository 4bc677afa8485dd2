import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitError } from '../errors.ts';
import { joinHostPort, naturalLess, portLines } from './port.ts';

test('natural order compares digit runs as numbers', () => {
  assert.equal(naturalLess('80/tcp', '443/tcp'), true);
  assert.equal(naturalLess('9/tcp', '10/tcp'), true);
  assert.equal(naturalLess('80/tcp', '80/udp'), true);
  assert.equal(naturalLess('a', 'a'), false);
});

test('docker port lists "port/proto -> host:port" in natural order, IPv6 in brackets', () => {
  const ports = {
    '8080/tcp': [
      { HostIp: '0.0.0.0', HostPort: '9000' },
      { HostIp: '::', HostPort: '9000' },
    ],
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }],
    '53/udp': null,
  };
  assert.deepEqual(portLines(ports, 'web'), [
    '80/tcp -> 127.0.0.1:8080',
    '8080/tcp -> 0.0.0.0:9000',
    '8080/tcp -> [::]:9000',
  ]);
  assert.deepEqual(portLines(ports, 'web', '8080'), ['0.0.0.0:9000', '[::]:9000']);
  assert.equal(joinHostPort('::1', '1'), '[::1]:1');
});

test('an unpublished or malformed private port is an error in docker words', () => {
  const ports = { '53/udp': null };
  assert.throws(
    () => portLines(ports, 'web', '53/udp'),
    (e: unknown) =>
      e instanceof ExitError && e.message === "Error: No public port '53/udp' published for web",
  );
  assert.throws(
    () => portLines(ports, 'web', 'http'),
    (e: unknown) =>
      e instanceof ExitError &&
      e.message === 'Error: invalid port (http): strconv.ParseUint: parsing "http": invalid syntax',
  );
});
