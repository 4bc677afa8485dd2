/**
 * Volumes and mounts through the real docker CLI: named volumes outliving containers,
 * --volumes-from, copy-up of image content, :ro, binds, tmpfs, --mount, volume verbs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type TestDaemon, canRunRoot, docker, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';

const execFileP = promisify(execFile);

/** An image with busybox, /data/hello.txt (owned 123:45, dir mode 0750) and VOLUME /data. */
async function makeVolumeImage(d: TestDaemon): Promise<void> {
  const root = join(d.dir, 'volimg');
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'data'), { recursive: true });
  await execFileP('cp', ['/bin/busybox', join(root, 'bin', 'busybox')]);
  for (const a of ['sh', 'cat', 'ls', 'echo', 'stat', 'touch']) {
    await execFileP('ln', ['-s', 'busybox', join(root, 'bin', a)]);
  }
  await writeFile(join(root, 'data', 'hello.txt'), 'from the image\n');
  await execFileP('chown', ['-R', '123:45', join(root, 'data')]);
  await execFileP('chmod', ['0750', join(root, 'data')]);
  const tar = join(d.dir, 'volimg.tar');
  await execFileP('tar', ['-C', root, '-cf', tar, '.']);
  const r = await run(
    'sh',
    ['-c', `docker -H ${d.host} import --change 'VOLUME /data' --change 'CMD ["sh"]' - volimg < ${tar}`],
    { env: { DOCKER_CONFIG: join(d.dir, 'docker-config') } },
  );
  assert.equal(r.code, 0, r.stderr);
}

describe('volumes and mounts', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    await makeVolumeImage(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('data written to a named volume by one container is read by a later one', async () => {
    const w = await docker(d, 'run', '--rm', '-v', 'shared:/v', 'busybox', 'sh', '-c', 'echo kept > /v/f');
    assert.equal(w.code, 0, w.stderr);
    const r = await docker(d, 'run', '--rm', '-v', 'shared:/v', 'busybox', 'cat', '/v/f');
    assert.equal(r.stdout, 'kept\n', r.stderr);
    const ls = await docker(d, 'volume', 'ls', '--format', '{{.Driver}} {{.Name}}');
    assert.match(ls.stdout, /^local shared$/m);
  });

  test('--volumes-from shares the volumes of another container, :ro makes them read-only', async () => {
    const src = await docker(d, 'create', '--name', 'vsrc', '-v', 'vf:/shared', 'busybox', 'true');
    assert.equal(src.code, 0, src.stderr);
    const w = await docker(
      d,
      'run',
      '--rm',
      '--volumes-from',
      'vsrc',
      'busybox',
      'sh',
      '-c',
      'echo x > /shared/y',
    );
    assert.equal(w.code, 0, w.stderr);
    const r = await docker(
      d,
      'run',
      '--rm',
      '--volumes-from',
      'vsrc:ro',
      'busybox',
      'sh',
      '-c',
      'cat /shared/y; echo z > /shared/z',
    );
    assert.equal(r.stdout, 'x\n');
    assert.match(r.stderr, /Read-only file system/);
    assert.notEqual(r.code, 0);
    assert.equal((await docker(d, 'rm', 'vsrc')).code, 0);
  });

  test("a new volume over an image directory starts with the image's files, owner and mode", async () => {
    const r = await docker(
      d,
      'run',
      '--rm',
      '-v',
      'copied:/data',
      'volimg',
      'sh',
      '-c',
      'cat /data/hello.txt; stat -c "%u:%g %a" /data /data/hello.txt',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from the image\n123:45 750\n123:45 644\n');
    const insp = JSON.parse((await docker(d, 'volume', 'inspect', 'copied')).stdout)[0];
    assert.equal(await readFile(join(insp.Mountpoint, 'hello.txt'), 'utf8'), 'from the image\n');
  });

  test('nocopy leaves a new volume empty', async () => {
    const r = await docker(d, 'run', '--rm', '-v', 'nocp:/data:nocopy', 'volimg', 'ls', '-A', '/data');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  test("the image's VOLUME becomes an anonymous volume that rm -v removes", async () => {
    const c = await docker(d, 'create', 'volimg', 'cat', '/data/hello.txt');
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const mounts = JSON.parse((await docker(d, 'inspect', '-f', '{{json .Mounts}}', id)).stdout);
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0].Type, 'volume');
    assert.equal(mounts[0].Destination, '/data');
    assert.match(mounts[0].Name, /^[0-9a-f]{64}$/);
    const start = await docker(d, 'start', '-a', id);
    assert.equal(start.stdout, 'from the image\n');
    const rm = await docker(d, 'rm', '-v', id);
    assert.equal(rm.code, 0, rm.stderr);
    const ls = await docker(d, 'volume', 'ls', '-q');
    assert.doesNotMatch(ls.stdout, new RegExp(mounts[0].Name));
  });

  test('run --rm removes the anonymous volumes of the container, not the named ones', async () => {
    const earlier = (await docker(d, 'volume', 'ls', '-q')).stdout;
    const r = await docker(d, 'run', '--rm', '-v', 'keptnamed:/k', 'volimg', 'ls', '/data');
    assert.equal(r.stdout, 'hello.txt\n', r.stderr);
    const later = (await docker(d, 'volume', 'ls', '-q')).stdout;
    assert.deepEqual(
      later.split('\n').filter((n) => n !== '' && !earlier.includes(n)),
      ['keptnamed'],
    );
  });

  test('-v binds a host directory (created when missing); :ro is read-only', async () => {
    const host = join(d.dir, 'bind-src', 'deep');
    const w = await docker(d, 'run', '--rm', '-v', `${host}:/b`, 'busybox', 'sh', '-c', 'echo hi > /b/f');
    assert.equal(w.code, 0, w.stderr);
    assert.equal(await readFile(join(host, 'f'), 'utf8'), 'hi\n');
    const ro = await docker(
      d,
      'run',
      '--rm',
      '-v',
      `${host}:/b:ro`,
      'busybox',
      'sh',
      '-c',
      'cat /b/f; echo no > /b/g',
    );
    assert.equal(ro.stdout, 'hi\n');
    assert.match(ro.stderr, /Read-only file system/);
  });

  test('--mount type=bind needs an existing source; a relative source is refused', async () => {
    const missing = await docker(
      d,
      'run',
      '--rm',
      '--mount',
      `type=bind,source=${join(d.dir, 'nope')},target=/x`,
      'busybox',
      'true',
    );
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /bind source path does not exist/);
    const rel = await docker(
      d,
      'run',
      '--rm',
      '--mount',
      'type=bind,source=rel/path,target=/x',
      'busybox',
      'true',
    );
    assert.equal(rel.code, 125);
    assert.match(rel.stderr, /must be absolute/);
    const ok = await docker(
      d,
      'run',
      '--rm',
      '--mount',
      `type=bind,source=${d.dir},target=/x,readonly`,
      'busybox',
      'sh',
      '-c',
      'grep " /x " /proc/mounts',
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\/x \S+ ro,/);
  });

  test('--mount type=volume and type=tmpfs, and --tmpfs, are mounted with their options', async () => {
    const r = await docker(
      d,
      'run',
      '--rm',
      '--mount',
      'type=volume,source=mv,target=/mv,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m',
      '--mount',
      'type=tmpfs,target=/t1,tmpfs-size=2m,tmpfs-mode=1770',
      '--tmpfs',
      '/t2:size=3m',
      'busybox',
      'sh',
      '-c',
      'grep -E " /(mv|t1|t2) " /proc/mounts; stat -c %a /t1',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tmpfs \/mv tmpfs rw.*size=1024k/m);
    assert.match(r.stdout, /^tmpfs \/t1 tmpfs rw,nosuid,nodev,noexec.*size=2048k/m);
    assert.match(r.stdout, /^tmpfs \/t2 tmpfs rw,nosuid,nodev,noexec.*size=3072k/m);
    assert.match(r.stdout, /^1770$/m);
    const insp = JSON.parse((await docker(d, 'volume', 'inspect', 'mv')).stdout)[0];
    assert.deepEqual(insp.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  });

  test('volume create/inspect/ls filters/rm/prune as Docker', async () => {
    const c = await docker(
      d,
      'volume',
      'create',
      '--label',
      'team=a',
      '-o',
      'type=tmpfs',
      '-o',
      'device=tmpfs',
      'lv',
    );
    assert.equal(c.stdout, 'lv\n', c.stderr);
    const insp = JSON.parse((await docker(d, 'volume', 'inspect', 'lv')).stdout)[0];
    assert.equal(insp.Name, 'lv');
    assert.equal(insp.Driver, 'local');
    assert.equal(insp.Scope, 'local');
    assert.deepEqual(insp.Labels, { team: 'a' });
    assert.equal(insp.Mountpoint, join(d.dataRoot, 'volumes', 'lv', '_data'));
    assert.match(insp.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const gen = await docker(d, 'volume', 'create');
    assert.match(gen.stdout, /^[0-9a-f]{64}\n$/);

    const byLabel = await docker(d, 'volume', 'ls', '-q', '--filter', 'label=team=a');
    assert.equal(byLabel.stdout, 'lv\n');
    const byName = await docker(d, 'volume', 'ls', '-q', '--filter', 'name=hare');
    assert.equal(byName.stdout, 'shared\n');
    const dangling = await docker(d, 'volume', 'ls', '-q', '--filter', 'dangling=true');
    assert.match(dangling.stdout, /^lv$/m);

    const bad = await docker(d, 'volume', 'create', 'a/b');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /includes invalid characters for a local volume name/);

    await docker(d, 'create', '--name', 'user1', '-v', 'lv:/x', 'busybox', 'true');
    const inUse = await docker(d, 'volume', 'rm', 'lv');
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /remove lv: volume is in use - \[[0-9a-f]{64}\]/);
    assert.equal((await docker(d, 'volume', 'rm', '-f', 'lv')).code, 1);
    assert.equal((await docker(d, 'rm', 'user1')).code, 0);
    assert.equal((await docker(d, 'volume', 'rm', 'lv')).stdout, 'lv\n');
    assert.equal((await docker(d, 'volume', 'rm', '-f', 'never-existed')).code, 0);
    const missing = await docker(d, 'volume', 'inspect', 'never-existed');
    assert.match(missing.stderr, /no such volume/);

    const prune = await docker(d, 'volume', 'prune', '-f');
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(prune.stdout, /Total reclaimed space/);
    assert.equal(
      (await docker(d, 'volume', 'ls', '-q')).stdout,
      '',
      'API 1.41 prune removes every unused volume',
    );
  });
});
