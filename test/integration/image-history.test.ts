/**
 * `history` and `image prune` through the real docker CLI against berthd, and berth's own CLI
 * printing the same history table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, berth, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

describe('image history and prune', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let busyboxId: string;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    busyboxId = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', 'busybox')).stdout.trim();
    const r = await docker(
      d,
      'run',
      '--name',
      'h1',
      'busybox',
      'sh',
      '-c',
      'head -c 300000 /dev/zero > /blob',
    );
    assert.equal(r.code, 0, r.stderr);
    const c = await docker(d, 'commit', '-m', 'three hundred k', 'h1', 'hist:v1');
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await docker(d, 'rm', 'h1')).code, 0);
  });
  after(async () => {
    await d?.stop();
  });

  test('docker history shows each layer’s size, the image and its parent’s IDs, then <missing>', async () => {
    const id = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', 'hist:v1')).stdout.trim();
    const size = Number((await docker(d, 'image', 'inspect', '-f', '{{.Size}}', 'hist:v1')).stdout);
    const h = await docker(
      d,
      'history',
      '--no-trunc',
      '--human=false',
      '--format',
      '{{.ID}}|{{.Size}}|{{.Comment}}',
      'hist:v1',
    );
    assert.equal(h.code, 0, h.stderr);
    const rows = h.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    const [top, parent] = rows;
    assert.equal(top?.[0], id);
    assert.equal(top?.[2], 'three hundred k');
    // The committed layer holds the 300000-byte file (plus directory entries).
    assert.ok(Number(top?.[1]) >= 300_000 && Number(top?.[1]) < 400_000, top?.[1]);
    assert.equal(parent?.[0], busyboxId);
    assert.ok(Number(parent?.[1]) > 500_000, `busybox layer: ${parent?.[1]}`);
    for (const r of rows.slice(2)) assert.equal(r[0], '<missing>');
    // Layer sizes add up to the image size.
    assert.equal(
      rows.reduce((s, r) => s + Number(r[1]), 0),
      size,
    );
    const table = await docker(d, 'history', 'hist:v1');
    assert.match(table.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
    assert.match(table.stdout, /\s300kB\s+three hundred k\n/);
  });

  test('berth history prints what docker history prints', async () => {
    for (const args of [
      ['--human=false', 'hist:v1'],
      ['--no-trunc', '--human=false', 'hist:v1'],
      ['-q', 'hist:v1'],
      ['--format', '{{.ID}} {{.Size}} {{json .CreatedBy}}', 'hist:v1'],
    ]) {
      const theirs = await docker(d, 'history', ...args);
      const mine = await berth(d, 'history', ...args);
      assert.equal(mine.code, 0, mine.stderr);
      assert.equal(mine.stdout, theirs.stdout, args.join(' '));
    }
    const mine = await berth(d, 'image', 'history', 'hist:v1');
    assert.match(mine.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[0-9a-f]{12}\s+\S.* ago\s/);
  });

  test('image prune removes dangling images only; -a removes every image no container uses', async () => {
    // A dangling image (an untagged commit) and a tagged one, both unused.
    const r = await docker(d, 'run', '--name', 'p1', 'busybox', 'sh', '-c', 'echo x > /x');
    assert.equal(r.code, 0, r.stderr);
    const dangling = (await docker(d, 'commit', 'p1')).stdout.trim();
    assert.match(dangling, /^sha256:/);
    assert.equal((await docker(d, 'rm', 'p1')).code, 0);
    // busybox stays in use by a container.
    assert.equal((await docker(d, 'create', '--name', 'keep', 'busybox', 'true')).code, 0);

    const p = await docker(d, 'image', 'prune', '-f');
    assert.equal(p.code, 0, p.stderr);
    // The image, then its layer (Docker lists removed layers as `deleted` too); the layer holds `x\n`.
    assert.match(
      p.stdout,
      new RegExp(
        `^Deleted Images:\\ndeleted: ${dangling}\\ndeleted: sha256:[0-9a-f]{64}\\n\\nTotal reclaimed space: 2B\\n$`,
      ),
    );
    assert.notEqual((await docker(d, 'image', 'inspect', dangling)).code, 0);
    assert.equal((await docker(d, 'image', 'inspect', 'hist:v1')).code, 0);

    const again = await docker(d, 'image', 'prune', '-f');
    assert.equal(again.stdout, 'Total reclaimed space: 0B\n');

    const all = await berth(d, 'image', 'prune', '-a', '-f');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /untagged: hist:v1\ndeleted: sha256:/);
    assert.match(all.stdout, /Total reclaimed space: 3\d\d(\.\d+)?kB\n$/);
    assert.notEqual((await docker(d, 'image', 'inspect', 'hist:v1')).code, 0);
    assert.equal((await docker(d, 'image', 'inspect', 'busybox')).code, 0, 'in use: kept');

    const filtered = await docker(d, 'image', 'prune', '-a', '-f', '--filter', 'until=1h');
    assert.equal(filtered.code, 0, filtered.stderr);
    const bad = await docker(d, 'image', 'prune', '-f', '--filter', 'nope=1');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid filter 'nope'/);
  });
});
