/**
 * The classic builder through the real docker CLI (`DOCKER_BUILDKIT=0 docker build`) against
 * berthd: image config and history, RUN output, the step cache (a rebuild runs no RUN), a
 * changed file rebuilding from its COPY on, multi-stage builds, and failures that tag nothing
 * and leave no container behind.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { canRunRoot } from '../helpers/daemon.ts';
import { buildTestBed } from '../helpers/build.ts';

describe('docker build (classic) against berthd', { skip: !canRunRoot() && 'needs root' }, () => {
  const bed = buildTestBed('bctx-');
  const dockerb = bed.docker;
  const context = bed.context;
  const inspect = async (ref: string) => {
    const r = await dockerb('image', 'inspect', ref);
    assert.equal(r.code, 0, r.stderr);
    // biome-ignore lint/suspicious/noExplicitAny: inspect output is read field by field
    return (JSON.parse(r.stdout) as Array<Record<string, any>>)[0]!;
  };

  const APP = [
    'FROM busybox',
    'ARG A=1',
    'ENV X=hello Y="a b"',
    'WORKDIR /app',
    'COPY f.txt ./',
    'RUN echo run-$X-$A > out.txt && cat f.txt',
    'LABEL k=v',
    'EXPOSE 80 53/udp',
    'VOLUME /data',
    'STOPSIGNAL SIGINT',
    'HEALTHCHECK --interval=5s --retries=2 CMD true',
    'USER 1000',
    'ENTRYPOINT ["cat"]',
    'CMD ["/app/out.txt"]',
    '',
  ].join('\n');

  test('builds a Dockerfile with Docker’s steps, config and history', async () => {
    const ctx = await context({ Dockerfile: APP, 'f.txt': 'file content\n' });
    const r = await dockerb('build', '-t', 'app:1', '-t', 'app:2', ctx);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 1\/14 : FROM busybox\n ---> [0-9a-f]{12}\n/);
    assert.match(
      r.stdout,
      /Step 6\/14 : RUN echo run-\$X-\$A > out.txt && cat f.txt\n ---> Running in [0-9a-f]{12}\nfile content\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/,
    );
    assert.match(
      r.stdout,
      /Successfully built [0-9a-f]{12}\nSuccessfully tagged app:1\nSuccessfully tagged app:2\n/,
    );
    const img = await inspect('app:1');
    const c = img.Config;
    // The builder appends the default PATH to a base without one (moby setDefaultPath).
    assert.deepEqual(c.Env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'X=hello',
      'Y=a b',
    ]);
    assert.equal(c.WorkingDir, '/app');
    assert.equal(c.User, '1000');
    assert.deepEqual(c.Entrypoint, ['cat']);
    assert.deepEqual(c.Cmd, ['/app/out.txt']);
    assert.deepEqual(c.Labels, { k: 'v' });
    assert.deepEqual(c.ExposedPorts, { '53/udp': {}, '80/tcp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Retries: 2 });
    const out = await dockerb('run', '--rm', 'app:1');
    assert.equal(out.stdout, 'run-hello-1\n');
    const h = await dockerb('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'app:1');
    const lines = h.stdout.trim().split('\n');
    assert.equal(lines[0], '/bin/sh -c #(nop)  CMD ["/app/out.txt"]');
    assert.ok(lines.includes('|1 A=1 /bin/sh -c echo run-$X-$A > out.txt && cat f.txt'), h.stdout);
    assert.ok(lines.includes('/bin/sh -c #(nop)  ENV X=hello Y=a b'), h.stdout);
    assert.equal((await dockerb('ps', '-aq')).stdout, '', 'no intermediate container is left');
  });

  test('an unchanged rebuild is all cache hits and runs no RUN; a changed file rebuilds from its COPY on', async () => {
    const ctx = await context({ Dockerfile: APP, 'f.txt': 'file content\n' });
    const first = await dockerb('build', '-t', 'cache:1', ctx);
    assert.equal(first.code, 0, first.stderr);
    const t0 = Date.now();
    const again = await dockerb('build', '-t', 'cache:1', ctx);
    const cachedMs = Date.now() - t0;
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /Running in/);
    assert.equal(again.stdout.match(/Using cache/g)?.length, 13);
    assert.equal((await inspect('cache:1')).Id, (await inspect('app:1')).Id, 'the same image as before');
    assert.ok(cachedMs < 5000, `cached build took ${cachedMs} ms`);

    await writeFile(join(ctx, 'f.txt'), 'changed\n');
    const changed = await dockerb('build', ctx);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout.match(/Using cache/g)?.length, 3, 'ARG, ENV, WORKDIR are cached');
    assert.match(changed.stdout, /Running in [0-9a-f]{12}\nchanged\n/);

    const nocache = await dockerb('build', '--no-cache', ctx);
    assert.equal(nocache.code, 0, nocache.stderr);
    assert.doesNotMatch(nocache.stdout, /Using cache/);
  });

  test('the cache survives a daemon restart', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nRUN echo once > /once\n' });
    assert.equal((await dockerb('build', ctx)).code, 0);
    await bed.d.kill();
    await bed.d.restart();
    const r = await dockerb('build', ctx);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Using cache/);
    assert.doesNotMatch(r.stdout, /Running in/);
  });

  test('multi-stage: COPY --from a stage, --target, FROM scratch, build args', async () => {
    const ctx = await context({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM $BASE AS build',
        'ARG MSG',
        'RUN mkdir /out && echo "built $MSG" > /out/result',
        'FROM scratch AS final',
        'COPY --from=build /out/result /result',
        'FROM busybox AS other',
        'RUN false',
        '',
      ].join('\n'),
    });
    const r = await dockerb('build', '--target', 'final', '--build-arg', 'MSG=yes', '-t', 'ms:1', ctx);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 5\/5 : COPY --from=build/);
    const img = await inspect('ms:1');
    assert.equal(img.RootFS.Layers.length, 1);
    const check = await dockerb('run', '--rm', '-v', `${ctx}:/ctx`, '--entrypoint', '', 'busybox', 'true');
    assert.equal(check.code, 0);
    // The scratch image holds just the file: copy it out through a child image.
    const child = await context({
      Dockerfile: 'FROM busybox\nCOPY --from=ms:1 /result /r\nCMD ["cat","/r"]\n',
    });
    assert.equal((await dockerb('build', '-t', 'ms:check', child)).code, 0);
    assert.equal((await dockerb('run', '--rm', 'ms:check')).stdout, 'built yes\n');
  });

  test('a failing RUN names the command and code, tags nothing and leaves no container', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN exit 3\n' });
    const r = await dockerb('build', '-t', 'broken:1', ctx);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
    assert.notEqual((await dockerb('image', 'inspect', 'broken:1')).code, 0);
    assert.equal((await dockerb('ps', '-aq')).stdout, '');
  });

  test('syntax errors and bad COPY sources fail with Docker’s messages', async () => {
    const bad = await dockerb('build', await context({ Dockerfile: 'FROM busybox\nBOGUS x\n' }));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /dockerfile parse error on line 2: unknown instruction: BOGUS/);
    const missing = await dockerb('build', await context({ Dockerfile: 'FROM busybox\nCOPY nope /x\n' }));
    assert.match(
      missing.stderr,
      /COPY failed: file not found in build context or excluded by \.dockerignore: stat nope: file does not exist/,
    );
    const outside = await dockerb('build', await context({ Dockerfile: 'FROM busybox\nCOPY ../x /x\n' }));
    assert.match(outside.stderr, /forbidden path outside the build context: \.\.\/x/);
  });

  test('COPY: directories, globs, --chown, --chmod and a symlink resolved inside the context', async () => {
    const ctx = await context({
      Dockerfile: [
        'FROM busybox',
        'COPY dir /d/',
        'COPY *.txt /t/',
        'COPY --chown=1:2 --chmod=600 a.txt /owned',
        'COPY link /linked',
        'RUN ls -n /d /t && stat -c "%u:%g %a" /owned && cat /linked',
        '',
      ].join('\n'),
      'dir/sub/x': 'x\n',
      'a.txt': 'a\n',
      'b.txt': 'b\n',
    });
    await import('node:fs/promises').then((fs) => fs.symlink('/a.txt', join(ctx, 'link')));
    const r = await dockerb('build', ctx);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\/d:\n[\s\S]*sub/);
    assert.match(r.stdout, /a\.txt[\s\S]*b\.txt/);
    assert.match(r.stdout, /1:2 600\n/);
    assert.match(r.stdout, /\na\n/);
  });
});
