import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError, type ErrorKind } from '../../common/index.ts';
import { errorResponse } from './errors.ts';

test('each error kind maps to its Docker status with a {"message"} body', () => {
  const table: Array<[ErrorKind, number]> = [
    ['NotFound', 404],
    ['Conflict', 409],
    ['InvalidParameter', 400],
    ['Unauthorized', 401],
    ['Forbidden', 403],
    ['NotImplemented', 501],
    ['Unavailable', 503],
    ['Internal', 500],
  ];
  for (const [kind, status] of table) {
    const r = errorResponse(new BerthError(kind, `boom ${kind}`));
    assert.equal(r.status, status, kind);
    assert.equal(r.body, `{"message":"boom ${kind}"}\n`);
    assert.equal(r.isUnexpected, false);
  }
});

test('NotModified is a 304 with no body', () => {
  const r = errorResponse(new BerthError('NotModified', 'container already started'));
  assert.equal(r.status, 304);
  assert.equal(r.body, undefined);
});

test('an error that is not a BerthError is an unexpected 500 with its message', () => {
  const r = errorResponse(new TypeError('x is undefined'));
  assert.equal(r.status, 500);
  assert.equal(r.body, '{"message":"x is undefined"}\n');
  assert.equal(r.isUnexpected, true);
});
