import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  containerLogAttrs,
  goJsonString,
  goJsonStringMap,
  goRegexp,
  logAttributes,
  logAttrsJson,
} from './log-attrs.ts';
import { resolveLogSettings } from './log-config.ts';

const labels = { 'com.example.a': '1', 'com.example.b': '2', other: 'x' };
const env = ['PATH=/bin', 'FOO=bar', 'EMPTY=', 'NOEQ', 'FOO_2=baz=qux'];

test('labels and env pick the listed names the container has; missing names are skipped', () => {
  assert.deepEqual(logAttributes({ labels: 'com.example.a,nope,other' }, labels, env), {
    'com.example.a': '1',
    other: 'x',
  });
  assert.deepEqual(logAttributes({ env: 'FOO,EMPTY,NOEQ,FOO_2' }, labels, env), {
    FOO: 'bar',
    EMPTY: '',
    FOO_2: 'baz=qux',
  });
  assert.deepEqual(logAttributes({}, labels, env), {});
});

test('the regex forms match anywhere in the name, as Go MatchString does', () => {
  assert.deepEqual(logAttributes({ 'labels-regex': '^com\\.example\\.' }, labels, env), {
    'com.example.a': '1',
    'com.example.b': '2',
  });
  assert.deepEqual(logAttributes({ 'env-regex': 'OO' }, labels, env), { FOO: 'bar', FOO_2: 'baz=qux' });
  assert.deepEqual(logAttributes({ 'env-regex': '(?i)^path$' }, labels, env), { PATH: '/bin' });
});

test('env wins over a label of the same name (moby applies env after labels)', () => {
  assert.deepEqual(logAttributes({ labels: 'FOO', env: 'FOO' }, { FOO: 'label' }, ['FOO=env']), {
    FOO: 'env',
  });
});

test('a bad regexp fails the start with the logging driver error', () => {
  assert.throws(() => goRegexp('('), /error parsing regexp: /);
  assert.throws(
    () => containerLogAttrs({ Type: 'json-file', Config: { 'labels-regex': '(' } }, { Labels: labels }),
    /failed to initialize logging driver: error parsing regexp/,
  );
});

test('attrs are Go json.Marshal of the map: sorted keys, HTML characters escaped', () => {
  assert.equal(goJsonStringMap({ b: '2', a: '1' }), '{"a":"1","b":"2"}');
  assert.equal(
    goJsonString('<a&b>"\\\n\t\u0001\u2028é'),
    '"\\u003ca\\u0026b\\u003e\\"\\\\\\n\\t\\u0001\\u2028é"',
  );
  assert.equal(goJsonString('x\ud800y'), '"x\\ufffdy"');
  assert.equal(goJsonString('😀'), '"😀"');
  assert.equal(logAttrsJson({ labels: 'nope' }, labels, env), undefined, 'no attrs: the field is omitted');
});

test('only json-file has attributes; other drivers refuse the options', () => {
  assert.equal(containerLogAttrs({ Type: 'local', Config: {} }, { Labels: labels }), undefined);
  assert.equal(
    containerLogAttrs({ Type: 'json-file', Config: { labels: 'other' } }, { Labels: labels }),
    '{"other":"x"}',
  );
  assert.equal(containerLogAttrs(undefined, { Labels: labels }), undefined);
  for (const key of ['labels', 'labels-regex', 'env', 'env-regex']) {
    assert.deepEqual(resolveLogSettings('json-file', { [key]: 'x' }), { driver: 'json-file' });
    assert.throws(() => resolveLogSettings('local', { [key]: 'x' }), /unknown log opt/);
  }
});
