/**
 * `docker system df` and the prunes (`system prune`, `container prune`, `image prune`) through
 * the real docker CLI against berthd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, apiCall, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

async function ok(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await docker(d, ...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('system df and prune', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('system df counts images, containers, volumes and their sizes; -v lists each', async () => {
    await ok(
      d,
      'run',
      '--name',
      'dfw',
      '-v',
      'dfvol:/v',
      'busybox',
      'sh',
      '-c',
      'head -c 100000 /dev/zero > /f; head -c 50000 /dev/zero > /v/g',
    );
    const out = await ok(d, 'system', 'df');
    assert.match(out, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/m);
    assert.match(out, /^Images\s+1\s+1\s+1\.98\dMB\s+0B \(0%\)$/m);
    assert.match(out, /^Containers\s+1\s+0\s+100kB\s+100kB \(100%\)$/m);
    assert.match(out, /^Local Volumes\s+1\s+1\s+50kB\s+0B \(0%\)$/m);
    assert.match(out, /^Build Cache\s+0\s+0\s+0B\s+0B$/m);
    const v = await ok(d, 'system', 'df', '-v');
    assert.match(v, /^busybox\s+latest\s+[0-9a-f]{12}\s+.*\s1$/m);
    assert.match(v, /^[0-9a-f]{12}\s+busybox\s+"sh -c head.*\s1\s+100kB\s.*Exited \(0\).*dfw$/m);
    assert.match(v, /^dfvol\s+1\s+50kB$/m);
    const api = (await apiCall(d.socket, 'GET', '/system/df')).body as {
      LayersSize: number;
      Images: Array<{ Size: number; SharedSize: number; Containers: number }>;
      Containers: Array<{ SizeRw: number; SizeRootFs: number }>;
      Volumes: Array<{ UsageData: { Size: number; RefCount: number } }>;
    };
    assert.equal(api.Images[0]?.Containers, 1);
    assert.equal(api.LayersSize, api.Images[0]?.Size);
    assert.equal(api.Containers[0]?.SizeRw, 100000);
    assert.equal(api.Containers[0]?.SizeRootFs, 100000 + (api.Images[0]?.Size ?? 0));
    assert.deepEqual(api.Volumes[0]?.UsageData, { Size: 50000, RefCount: 1 });
    const fmt = await ok(d, 'system', 'df', '--format', '{{.Type}}={{.TotalCount}}');
    assert.equal(fmt, 'Images=1\nContainers=1\nLocal Volumes=1\nBuild Cache=0\n');
    await ok(d, 'rm', 'dfw');
    await ok(d, 'volume', 'rm', 'dfvol');
  });

  test('container prune removes stopped containers only, honouring label and until filters', async () => {
    await ok(d, 'create', '--name', 'pa', '--label', 'keep=yes', 'busybox', 'true');
    await ok(d, 'create', '--name', 'pb', 'busybox', 'true');
    await ok(d, 'run', '-d', '--name', 'prun', 'busybox', 'sleep', '60');
    const none = await ok(d, 'container', 'prune', '-f', '--filter', 'until=1h');
    assert.equal(none, 'Total reclaimed space: 0B\n');
    const out = await ok(d, 'container', 'prune', '-f', '--filter', 'label!=keep=yes');
    const kept = (await ok(d, 'inspect', '--format', '{{.Id}}', 'pa')).trim();
    assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n$/);
    assert.doesNotMatch(out, new RegExp(kept));
    const left = await ok(d, 'ps', '-a', '--format', '{{.Names}}');
    assert.deepEqual(left.trim().split('\n').sort(), ['pa', 'prun']);
    await ok(d, 'rm', '-f', 'pa', 'prun');
  });

  test('image prune removes dangling images; -a every image no container uses', async () => {
    await ok(d, 'create', '--name', 'ic', 'busybox', 'true');
    // A dangling image: a commit without a tag; a tagged unused one: a commit with a tag.
    const dangling = (await ok(d, 'commit', '--change', 'LABEL x=1', 'ic')).trim();
    const tagged = (await ok(d, 'commit', '--change', 'LABEL x=2', 'ic', 'keepme:v1')).trim();
    const out = await ok(d, 'image', 'prune', '-f');
    assert.equal(out, `Deleted Images:\ndeleted: ${dangling}\n\nTotal reclaimed space: 0B\n`);
    const labelled = await ok(d, 'image', 'prune', '-a', '-f', '--filter', 'label=x=3');
    assert.equal(labelled, 'Total reclaimed space: 0B\n');
    const all = await ok(d, 'image', 'prune', '-a', '-f');
    assert.match(all, new RegExp(`untagged: keepme:v1\ndeleted: ${tagged}`));
    // busybox is used by container ic: kept.
    const imgs = await ok(d, 'images', '--format', '{{.Repository}}');
    assert.equal(imgs, 'busybox\n');
    await ok(d, 'rm', 'ic');
  });

  test('system prune: stopped containers, unused networks, dangling images; --volumes and -a', async () => {
    await ok(d, 'network', 'create', 'prnet');
    await ok(d, 'create', '--name', 'sc', '-v', 'spvol:/v', 'busybox', 'true');
    const out = await ok(d, 'system', 'prune', '-f');
    assert.match(
      out,
      /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nprnet\n\nTotal reclaimed space: \S+\n$/,
    );
    const vols = await ok(d, 'volume', 'ls', '-q');
    assert.equal(vols, 'spvol\n');
    const withVolumes = await ok(d, 'system', 'prune', '-f', '--volumes', '-a');
    assert.match(withVolumes, /Deleted Volumes:\nspvol\n/);
    assert.match(withVolumes, /Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:[0-9a-f]{64}\n/);
    assert.match(withVolumes, /Total reclaimed space: 1\.98\dMB\n$/);
    assert.equal(await ok(d, 'images', '-q'), '');
    await makeBusybox(d);
  });

  test('prune rejects unknown filters as Docker does', async () => {
    const r = await docker(d, 'container', 'prune', '-f', '--filter', 'bogus=1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid filter 'bogus'/);
    const u = await docker(d, 'image', 'prune', '-f', '--filter', 'until=yesterday');
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /failed to parse value as time or duration/);
  });
});
