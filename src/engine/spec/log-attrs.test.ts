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

const record = (Config: Record<string, string>, Type = 'json-file') => ({
  id: 'f2621ffe08f5476bef53cb414cc756716353450b0da73e44b71fae2f89002ded',
  name: 'web',
  image: 'busybox',
  imageId: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  created: '2026-11-23T08:33:04.586730300Z',
  spec: { path: 'sh', args: ['-c', 'echo hi'] },
  config: { Labels: labels, Env: env },
  hostConfig: { LogConfig: { Type, Config } },
});

test('a bad regexp or tag template fails the start with the logging driver error', () => {
  assert.throws(() => goRegexp('('), /error parsing regexp: /);
  assert.throws(
    () => containerLogAttrs(record({ 'labels-regex': '(' }), '/l'),
    /failed to initialize logging driver: error parsing regexp/,
  );
  assert.throws(
    () => containerLogAttrs(record({ tag: '{{.Name' }), '/l'),
    /failed to initialize logging driver: template: log-tag/,
  );
  assert.throws(
    () => containerLogAttrs(record({ tag: '{{.Nope}}' }), '/l'),
    /failed to initialize logging driver: template: log-tag.*Nope/,
  );
});

test('tag is a Go template on moby logger.Info, added as the tag attribute', () => {
  assert.equal(
    containerLogAttrs(record({ tag: '{{.Name}}/{{.ID}}', labels: 'other' }), '/l'),
    '{"other":"x","tag":"web/f2621ffe08f5"}',
  );
  const one = (tag: string) => JSON.parse(containerLogAttrs(record({ tag }), '/var/log/x.log') ?? '{}').tag;
  assert.equal(one('{{.FullID}}'), 'f2621ffe08f5476bef53cb414cc756716353450b0da73e44b71fae2f89002ded');
  assert.equal(one('{{.ImageID}} {{.ImageName}}'), '0123456789ab busybox');
  assert.equal(
    one('{{.ImageFullID}}'),
    'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  );
  assert.equal(one('{{.Command}}'), 'sh -c echo hi');
  assert.equal(one('{{.ContainerName}} {{.DaemonName}} {{.LogPath}}'), '/web docker /var/log/x.log');
  assert.equal(one('{{.ContainerCreated}}'), '2026-11-23 08:33:04.5867303 +0000 UTC');
  assert.equal(
    one('{{index .ContainerLabels "other"}} {{upper .Name}} {{join .ContainerArgs ","}}'),
    'x WEB -c,echo hi',
  );
  assert.equal(one('plain'), 'plain');
  assert.equal(containerLogAttrs(record({ tag: '' }), '/l'), undefined, 'an empty tag adds nothing');
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
  assert.equal(containerLogAttrs(record({}, 'local'), '/l'), undefined);
  assert.equal(containerLogAttrs(record({ labels: 'other' }), '/l'), '{"other":"x"}');
  assert.equal(containerLogAttrs(record({}), '/l'), undefined);
  for (const key of ['labels', 'labels-regex', 'env', 'env-regex']) {
    assert.deepEqual(resolveLogSettings('json-file', { [key]: 'x' }), { driver: 'json-file' });
    assert.throws(() => resolveLogSettings('local', { [key]: 'x' }), /unknown log opt/);
  }
});
