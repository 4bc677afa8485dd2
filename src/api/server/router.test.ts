import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from './router.ts';

function router(): Router<string> {
  return new Router<string>()
    .add('GET', '/images/json', 'images.list')
    .add('GET', '/images/{name:.+}/json', 'images.inspect')
    .add('DELETE', '/images/{name:.+}', 'images.remove')
    .add('GET', '/containers/{id}/json', 'containers.inspect')
    .add('GET', '/version', 'version');
}

test('an image name with slashes, a port and a tag is one path variable', () => {
  const m = router().match('GET', '/images/localhost:5000/a/b:tag/json');
  assert.equal(m?.handler, 'images.inspect');
  assert.deepEqual(m?.params, { name: 'localhost:5000/a/b:tag' });
  assert.equal(m?.urlVersion, undefined);
});

test('/images/json is the list, not an image called json', () => {
  assert.equal(router().match('GET', '/images/json')?.handler, 'images.list');
  assert.equal(router().match('GET', '/v1.41/images/json')?.handler, 'images.list');
});

test('DELETE /images/{name} takes a name with slashes', () => {
  assert.deepEqual(router().match('DELETE', '/v1.24/images/a/b/c:1')?.params, { name: 'a/b/c:1' });
});

test('a /v{major}.{minor} prefix is optional and reported', () => {
  const m = router().match('GET', '/v1.41/containers/abc/json');
  assert.equal(m?.handler, 'containers.inspect');
  assert.deepEqual(m?.params, { id: 'abc' });
  assert.equal(m?.urlVersion, '1.41');
  assert.equal(router().match('GET', '/containers/abc/json')?.urlVersion, undefined);
});

test('/version is not mistaken for a version prefix', () => {
  assert.equal(router().match('GET', '/version')?.handler, 'version');
  assert.equal(router().match('GET', '/v1.40/version')?.urlVersion, '1.40');
});

test('a plain {id} does not match across slashes', () => {
  assert.equal(router().match('GET', '/containers/a/b/json'), undefined);
});

test('the method must match', () => {
  assert.equal(router().match('POST', '/images/json'), undefined);
});

test('unknown paths do not match', () => {
  assert.equal(router().match('GET', '/nope'), undefined);
  assert.equal(router().match('GET', '/v1.41'), undefined);
});
