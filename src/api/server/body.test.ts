import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { checkShape, parseJson } from './body.ts';
import { containerCreateShape } from './shapes.ts';

test('malformed JSON is InvalidParameter in Go words', () => {
  assert.throws(
    () => parseJson('x{}'),
    (e) =>
      isBerthError(e, 'InvalidParameter') &&
      e.message === "invalid JSON: invalid character 'x' looking for beginning of value",
  );
  assert.throws(
    () => parseJson('{"Image":'),
    (e) => isBerthError(e, 'InvalidParameter') && e.message === 'invalid JSON: unexpected end of JSON input',
  );
});

test('an empty body parses to undefined', () => {
  assert.equal(parseJson(''), undefined);
  assert.equal(parseJson('  \n'), undefined);
});

test('a string where an integer belongs is InvalidParameter naming the field', () => {
  assert.throws(
    () => checkShape({ Image: 'a', HostConfig: { Memory: 'x' } }, containerCreateShape),
    (e) =>
      isBerthError(e, 'InvalidParameter') &&
      e.message ===
        'invalid JSON: json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig.Memory of type int64',
  );
});

test('a fractional number where an integer belongs is refused', () => {
  assert.throws(
    () => checkShape({ HostConfig: { CpuShares: 1.5 } }, containerCreateShape),
    (e) => isBerthError(e, 'InvalidParameter'),
  );
});

test('Cmd takes a string or a list of strings (StrSlice)', () => {
  assert.deepEqual(checkShape({ Cmd: 'echo hi' }, containerCreateShape), { Cmd: 'echo hi' });
  assert.deepEqual(checkShape({ Cmd: ['echo', 'hi'] }, containerCreateShape), { Cmd: ['echo', 'hi'] });
  assert.throws(
    () => checkShape({ Cmd: [1] }, containerCreateShape),
    (e) => isBerthError(e, 'InvalidParameter'),
  );
});

test('field names match case-insensitively and come out in Docker spelling', () => {
  assert.deepEqual(checkShape({ image: 'busybox', hostconfig: { memory: 5 } }, containerCreateShape), {
    Image: 'busybox',
    HostConfig: { Memory: 5 },
  });
});

test('null is accepted anywhere and unknown fields pass through', () => {
  assert.deepEqual(checkShape({ Env: null, Future: { x: 1 } }, containerCreateShape), {
    Env: null,
    Future: { x: 1 },
  });
});

test('nested arrays and maps are checked', () => {
  assert.throws(
    () =>
      checkShape({ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 8080 }] } } }, containerCreateShape),
    (e) => isBerthError(e, 'InvalidParameter') && /HostPort of type string/.test(e.message),
  );
  assert.throws(
    () => checkShape({ Labels: { a: 1 } }, containerCreateShape),
    (e) => isBerthError(e, 'InvalidParameter'),
  );
});
