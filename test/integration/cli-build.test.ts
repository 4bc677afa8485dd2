/**
 * `berth build` against a real berthd: the context is tarred by the CLI with .dockerignore
 * applied, -t/-q/--iidfile/--build-arg work, and a Dockerfile can come from stdin.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BERTH,
  type TestDaemon,
  berth,
  canRunRoot,
  docker,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

describe('berth build', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let ctx: string;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    ctx = await mkdtemp(join(tmpdir(), 'bt-ctx-'));
    await writeFile(
      join(ctx, 'Dockerfile'),
      'FROM busybox\nARG WHO=nobody\nCOPY . /ctx/\nRUN echo "hi $WHO" > /hello\nCMD ["cat", "/hello"]\n',
    );
    await writeFile(join(ctx, 'keep.txt'), 'keep\n');
    await writeFile(join(ctx, 'secret.txt'), 'secret\n');
    await writeFile(join(ctx, '.dockerignore'), 'secret.txt\n');
  });
  after(async () => {
    await d?.stop();
    if (ctx) await rm(ctx, { recursive: true, force: true });
  });

  test('a directory context honours .dockerignore, tags and build args', async () => {
    const iid = join(ctx, '..', `${ctx.split('/').pop()}.iid`);
    const b = await berth(d, 'build', '-t', 'built:v1', '--build-arg', 'WHO=berth', '--iidfile', iid, ctx);
    assert.equal(b.code, 0, b.stderr + b.stdout);
    assert.match(b.stdout, /Step 1\/5 : FROM busybox/);
    assert.match(b.stdout, /Successfully tagged built:v1/);
    const id = await readFile(iid, 'utf8');
    await rm(iid);
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const out = await docker(d, 'run', '--rm', 'built:v1');
    assert.equal(out.stdout, 'hi berth\n');
    const files = await docker(d, 'run', '--rm', 'built:v1', 'ls', '-A', '/ctx');
    assert.deepEqual(files.stdout.trim().split('\n').sort(), ['.dockerignore', 'Dockerfile', 'keep.txt']);
  });

  test('-q prints only the image id and a Dockerfile can come from stdin', async () => {
    const r = await run(process.execPath, [BERTH, '-H', d.host, 'build', '-q', '-f', '-', ctx], {
      input: 'FROM busybox\nRUN echo stdin > /s\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[a-f0-9]{64}\n$/);
  });
});
