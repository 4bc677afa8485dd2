import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { interpolateString } from './interpolate.ts';
import { loadProject } from './load.ts';
import { parsePorts, shellSplit } from './normalize.ts';

const env: Record<string, string> = { A: 'a', E: '' };
const look = (n: string) => env[n];

test('interpolation follows compose-spec for every form', () => {
  const cases: [string, string][] = [
    ['$A ${A}', 'a a'],
    ['${B:-d}', 'd'],
    ['${E:-d}', 'd'],
    ['${E-d}', ''],
    ['${A:+x}', 'x'],
    ['${E+x}', 'x'],
    ['${E:+x}', ''],
    ['$$A', '$A'],
    ['${B:-${A}}', 'a'],
  ];
  for (const [i, o] of cases) assert.equal(interpolateString(i, look), o, i);
  assert.throws(
    () => interpolateString('${B:?need B}', look),
    /required variable B is missing a value: need B/,
  );
});

test('short ports and commands expand to the long form', () => {
  assert.deepEqual(parsePorts(['127.0.0.1:5000:5000/udp']), [
    { mode: 'ingress', host_ip: '127.0.0.1', target: 5000, published: '5000', protocol: 'udp' },
  ]);
  assert.equal(parsePorts(['8000-8001:80-81']).length, 2);
  assert.deepEqual(shellSplit(`sh -c 'echo "hi there"'`), ['sh', '-c', 'echo "hi there"']);
});

function project(files: Record<string, string>, extra: Partial<Parameters<typeof loadProject>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
  return loadProject({
    cwd: dir,
    env: {},
    ...extra,
    files: extra.files ?? [Object.keys(files)[0] as string],
  });
}

test('several files merge: maps merge, command replaces, !reset removes, .env interpolates', () => {
  const p = project(
    {
      'compose.yaml':
        'services:\n  a:\n    image: busybox\n    command: x y\n    environment: [K=1, L=2]\n    ports: ["80"]\n',
      'over.yaml':
        'services:\n  a:\n    command: [z]\n    environment: {L: "3"}\n    ports: !reset []\n    image: ${IMG}\n',
      '.env': 'IMG=alpine\n',
    },
    { files: ['compose.yaml', 'over.yaml'] },
  );
  const a = p.services.a;
  assert.deepEqual(a?.command, ['z']);
  assert.deepEqual(a?.environment, { K: '1', L: '3' });
  assert.equal(a?.ports, undefined);
  assert.equal(a?.image, 'alpine');
  assert.deepEqual(p.networks, { default: { name: `${p.name}_default` } });
});

test('extends, profiles and anchors with merge keys', () => {
  const p = project({
    'compose.yaml':
      'x-b: &b {image: busybox, user: "1"}\nservices:\n  base:\n    <<: *b\n  a:\n    extends: base\n    hostname: h\n  dbg:\n    image: busybox\n    profiles: [debug]\n',
  });
  assert.equal(p.services.a?.user, '1');
  assert.equal(p.services.a?.hostname, 'h');
  assert.ok(!p.services.dbg && p.disabledServices.dbg);
});

test('bad input is rejected before anything runs', () => {
  assert.throws(
    () => project({ 'c.yaml': 'services:\n  a:\n    image: x\n    depends_on: [b]\n' }),
    /depends on undefined service "b"/,
  );
  assert.throws(
    () =>
      project({
        'c.yaml':
          'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n',
      }),
    /dependency cycle detected/,
  );
  assert.throws(
    () => project({ 'c.yaml': 'services:\n  a:\n    image: x\n    bogus: 1\n' }),
    /services\.a additional properties 'bogus' not allowed/,
  );
  assert.throws(
    () => project({ 'c.yaml': 'services:\n  a:\n    image: ${X:?set X}\n' }),
    /required variable X/,
  );
  assert.throws(() => project({ 'c.yaml': 'services:\n  a: [\n' }), /c\.yaml:\d+:\d+: yaml/);
});
