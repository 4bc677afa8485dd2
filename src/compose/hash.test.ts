/**
 * Docker Compose's config hash. How the expected values were obtained: Compose's ServiceHash
 * (docker/compose pkg/compose/hash.go) clears build, pull_policy, scale, deploy.replicas,
 * depends_on and profiles, then sha256s encoding/json's output for compose-go's
 * types.ServiceConfig. The JSON documents below were written by hand from compose-go v2.9.1's
 * struct declarations (field order, `omitempty`, `json:"command"` without omitempty, struct
 * values such as deploy.resources never omitted, UnitBytes as a quoted decimal, Duration as Go's
 * String(), single ulimits as bare numbers, HTML-safe escaping of < > &) and checked by
 * marshalling equivalent Go structs with Go's encoding/json; the digests are `sha256sum` of them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { networkHash, serviceHash, serviceHashInput, volumeHash } from './hash.ts';
import { formatConfigJson, hashLines } from './config-output.ts';
import { loadProject } from './load.ts';
import type { Service } from './model.ts';

const MINIMAL_JSON = '{"command":null,"entrypoint":null,"image":"nginx:1.27","networks":{"default":null}}';
const MINIMAL_HASH = '35cb49ef2b427e33199ec130fd4fa2219dfb5858c58ba793400d99b97e093e4c';

const RICH_JSON =
  '{"cap_add":["NET_ADMIN"],"cpus":0.1,"command":["sh","-c","echo a \\u0026\\u0026 b \\u003e /tmp/x"],' +
  '"deploy":{"resources":{"limits":{"cpus":0.5,"memory":"268435456"}},"restart_policy":{"condition":"on-failure","delay":"5s","max_attempts":3},"placement":{}},' +
  '"entrypoint":[],"environment":{"A\\u003cB":"x\\u0026y","REDIS_HOST":"redis","UNSET":null},"expose":["3000"],' +
  '"extra_hosts":["a=1.2.3.4","b=::1"],"healthcheck":{"test":["CMD-SHELL","true"],"interval":"1m30s","retries":3},' +
  '"image":"redis:alpine","init":false,"labels":{"a":"2","z":"1"},"logging":{"driver":"json-file","options":{"max-size":"10m"}},' +
  '"mem_limit":"536870912","networks":{"back":{"aliases":["api"],"ipv4_address":"172.28.0.10","priority":10},"default":null},' +
  '"ports":[{"mode":"ingress","host_ip":"127.0.0.1","target":5000,"published":"5000","protocol":"tcp"}],' +
  '"restart":"unless-stopped","stop_grace_period":"1m30s","ulimits":{"nofile":{"soft":20000,"hard":40000},"nproc":65535},' +
  '"user":"1000:1000","volumes":[{"type":"bind","source":"/srv/code","target":"/code","bind":{"create_host_path":true}},' +
  '{"type":"volume","source":"data","target":"/data","volume":{}}],"volumes_from":["0123abc"],"working_dir":"/code"}';
const RICH_HASH = '8ab24000c6637686489abeebf1f33ce029c430aa0adf8c96143f39144a08677a';

test('the expected digests are the sha256 of the expected documents', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  assert.equal(sha(MINIMAL_JSON), MINIMAL_HASH);
  assert.equal(sha(RICH_JSON), RICH_HASH);
});

test('a minimal service hashes as Compose does (command and entrypoint are always written)', () => {
  const svc: Service = { image: 'nginx:1.27', networks: { default: null } };
  assert.equal(serviceHashInput(svc), MINIMAL_JSON);
  assert.equal(serviceHash(svc), MINIMAL_HASH);
});

test('a rich service hashes as Compose does, ignoring build, scale, replicas, depends_on, profiles and pull_policy', () => {
  const svc = {
    build: { context: '/srv', dockerfile: 'Dockerfile' },
    pull_policy: 'always',
    scale: 2,
    profiles: ['web'],
    depends_on: { db: { condition: 'service_healthy', required: true } },
    cap_add: ['NET_ADMIN'],
    cpus: 0.1,
    command: ['sh', '-c', 'echo a && b > /tmp/x'],
    deploy: {
      replicas: 2,
      resources: { limits: { cpus: 0.5, memory: 268435456 } },
      restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 3 },
    },
    entrypoint: [],
    environment: { REDIS_HOST: 'redis', UNSET: null, 'A<B': 'x&y' },
    expose: ['3000'],
    extra_hosts: ['b=::1', 'a=1.2.3.4'],
    healthcheck: { test: ['CMD-SHELL', 'true'], interval: '1m30s', retries: 3 },
    image: 'redis:alpine',
    init: false,
    labels: { z: '1', a: '2' },
    logging: { driver: 'json-file', options: { 'max-size': '10m' } },
    mem_limit: 536870912,
    networks: { default: null, back: { aliases: ['api'], ipv4_address: '172.28.0.10', priority: 10 } },
    ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 5000, published: '5000', protocol: 'tcp' }],
    restart: 'unless-stopped',
    stop_grace_period: '1m30s',
    ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } },
    user: '1000:1000',
    volumes: [
      { type: 'bind', source: '/srv/code', target: '/code', bind: { create_host_path: true } },
      { type: 'volume', source: 'data', target: '/data', volume: {} },
    ],
    volumes_from: ['0123abc'],
    working_dir: '/code',
  } as unknown as Service;
  assert.equal(serviceHashInput(svc), RICH_JSON);
  assert.equal(serviceHash(svc), RICH_HASH);
});

test('a loaded compose file gives the same hash as Compose for the same service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compose-hash-'));
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: nginx:1.27\n    scale: 2\n');
  const p = loadProject({ cwd: dir, env: {} });
  assert.equal(serviceHash(p.services.web as Service), MINIMAL_HASH);
});

test('network and volume hashes follow Compose (NetworkHash, VolumeHash with driver "local")', () => {
  // {"name":"tut_default","ipam":{}}: the ipam struct value is always written.
  assert.equal(
    networkHash({ name: 'tut_default' }),
    'fe85e0d597fcbe51334cf25ed42d04b59879af91f1554e4c6fd2233ee0629863',
  );
  // {"name":"app_back","ipam":{"config":[{"subnet":"172.28.0.0/16","gateway":"172.28.0.1"}]},"internal":true}
  assert.equal(
    networkHash({
      name: 'app_back',
      internal: true,
      ipam: { config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1' }] },
    }),
    'cd199028f348970ce22f7bee6d40a7f4720771cd2c63921e1a89ea1d8150fb42',
  );
  // {"name":"tut_data","driver":"local"}
  assert.equal(
    volumeHash({ name: 'tut_data' }),
    'cdcc126cf83551839b90d7cc824aa86e4c119bde5fa3ee6b3f1791eb652c17a7',
  );
});

test('config --hash and --format json print what docker compose config prints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compose-hash-'));
  writeFileSync(
    join(dir, 'compose.yaml'),
    'services:\n  web:\n    image: nginx:1.27\n    environment: [A=$$x]\n',
  );
  const p = loadProject({ cwd: dir, env: {}, projectName: 'p' });
  const web = p.services.web as Service;
  assert.deepEqual(hashLines(p, '*'), [`web ${serviceHash(web)}`]);
  assert.equal(
    formatConfigJson(p),
    [
      '{',
      '  "name": "p",',
      '  "networks": {',
      '    "default": {',
      '      "name": "p_default",',
      '      "ipam": {}',
      '    }',
      '  },',
      '  "services": {',
      '    "web": {',
      '      "command": null,',
      '      "entrypoint": null,',
      '      "environment": {',
      '        "A": "$$x"',
      '      },',
      '      "image": "nginx:1.27",',
      '      "networks": {',
      '        "default": null',
      '      }',
      '    }',
      '  }',
      '}',
    ].join('\n'),
  );
});
