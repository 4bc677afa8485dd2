/**
 * The compose model mapped onto containers as Docker Compose maps it, against a real berthd:
 * secrets and configs (file-based bind-mounted read-only, environment/content-based written into
 * the container), volumes_from a service with :ro, links, logging, and Compose's labels
 * (config-hash by Compose's algorithm, image digest, version, depends_on); keys berth cannot
 * honour are refused before anything is created.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { COMPOSE_VERSION, loadProject, serviceHash } from '../../src/compose/index.ts';
import { berth, canRunRoot, makeBusybox, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

const skip = !canRunRoot() && 'needs root';
let d: TestDaemon;
let dir: string;

const FILE = `
services:
  data:
    image: busybox
    command: ["sh", "-c", "echo shared > /shared/f && exec sleep 300"]
    volumes: ["/shared"]
  app:
    image: busybox
    command: ["sleep", "300"]
    secrets:
      - db_password
      - source: api_key
        target: api.key
        mode: 0400
    configs:
      - app_conf
      - source: inline
        target: /etc/inline.conf
    volumes_from: ["data:ro"]
    links: ["data:storage"]
    logging:
      driver: json-file
      options:
        max-size: 1m
        max-file: "2"
  quiet:
    image: busybox
    command: ["sleep", "300"]
    logging:
      driver: none
secrets:
  db_password:
    file: ./db_password.txt
  api_key:
    environment: API_KEY
configs:
  app_conf:
    file: ./app.conf
  inline:
    content: "debug=\${DEBUG:-false}"
`;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await makeBusybox(d);
  dir = await mkdtemp(join(tmpdir(), 'bt-compose-model-'));
  await writeFile(join(dir, 'compose.yaml'), FILE);
  await writeFile(join(dir, '.env'), 'API_KEY=s3cr3t\n');
  await writeFile(join(dir, 'db_password.txt'), 'hunter2\n');
  await writeFile(join(dir, 'app.conf'), 'key=value\n');
});

after(async () => {
  if (skip) return;
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

const compose = (...args: string[]) =>
  berth(d, 'compose', '-f', join(dir, 'compose.yaml'), '-p', 'cm', ...args);
const sh = async (container: string, script: string) => {
  const r = await berth(d, 'exec', container, 'sh', '-c', script);
  assert.equal(r.code, 0, `${script}: ${r.stderr}`);
  return r.stdout;
};

test('secrets, configs, volumes_from, links and logging reach the containers as Compose maps them', {
  skip,
}, async (t) => {
  t.after(() => compose('down', '-v'));
  const up = await compose('up', '-d');
  assert.equal(up.code, 0, up.stderr);

  assert.equal(await sh('cm-app-1', 'cat /run/secrets/db_password'), 'hunter2\n');
  assert.equal(await sh('cm-app-1', 'cat /run/secrets/api.key'), 's3cr3t');
  assert.equal((await sh('cm-app-1', 'stat -c %a /run/secrets/api.key')).trim(), '400');
  assert.equal(await sh('cm-app-1', 'cat /app_conf'), 'key=value\n');
  assert.equal(await sh('cm-app-1', 'cat /etc/inline.conf'), 'debug=false');
  assert.equal((await sh('cm-app-1', 'stat -c %a /etc/inline.conf')).trim(), '444');
  // File-based secrets are read-only bind mounts.
  const write = await berth(d, 'exec', 'cm-app-1', 'sh', '-c', 'echo x > /run/secrets/db_password');
  assert.notEqual(write.code, 0);

  // volumes_from data:ro: the anonymous volume is there, read-only.
  assert.equal(await sh('cm-app-1', 'cat /shared/f'), 'shared\n');
  const ro = await berth(d, 'exec', 'cm-app-1', 'sh', '-c', 'touch /shared/g');
  assert.notEqual(ro.code, 0, 'volumes_from :ro is read-only');

  // links: the alias resolves to the linked container.
  const dataIp = JSON.parse((await berth(d, 'inspect', 'cm-data-1')).stdout)[0].NetworkSettings.Networks
    .cm_default.IPAddress;
  const resolved = await sh('cm-app-1', 'nslookup storage 2>/dev/null || getent hosts storage');
  assert.match(resolved, new RegExp(dataIp.replaceAll('.', '\\.')));

  const app = JSON.parse((await berth(d, 'inspect', 'cm-app-1')).stdout)[0];
  assert.deepEqual(app.HostConfig.LogConfig, {
    Type: 'json-file',
    Config: { 'max-size': '1m', 'max-file': '2' },
  });
  const quiet = JSON.parse((await berth(d, 'inspect', 'cm-quiet-1')).stdout)[0];
  assert.equal(quiet.HostConfig.LogConfig.Type, 'none');
  assert.equal(app.HostConfig.VolumesFrom.length, 1);
  assert.match(app.HostConfig.VolumesFrom[0], /^[0-9a-f]{64}:ro$/);

  // Compose's labels.
  const labels = quiet.Config.Labels as Record<string, string>;
  const project = loadProject({ cwd: dir, env: {}, projectName: 'cm' });
  assert.equal(labels['com.docker.compose.config-hash'], serviceHash(project.services.quiet as never));
  assert.equal(labels['com.docker.compose.version'], COMPOSE_VERSION);
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels['com.docker.compose.project.config_files'], join(dir, 'compose.yaml'));
  assert.equal(labels['com.docker.compose.project.working_dir'], dir);
  assert.equal(labels['com.docker.compose.image'], quiet.Image);
  assert.equal(
    app.Config.Labels['com.docker.compose.depends_on'],
    'data:service_started:true',
    'links (then volumes_from) make data a dependency that restarts with it',
  );

  // Unchanged: nothing is recreated.
  const again = await compose('up', '-d');
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /Recreate/);
});

test('service keys berth cannot honour are refused before anything is created', { skip }, async () => {
  const file = join(dir, 'gpus.yaml');
  await writeFile(file, 'services:\n  a:\n    image: busybox\n    gpus: all\n');
  const r = await berth(d, 'compose', '-f', file, '-p', 'gp', 'up', '-d');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /GPU device requests are not supported/);
  await writeFile(
    file,
    'services:\n  a:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    external: true\n',
  );
  const e = await berth(d, 'compose', '-f', file, '-p', 'gp', 'up', '-d');
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /unsupported external secret s/);
  assert.deepEqual(
    (await d.api('GET', '/containers/json?all=1&filters={"label":["com.docker.compose.project=gp"]}')).body,
    [],
  );
});
