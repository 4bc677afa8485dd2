/**
 * save, load and commit through the real docker CLI against berthd, plus skopeo-made archives and
 * the bad-input cases (traversal, corrupted layers).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packTar } from '../../src/common/index.ts';
import { type TestDaemon, canRunRoot, docker, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';

async function tarBytes(entries: Array<{ name: string; body: string | Buffer }>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of packTar(
    entries.map((e) => ({
      header: { name: e.name, type: 'file' as const, mode: 0o644, size: Buffer.byteLength(e.body) },
      body: e.body,
    })),
  ))
    chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('save, load and commit', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('docker save writes an OCI layout with manifest.json that docker load reads back', async () => {
    const id = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', 'busybox')).stdout.trim();
    const file = join(d.dir, 'bb.tar');
    const save = await docker(d, 'save', '-o', file, 'busybox');
    assert.equal(save.code, 0, save.stderr);
    const list = execFileSync('tar', ['-tf', file]).toString();
    for (const name of ['oci-layout', 'index.json', 'manifest.json', 'repositories']) {
      assert.ok(list.split('\n').includes(name), `${name} in ${list}`);
    }
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json']).toString());
    assert.deepEqual(manifest[0].RepoTags, ['busybox:latest']);
    assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);
    assert.equal((await docker(d, 'rmi', 'busybox')).code, 0);
    const load = await docker(d, 'load', '-i', file);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: busybox:latest/);
    assert.equal((await docker(d, 'image', 'inspect', '-f', '{{.Id}}', 'busybox')).stdout.trim(), id);
    const r = await docker(d, 'run', '--rm', 'busybox', 'echo', 'loaded');
    assert.equal(r.stdout.trim(), 'loaded', r.stderr);
  });

  test('a gzip-compressed archive loads', async () => {
    const file = join(d.dir, 'bb.tar');
    await run('sh', ['-c', `gzip -c ${file} > ${file}.gz`]);
    const load = await docker(d, 'load', '-i', `${file}.gz`);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: busybox:latest/);
  });

  test('commit makes a new layer with the change and the -c config, on top of the parent', async () => {
    const run1 = await docker(
      d,
      'run',
      '--name',
      'c1',
      'busybox',
      'sh',
      '-c',
      'echo hello > /greeting && rm /bin/true',
    );
    assert.equal(run1.code, 0, run1.stderr);
    const c = await docker(
      d,
      'commit',
      '-m',
      'a message',
      '-a',
      'me',
      '-c',
      'ENV A=b',
      '-c',
      'CMD ["cat","/greeting"]',
      'c1',
      'committed:v1',
    );
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^sha256:[0-9a-f]{64}/);
    const layers = JSON.parse(
      (await docker(d, 'image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'committed:v1')).stdout,
    );
    const base = JSON.parse(
      (await docker(d, 'image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'busybox')).stdout,
    );
    assert.equal(layers.length, base.length + 1);
    const out = await docker(d, 'run', '--rm', 'committed:v1');
    assert.equal(out.stdout.trim(), 'hello', out.stderr);
    const env = await docker(
      d,
      'run',
      '--rm',
      'committed:v1',
      'sh',
      '-c',
      'echo $A; test -e /bin/true && echo present || echo gone',
    );
    assert.equal(env.stdout.trim(), 'b\ngone');
    const meta = await docker(d, 'image', 'inspect', '-f', '{{.Author}}|{{.Comment}}', 'committed:v1');
    assert.equal(meta.stdout.trim(), 'me|a message');
    const hist = await docker(d, 'history', '--no-trunc', '--format', '{{.Comment}}', 'committed:v1');
    assert.match(hist.stdout, /a message/);
  });

  test('commit of a running container pauses it and keeps it running', async () => {
    const r = await docker(d, 'run', '-d', '--name', 'c2', 'busybox', 'sh', '-c', 'echo x > /x; sleep 30');
    assert.equal(r.code, 0, r.stderr);
    const c = await docker(d, 'commit', 'c2', 'committed:v2');
    assert.equal(c.code, 0, c.stderr);
    const state = await docker(d, 'inspect', '-f', '{{.State.Running}}', 'c2');
    assert.equal(state.stdout.trim(), 'true');
    await docker(d, 'rm', '-f', 'c2');
  });

  test('an OCI layout written by skopeo loads', {
    skip: !existsSync('/usr/bin/skopeo') && 'needs skopeo',
  }, async () => {
    const file = join(d.dir, 'bb2.tar');
    assert.equal((await docker(d, 'save', '-o', file, 'busybox')).code, 0);
    const oci = join(d.dir, 'oci-archive.tar');
    const copy = await run('skopeo', [
      'copy',
      '--insecure-policy',
      `docker-archive:${file}`,
      `oci-archive:${oci}:skopeo/bb:v9`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const load = await docker(d, 'load', '-i', oci);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: skopeo\/bb:v9/);
    const r = await docker(d, 'run', '--rm', 'skopeo/bb:v9', 'echo', 'from-skopeo');
    assert.equal(r.stdout.trim(), 'from-skopeo', r.stderr);
  });

  test('an archive whose manifest points outside it is refused', async () => {
    const bad = await tarBytes([
      {
        name: 'manifest.json',
        body: JSON.stringify([{ Config: '../../../etc/passwd', RepoTags: ['x:y'], Layers: [] }]),
      },
    ]);
    const file = join(d.dir, 'bad.tar');
    await writeFile(file, bad);
    const load = await docker(d, 'load', '-i', file);
    assert.notEqual(load.code, 0);
    assert.match(load.stderr, /outside the archive/);
  });

  test('an archive entry named ../x is refused and nothing is written outside', async () => {
    const bad = await tarBytes([{ name: '../../escaped-by-load', body: 'x' }]);
    const file = join(d.dir, 'bad2.tar');
    await writeFile(file, bad);
    const load = await docker(d, 'load', '-i', file);
    assert.notEqual(load.code, 0);
    assert.equal(existsSync(join(d.dataRoot, 'escaped-by-load')), false);
    assert.equal(existsSync(join(d.dataRoot, '..', 'escaped-by-load')), false);
  });

  test('a layer that does not match its diff ID is refused and no image is recorded', async () => {
    // A layer nothing else has (a present chain would be reused without reading the file).
    await writeFile(join(d.dir, 'solo-rootfs.tar'), await tarBytes([{ name: 'only-here', body: 'solo' }]));
    assert.equal((await docker(d, 'import', join(d.dir, 'solo-rootfs.tar'), 'solo:v1')).code, 0);
    const file = join(d.dir, 'solo.tar');
    assert.equal((await docker(d, 'save', '-o', file, 'solo:v1')).code, 0);
    assert.equal((await docker(d, 'rmi', 'solo:v1')).code, 0);
    const dir = join(d.dir, 'corrupt');
    await mkdir(dir, { recursive: true });
    execFileSync('tar', ['-xf', file, '-C', dir]);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const layer = join(dir, manifest[0].Layers[0]);
    await writeFile(layer, await tarBytes([{ name: 'evil', body: 'not the real layer' }]));
    manifest[0].RepoTags = ['corrupt:latest'];
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    execFileSync('tar', ['-cf', join(d.dir, 'corrupt.tar'), '-C', dir, '.']);
    const before = (await docker(d, 'images', '-q')).stdout;
    const load = await docker(d, 'load', '-i', join(d.dir, 'corrupt.tar'));
    assert.notEqual(load.code, 0);
    assert.match(load.stderr + load.stdout, /(diff ID|digest) mismatch/);
    assert.equal((await docker(d, 'images', '-q')).stdout, before);
    assert.notEqual((await docker(d, 'image', 'inspect', 'corrupt:latest')).code, 0);
  });
});
