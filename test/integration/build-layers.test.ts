/**
 * Build steps commit their snapshot's upper dir as the layer directory (no pack-and-unpack), and
 * COPY reads context files from the spooled context tar (the context is never unpacked). Seen
 * from outside: deletions and replaced directories of a RUN are whiteouts and opaque directories
 * later steps and containers respect; the layer directories carry none of overlay's bookkeeping
 * xattrs and only whole-second times (as a layer unpacked from its tar); `docker save` gives
 * layer tars that hash to the image's diff IDs; `--rm=false` keeps the RUN container with its
 * changes; COPY keeps modes and applies --chown/--chmod to the copies only.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { listXattrs } from '../../src/platform/index.ts';
import { buildTestBed } from '../helpers/build.ts';
import { canRunRoot, run } from '../helpers/daemon.ts';

describe('build layers committed in place', { skip: !canRunRoot() && 'needs root' }, () => {
  const bed = buildTestBed('blayers-');
  const dockerb = bed.docker;
  const context = bed.context;
  const build = async (...args: string[]) => {
    const r = await dockerb('build', ...args);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const inImage = async (image: string, script: string) => {
    const r = await dockerb('run', '--rm', image, 'sh', '-c', script);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** Every path under the layer directories of an image, walked. */
  const layerEntries = async (image: string) => {
    const r = await dockerb('image', 'inspect', '--format', '{{json .RootFS.Layers}}', image);
    const diffIds = JSON.parse(r.stdout) as string[];
    let chain = '';
    const out: string[] = [];
    for (const diffId of diffIds) {
      chain =
        chain === '' ? diffId : `sha256:${createHash('sha256').update(`${chain} ${diffId}`).digest('hex')}`;
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const p = join(dir, name);
          out.push(p);
          if (lstatSync(p).isDirectory()) walk(p);
        }
      };
      walk(join(bed.d.dataRoot, 'snapshots', 'layers', chain.slice(7)));
    }
    return out;
  };

  test('RUN deletions and replaced directories are whiteouts and opaque dirs; layer dirs look unpacked', async () => {
    const ctx = await context({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /d/sub && echo a > /d/sub/a && echo k > /d/keep',
        'RUN rm /d/keep /bin/true && rm -rf /d/sub && mkdir /d/sub && echo b > /d/sub/b',
        'RUN echo c > /d/sub/c',
        '',
      ].join('\n'),
    });
    await build('-t', 'layers:1', ctx);
    assert.equal(
      await inImage('layers:1', 'ls -A /d; ls -A /d/sub; test -e /bin/true && echo true; true'),
      'sub\nb\nc\n',
    );
    let opaque = 0;
    for (const p of await layerEntries('layers:1')) {
      const names = listXattrs(p);
      assert.deepEqual(
        names.filter((n) => n.startsWith('trusted.overlay.') && n !== 'trusted.overlay.opaque'),
        [],
        `${p} carries overlay bookkeeping`,
      );
      if (names.includes('trusted.overlay.opaque')) opaque++;
      assert.equal(
        lstatSync(p, { bigint: true }).mtimeNs % 1_000_000_000n,
        0n,
        `${p} has a whole-second mtime`,
      );
    }
    assert.ok(opaque >= 1, 'the recreated /d/sub is opaque');
  });

  test('docker save gives layer tars that hash to the diff IDs', async () => {
    const ctx = await context({
      Dockerfile: 'FROM busybox\nWORKDIR /w\nCOPY f /w/\nRUN echo r > /w/r && rm /w/f\n',
      f: 'f\n',
    });
    await build('-t', 'layers:2', ctx);
    const out = join(bed.ctxRoot, 'save');
    assert.equal((await dockerb('save', '-o', `${out}.tar`, 'layers:2')).code, 0);
    await run('mkdir', ['-p', out]);
    await run('tar', ['-xf', `${out}.tar`, '-C', out]);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Array<{
      Config: string;
      Layers: string[];
    }>;
    const config = JSON.parse(await readFile(join(out, manifest[0]!.Config), 'utf8'));
    const hashes = [];
    for (const l of manifest[0]!.Layers) {
      hashes.push(
        `sha256:${createHash('sha256')
          .update(await readFile(join(out, l)))
          .digest('hex')}`,
      );
    }
    assert.deepEqual(hashes, config.rootfs.diff_ids);
  });

  test('--rm=false keeps the RUN container with its changes', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nRUN echo kept > /kept\n' });
    const outText = await build('--rm=false', '-t', 'layers:3', ctx);
    const id = /Running in ([0-9a-f]{12})/.exec(outText)?.[1];
    assert.ok(id, outText);
    const diff = await dockerb('diff', id);
    assert.match(diff.stdout, /^A \/kept$/m);
    assert.equal(await inImage('layers:3', 'cat /kept'), 'kept\n');
    await dockerb('rm', '-f', id);
  });

  test('COPY keeps modes from the context and applies --chown/--chmod to the copies only', async () => {
    const ctx = await context({ 'x.sh': 'x\n', 'd/y': 'y\n', 'd/e/z': 'z\n' });
    await run('chmod', ['4755', join(ctx, 'x.sh')]);
    await run('chmod', ['600', join(ctx, 'd', 'y')]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox',
        'COPY x.sh d /a/',
        'COPY --chown=12:34 --chmod=640 x.sh /b/x.sh',
        'COPY --chown=5:6 d /c/',
        'COPY x.sh d /e/',
        '',
      ].join('\n'),
    );
    await build('-t', 'layers:4', ctx);
    assert.equal(
      await inImage(
        'layers:4',
        'stat -c "%a %u:%g %n" /a/x.sh /a/y /a/e/z /b/x.sh /c/y /c/e /c/e/z /e/x.sh /e/y; cat /a/e/z /c/y',
      ),
      [
        '4755 0:0 /a/x.sh',
        '600 0:0 /a/y',
        '644 0:0 /a/e/z',
        '640 12:34 /b/x.sh',
        '600 5:6 /c/y',
        '755 5:6 /c/e',
        '644 5:6 /c/e/z',
        '4755 0:0 /e/x.sh',
        '600 0:0 /e/y',
        'z',
        'y',
        '',
      ].join('\n'),
    );
  });
});
