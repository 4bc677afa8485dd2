/**
 * The classic builder's step cache, seen from outside through the real docker CLI: a fully
 * cached rebuild runs no container (no container event) and writes nothing (no entry is created
 * or removed among layers, snapshots or containers — a directory's mtime moves with any such
 * change, so even a snapshot prepared and removed again would show); a changed file rebuilds
 * exactly the steps from its COPY on; `--chown`/`--chmod` are part of a COPY's key; the context's
 * `.dockerignore` is applied on the daemon as moby's classic builder applies it (to
 * `.dockerignore` and the Dockerfile only), shown with a raw tar sent to POST /build. The ratio
 * cached/cold of a 10-step build is printed as a diagnostic (speed is never asserted).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canRunRoot } from '../helpers/daemon.ts';
import { buildTestBed } from '../helpers/build.ts';

describe('the build cache (classic builder) against berthd', { skip: !canRunRoot() && 'needs root' }, () => {
  const bed = buildTestBed('bcache-');
  const dockerb = bed.docker;
  const context = bed.context;
  const build = async (...args: string[]) => {
    const r = await dockerb('build', ...args);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  /** The steps (by number) that printed `Using cache`. */
  const cachedSteps = (out: string) =>
    [...out.matchAll(/Step (\d+)\/\d+ : [^\n]*\n(?: ---> Using cache\n)?/g)]
      .filter((m) => m[0].includes('Using cache'))
      .map((m) => Number(m[1]));
  /** Modification times of the directories whose entries are layers, image configs, snapshots and containers. */
  const storeStamps = async () => {
    const dirs = [
      'image/layers',
      'image/blobs/sha256',
      'snapshots/layers',
      'snapshots/containers',
      'containers',
    ];
    const out: Record<string, number> = {};
    for (const rel of dirs) out[rel] = (await stat(join(bed.d.dataRoot, rel))).mtimeMs;
    return out;
  };
  /** Container events between two instants (ms since the epoch), as `create`, `start`, …. */
  const containerEvents = async (fromMs: number, toMs: number) => {
    const r = await dockerb(
      'events',
      '--since',
      String(Math.floor(fromMs / 1000) - 1),
      '--until',
      String(Math.ceil(toMs / 1000) + 1),
      '--filter',
      'type=container',
      '--format',
      '{{.TimeNano}} {{.Action}}',
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string])
      .filter(([ns]) => Number(BigInt(ns) / 1_000_000n) >= fromMs && Number(BigInt(ns) / 1_000_000n) <= toMs)
      .map(([, action]) => action);
  };

  const TEN = [
    'FROM busybox',
    'ENV A=1',
    'WORKDIR /app',
    'COPY src/ /app/src/',
    'RUN echo built > /app/run.txt',
    'LABEL x=y',
    'EXPOSE 80',
    'COPY late.txt /app/',
    'USER 1000',
    'CMD ["cat", "/app/late.txt"]',
    '',
  ].join('\n');
  const tenFiles = () => {
    const files: Record<string, string> = { Dockerfile: TEN, 'late.txt': 'v0\n' };
    for (let i = 0; i < 20; i++) files[`src/f${i}.txt`] = `${'x'.repeat(2000)}${i}\n`;
    return files;
  };

  test('a fully cached rebuild runs no container and writes no layer, image, snapshot or container', async () => {
    const ctx = await context(tenFiles());
    const cold = await build('-t', 'ten:1', ctx);
    assert.match(cold, /Running in/);
    // docker history sizes are the layers' sizes, counted as moby's directory.Size does (file
    // and symlink sizes; directories count nothing): 10 × 2002 + 10 × 2003 bytes, 3, 6.
    const history = (await bed.d.api('GET', '/images/ten:1/history')).body as Array<{
      CreatedBy: string;
      Size: number;
    }>;
    const sizeOf = (re: RegExp) => history.find((h) => re.test(h.CreatedBy))?.Size;
    assert.equal(sizeOf(/COPY dir:/), 40050);
    assert.equal(sizeOf(/COPY file:/), 3);
    assert.equal(sizeOf(/echo built/), 6);
    assert.equal(sizeOf(/LABEL x=y/), 0);
    const before = await storeStamps();
    const since = Date.now();
    const again = await build('-t', 'ten:1', ctx);
    const until = Date.now();
    assert.deepEqual(cachedSteps(again), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.doesNotMatch(again, /Running in|Removing intermediate/);
    assert.deepEqual(await storeStamps(), before, 'no entry created or removed in the stores');
    assert.deepEqual(await containerEvents(since, until), [], 'no container event');
    // The window does see a build's containers: a --no-cache build's RUN.
    const t0 = Date.now();
    await build('--no-cache', ctx);
    assert.deepEqual(await containerEvents(t0, Date.now()), ['create', 'start', 'die', 'destroy']);
  });

  test('a cached COPY --from mounts nothing; a changed source stage still misses', async () => {
    const df = (v: string) =>
      [
        'FROM busybox AS src',
        `RUN mkdir /out && echo ${v} > /out/a && echo b > /out/b`,
        'FROM busybox',
        'COPY --from=src /out/ /o/',
        'COPY --from=busybox /bin/true /t',
        'RUN cat /o/a',
        '',
      ].join('\n');
    const ctx = await context({ Dockerfile: df('v0') });
    await build('-t', 'from:1', ctx);
    const before = await storeStamps();
    const again = await build('-t', 'from:1', ctx);
    assert.deepEqual(cachedSteps(again), [2, 4, 5, 6]);
    assert.deepEqual(await storeStamps(), before, 'no snapshot prepared to hash the --from sources');
    await writeFile(join(ctx, 'Dockerfile'), df('v1'));
    const changed = await build('-t', 'from:1', ctx);
    assert.deepEqual(
      cachedSteps(changed),
      [],
      'the new source stage changes /o/a, and so every later parent',
    );
    assert.match(changed, /\nv1\n/);
  });

  test('changing one file rebuilds exactly the steps from its COPY on, and only writes their layer', async () => {
    const files = tenFiles();
    const ctx = await context(files);
    await build('-t', 'ten:2', ctx);
    const layers = (await stat(join(bed.d.dataRoot, 'image/layers'))).mtimeMs;
    await writeFile(join(ctx, 'late.txt'), 'v1\n');
    const since = Date.now();
    const out = await build('-t', 'ten:2', ctx);
    const until = Date.now();
    assert.deepEqual(cachedSteps(out), [2, 3, 4, 5, 6, 7], 'steps before COPY late.txt hit the cache');
    assert.doesNotMatch(out, /Running in/);
    assert.notEqual((await stat(join(bed.d.dataRoot, 'image/layers'))).mtimeMs, layers, 'a new COPY layer');
    assert.deepEqual(await containerEvents(since, until), [], 'the RUN before the change is not run again');
    const r = await dockerb('run', '--rm', 'ten:2');
    assert.equal(r.stdout, 'v1\n');

    // A file under the first COPY: everything from step 4 on is rebuilt, the RUN included.
    await writeFile(join(ctx, 'src/f3.txt'), 'changed\n');
    const out2 = await build('-t', 'ten:2', ctx);
    assert.deepEqual(cachedSteps(out2), [2, 3]);
    assert.match(out2, /Running in/);
  });

  test('--chown and --chmod are part of a COPY step’s cache key; the file’s mtime is not', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nCOPY a.txt /a\n', 'a.txt': 'a\n' });
    await build(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY --chown=1:1 a.txt /a\n');
    assert.deepEqual(cachedSteps(await build(ctx)), []);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY --chown=1:1 --chmod=600 a.txt /a\n');
    assert.deepEqual(cachedSteps(await build(ctx)), []);
    assert.deepEqual(cachedSteps(await build(ctx)), [2]);
    // Touching the file (same bytes) keeps the cache, as Docker's tarsum leaves mtime out.
    execFileSync('touch', ['-d', '2001-01-01', join(ctx, 'a.txt')]);
    assert.deepEqual(cachedSteps(await build(ctx)), [2]);
  });

  test('a raw tar context: .dockerignore removes only itself and the Dockerfile, as moby does', async () => {
    const dir = await context({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN find /ctx | sort\n',
      '.dockerignore': 'secret.txt\nsub/\n.dockerignore\nDockerfile\n',
      'secret.txt': 's\n',
      'keep.txt': 'k\n',
      'sub/a': 'a\n',
    });
    const tar = execFileSync('tar', ['-C', dir, '-cf', '-', '.']);
    const text = await postBuild(bed.d.socket, '/v1.41/build?rm=1', tar);
    const stream = text
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { stream?: string }).stream ?? '')
      .join('');
    // What dockerd 20.10's classic builder prints for the same tar: excluded files the client
    // did not leave out stay visible; the excluded .dockerignore and Dockerfile do not.
    assert.match(
      stream,
      /\n\/ctx\n\/ctx\/keep\.txt\n\/ctx\/secret\.txt\n\/ctx\/sub\n\/ctx\/sub\/a\n/,
      stream,
    );

    // Not excluded: both stay in the context.
    await writeFile(join(dir, '.dockerignore'), 'secret.txt\n');
    const tar2 = execFileSync('tar', ['-C', dir, '-cf', '-', '.']);
    const stream2 = await postBuild(bed.d.socket, '/v1.41/build?rm=1', tar2);
    assert.match(stream2, /\/ctx\/\.dockerignore\\n/);
    assert.match(stream2, /\/ctx\/Dockerfile\\n/);
  });

  test('diagnostic: cached/cold ratio of a 10-step build', async (t) => {
    const ctx = await context(tenFiles());
    const timed = async (...args: string[]) => {
      const t0 = performance.now();
      await build(...args);
      return performance.now() - t0;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const cold: number[] = [];
    for (let i = 0; i < 3; i++) cold.push(await timed('--no-cache', '-t', 'ratio', ctx));
    const cached: number[] = [];
    for (let i = 0; i < 5; i++) cached.push(await timed('-t', 'ratio', ctx));
    const c = median(cold);
    const k = median(cached);
    t.diagnostic(
      `10-step build: cold ${c.toFixed(0)} ms, cached ${k.toFixed(0)} ms, cached/cold ${((100 * k) / c).toFixed(1)}% (medians of 3 and 5, docker CLI included)`,
    );
  });
});

/** POST of a raw tar body; resolves with the response text. */
function postBuild(socket: string, path: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method: 'POST',
        path,
        headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
