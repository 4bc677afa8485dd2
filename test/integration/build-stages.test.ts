/**
 * Builder features beyond the single-stage classic build, through the real docker CLI
 * (`DOCKER_BUILDKIT=0 docker build`) against berthd: unused stages skipped, independent stages
 * built at the same time (shown by the stage start/finish times berthd logs), ADD from a URL
 * (served by an HTTP server on 127.0.0.1 the test starts), `--pull` and `--cache-from` with a
 * local registry, Docker's answers to BuildKit-only flags, and `--platform`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';

describe('builder stages, remote sources, pull and cache-from', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  let d: TestDaemon;
  let ctxRoot: string;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    ctxRoot = await mkdtemp(join(tmpdir(), 'bstg-'));
  });
  after(async () => {
    await d?.stop();
    if (ctxRoot) await rm(ctxRoot, { recursive: true, force: true });
  });

  const dockerb = (...args: string[]) =>
    run('docker', ['-H', d.host, ...args], {
      env: { DOCKER_CONFIG: join(d.dir, 'docker-config'), DOCKER_BUILDKIT: '0' },
    });
  let n = 0;
  const context = async (files: Record<string, string>) => {
    const dir = join(ctxRoot, String(n++));
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    return dir;
  };
  const build = async (dockerfile: string[], ...args: string[]) =>
    dockerb('build', ...args, await context({ Dockerfile: `${dockerfile.join('\n')}\n` }));
  const cat = async (image: string, path: string) => {
    const r = await dockerb('run', '--rm', image, 'cat', path);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  /** `build stage started/finished` records berthd logged, with their times. */
  const stageLog = async () => {
    const text = await readFile(join(d.dir, 'berthd.log'), 'utf8');
    return text
      .split('\n')
      .filter((l) => l.includes('"build stage '))
      .map((l) => JSON.parse(l) as { msg: string; name?: string; stage: number; at: number });
  };

  test('a stage the target does not use is not built, even one that would fail', async () => {
    const df = [
      'FROM busybox AS broken',
      'RUN false',
      'FROM busybox AS used',
      'RUN echo used > /u',
      'FROM busybox',
      'COPY --from=used /u /u',
    ];
    const r = await build(df, '-t', 'skip:1');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.doesNotMatch(r.stdout, /RUN false/);
    // Steps are numbered over the stages built: 2 + 2.
    assert.match(r.stdout, /Step 1\/4 : FROM busybox AS used\n/);
    assert.match(r.stdout, /Step 4\/4 : COPY --from=used \/u \/u\n/);
    assert.equal(await cat('skip:1', '/u'), 'used\n');
    // --target picks the broken stage: it is built, and fails.
    const t = await build(df, '--target', 'broken');
    assert.notEqual(t.code, 0);
    assert.match(t.stderr + t.stdout, /The command '\/bin\/sh -c false' returned a non-zero code: 1/);
  });

  test('independent stages are built at the same time and their output is not interleaved', async () => {
    const df = [
      'FROM busybox AS one',
      'RUN sleep 1 && echo one > /one',
      'FROM busybox AS two',
      'RUN sleep 1 && echo two > /two',
      'FROM busybox',
      'COPY --from=one /one /one',
      'COPY --from=two /two /two',
    ];
    const r = await build(df, '-t', 'par:1');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await cat('par:1', '/two'), 'two\n');
    // Output is that of a sequential build: steps 1..7 in order.
    const steps = [...r.stdout.matchAll(/^Step (\d+)\/7 /gm)].map((m) => Number(m[1]));
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7]);
    const oneIdx = r.stdout.indexOf('Step 2/7');
    assert.ok(r.stdout.indexOf('Step 3/7') > r.stdout.indexOf('Removing intermediate container', oneIdx));
    // Overlap: each of the two stages started before the other finished.
    let records: Awaited<ReturnType<typeof stageLog>> = [];
    for (let i = 0; i < 50; i++) {
      records = (await stageLog()).filter((x) => x.name === 'one' || x.name === 'two');
      if (records.filter((x) => x.msg === 'build stage finished').length >= 2) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const at = (name: string, msg: string) => records.findLast((x) => x.name === name && x.msg === msg)!.at;
    assert.ok(at('one', 'build stage started') < at('two', 'build stage finished'));
    assert.ok(at('two', 'build stage started') < at('one', 'build stage finished'));
  });
});
