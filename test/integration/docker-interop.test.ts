/**
 * Interop with real Docker: `berth save` output loads into a private dockerd (Debian's docker.io,
 * test/helpers/dockerd.ts) and runs there with the same content, and `docker save` output (the
 * classic layout dockerd 20.10 writes) loads into berthd and runs. An image ID is the digest of
 * its config, so it is the same on both sides, as are the layer diff IDs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, berth, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';
import { type TestDockerd, hasDockerd, startDockerd } from '../helpers/dockerd.ts';

const skip =
  (!canRunRoot() && 'needs root') || (!hasDockerd() && 'needs dockerd (apt-get install docker.io)');

describe('berth and Docker load each other’s saved images', { skip }, () => {
  let d: TestDaemon;
  let dk: TestDockerd;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    dk = await startDockerd();
  });
  after(async () => {
    // Each stop runs even when the other throws.
    try {
      await dk?.stop();
    } finally {
      await d?.stop();
    }
  });

  const inspect = async (
    run: (...a: string[]) => Promise<{ code: number; stdout: string; stderr: string }>,
    ref: string,
  ) => {
    const r = await run('image', 'inspect', ref);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout)[0] as {
      Id: string;
      RootFS: { Layers: string[] };
      Config: { Cmd: string[]; Env: string[] };
    };
  };

  test('berth save output loads into dockerd: same ID and layers, runs with the same content', async () => {
    // A two-layer image: busybox plus a commit that adds a file and deletes one (a whiteout).
    const c = await docker(
      d,
      'run',
      '--name',
      'src1',
      'busybox',
      'sh',
      '-c',
      'echo from-berth > /marker && rm /bin/true',
    );
    assert.equal(c.code, 0, c.stderr);
    const commit = await docker(
      d,
      'commit',
      '-c',
      'ENV FROM=berth',
      '-c',
      'CMD ["cat","/marker"]',
      'src1',
      'interop/berth:v1',
    );
    assert.equal(commit.code, 0, commit.stderr);
    const mine = await inspect((...a) => docker(d, ...a), 'interop/berth:v1');

    const file = join(dk.dir, 'berth-save.tar');
    const save = await berth(d, 'save', '-o', file, 'interop/berth:v1');
    assert.equal(save.code, 0, save.stderr);
    const load = await dk.docker('load', '-i', file);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: interop\/berth:v1/);

    const theirs = await inspect(dk.docker, 'interop/berth:v1');
    assert.equal(theirs.Id, mine.Id);
    assert.deepEqual(theirs.RootFS.Layers, mine.RootFS.Layers);
    assert.deepEqual(theirs.Config.Cmd, ['cat', '/marker']);

    const r = await dk.docker('run', '--rm', '--network', 'none', 'interop/berth:v1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-berth\n');
    const r2 = await dk.docker(
      'run',
      '--rm',
      '--network',
      'none',
      'interop/berth:v1',
      'sh',
      '-c',
      'echo $FROM; test -e /bin/true && echo present || echo gone; busybox | head -1 | cut -d" " -f1',
    );
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout, 'berth\ngone\nBusyBox\n');
  });

  test('docker save output (classic layout) loads into berthd: same ID and layers, and runs', async () => {
    // dockerd adds its own layer on top of what berth made: a new file and a deletion.
    const c = await dk.docker(
      'run',
      '--name',
      'src2',
      '--network',
      'none',
      'interop/berth:v1',
      'sh',
      '-c',
      'echo from-docker > /d && rm /marker && mkdir -p /opt/x && echo deep > /opt/x/y',
    );
    assert.equal(c.code, 0, c.stderr);
    const commit = await dk.docker(
      'commit',
      '-c',
      'CMD ["cat","/d","/opt/x/y"]',
      'src2',
      'interop/docker:v1',
    );
    assert.equal(commit.code, 0, commit.stderr);
    assert.equal((await dk.docker('rm', 'src2')).code, 0);
    const theirs = await inspect(dk.docker, 'interop/docker:v1');

    const file = join(dk.dir, 'docker-save.tar');
    const save = await dk.docker('save', '-o', file, 'interop/docker:v1');
    assert.equal(save.code, 0, save.stderr);
    const names = execFileSync('tar', ['-tf', file]).toString().split('\n');
    // dockerd 20.10's classic layout: <config digest>.json, <v1 id>/layer.tar, no OCI index.
    assert.ok(names.includes(`${theirs.Id.slice(7)}.json`), names.join(' '));
    assert.ok(names.some((n) => n.endsWith('/layer.tar')));
    assert.ok(!names.includes('index.json'));

    const load = await berth(d, 'load', '-i', file);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: interop\/docker:v1/);
    const mine = await inspect((...a) => docker(d, ...a), 'interop/docker:v1');
    assert.equal(mine.Id, theirs.Id);
    assert.deepEqual(mine.RootFS.Layers, theirs.RootFS.Layers);
    assert.equal(mine.RootFS.Layers.length, 3);

    const r = await docker(d, 'run', '--rm', 'interop/docker:v1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from-docker\ndeep\n');
    const r2 = await docker(
      d,
      'run',
      '--rm',
      'interop/docker:v1',
      'sh',
      '-c',
      'echo $FROM; test -e /marker && echo marker || echo no-marker; test -e /bin/true || echo no-true',
    );
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout, 'berth\nno-marker\nno-true\n');
  });

  test('an image that went berth → Docker → berth keeps its ID', async () => {
    const original = await inspect((...a) => docker(d, ...a), 'interop/berth:v1');
    const file = join(dk.dir, 'roundtrip.tar');
    assert.equal((await dk.docker('save', '-o', file, 'interop/berth:v1')).code, 0);
    assert.equal((await docker(d, 'rm', '-f', 'src1')).code, 0);
    const rmi = await docker(d, 'rmi', 'interop/berth:v1');
    assert.equal(rmi.code, 0, rmi.stderr);
    const load = await docker(d, 'load', '-i', file);
    assert.equal(load.code, 0, load.stderr);
    const back = await inspect((...a) => docker(d, ...a), 'interop/berth:v1');
    assert.equal(back.Id, original.Id);
    assert.deepEqual(back.RootFS.Layers, original.RootFS.Layers);
  });
});
