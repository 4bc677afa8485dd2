import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../common/index.ts';
import { isValidContainerName, validateContainerName } from './container-name.ts';

test('valid names are stored with a leading slash', () => {
  assert.equal(validateContainerName('web'), '/web');
  assert.equal(validateContainerName('/web'), '/web');
  assert.equal(validateContainerName('a1_b.c-d'), '/a1_b.c-d');
});

test("invalid names are InvalidParameter with Docker's text", () => {
  for (const bad of ['a', '_web', '-x', 'we b', 'web!', '', '/', 'a/b']) {
    assert.equal(isValidContainerName(bad), false, bad);
    assert.throws(
      () => validateContainerName(bad),
      (err) =>
        isBerthError(err, 'InvalidParameter') &&
        err.message === `Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      bad,
    );
  }
});
