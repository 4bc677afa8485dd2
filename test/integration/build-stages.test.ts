/**
 * Builder features beyond the single-stage classic build, through the real docker CLI
 * (`DOCKER_BUILDKIT=0 docker build`) against berthd: unused stages skipped, independent stages
 * built at the same time (shown by the stage start/finish times berthd logs), ADD from a URL
 * (served by an HTTP server on 127.0.0.1 the test starts), `--pull` and `--cache-from` with a
 * local registry, Docker's answers to BuildKit-only flags, and `--platform`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, type TestDaemon, canRunRoot, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';
import { classicDocker, contextMaker } from '../helpers/build.ts';
import { freePort, startBerthRegistry } from '../helpers/registry.ts';

describe('builder stages, remote sources, pull and cache-from', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  let d: TestDaemon;
  let ctxRoot: string;
  let http: Server;
  let base = '';
  /** What the test HTTP server answers: path → body (and headers). */
  const served = new Map<
    string,
    { body: Buffer | string; status?: number; headers?: Record<string, string> }
  >();
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    ctxRoot = await mkdtemp(join(tmpdir(), 'bstg-'));
    http = createServer((req, res) => {
      const f = served.get(req.url ?? '');
      if (!f) {
        res.writeHead(404).end('no such file\n');
        return;
      }
      res.writeHead(f.status ?? 200, f.headers ?? {}).end(f.body);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  });
  after(async () => {
    http?.closeAllConnections();
    await new Promise((r) => http?.close(r));
    await d?.stop();
    if (ctxRoot) await rm(ctxRoot, { recursive: true, force: true });
  });

  const dockerb = (...args: string[]) => classicDocker(d)(...args);
  const context = contextMaker(() => ctxRoot);
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

  test('a failing stage stops the build: its error is reported, the other stage is stopped, nothing is left', async () => {
    const before = (await dockerb('ps', '-aq')).stdout.trim();
    const r = await build(
      [
        'FROM busybox AS slow',
        'RUN sleep 5',
        'FROM busybox AS bad',
        'RUN echo failing && false',
        'FROM busybox',
        'COPY --from=slow /etc/hostname /a',
        'COPY --from=bad /etc/hostname /b',
      ],
      '-t',
      'partial:1',
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo failing && false' returned a non-zero code: 1/);
    // The held output of the failed stage was written out.
    assert.match(r.stdout, /Step 4\/7 : RUN echo failing && false\n ---> Running in [0-9a-f]+\nfailing\n/);
    assert.equal((await dockerb('image', 'inspect', 'partial:1')).code, 1);
    assert.equal((await dockerb('ps', '-aq')).stdout.trim(), before);
  });

  test('ADD <url> downloads the file: mode 0600, mtime from Last-Modified, never unpacked, named by the URL or Content-Disposition', async () => {
    const gz = (
      await run('sh', [
        '-c',
        'echo hi > /tmp/bstg-x && tar -czf - -C /tmp bstg-x | base64 -w0; rm -f /tmp/bstg-x',
      ])
    ).stdout;
    served.set('/files/hello.txt', {
      body: 'hello\n',
      headers: { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    });
    served.set('/files/data.tar.gz', { body: Buffer.from(gz, 'base64') });
    served.set('/dl/', {
      body: 'named\n',
      headers: { 'Content-Disposition': 'attachment; filename="named.txt"' },
    });
    const r = await build(
      [
        'FROM busybox',
        `ADD ${base}/files/hello.txt /dl/`,
        `ADD ${base}/files/data.tar.gz /dl/`,
        `ADD ${base}/dl/ /cd/`,
        `ADD ${base}/files/hello.txt /renamed`,
        'RUN stat -c "%a %Y %u" /dl/hello.txt /renamed && ls /dl /cd',
      ],
      '-t',
      'addurl:1',
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /600 1445412480 0\n600 1445412480 0\n/);
    assert.match(r.stdout, /\/cd:\nnamed\.txt\n/);
    assert.match(r.stdout, /\/dl:\ndata\.tar\.gz\nhello\.txt\n/);
    assert.equal(await cat('addurl:1', '/renamed'), 'hello\n');
  });

  test('ADD <url> is cached by the content it downloads', async () => {
    served.set('/v.txt', { body: 'one\n', headers: { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' } });
    const df = ['FROM busybox', `ADD ${base}/v.txt /v.txt`, 'RUN cat /v.txt'];
    const a = await build(df);
    assert.equal(a.code, 0, a.stderr);
    // Same bytes, another Last-Modified: still a cache hit (moby's content hash has no mtime).
    served.set('/v.txt', { body: 'one\n', headers: { 'Last-Modified': 'Thu, 22 Oct 2015 07:28:00 GMT' } });
    const b = await build(df);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Step 2\/3 : ADD .*\n\n? ---> Using cache/);
    assert.doesNotMatch(b.stdout, /Running in/);
    served.set('/v.txt', { body: 'two\n' });
    const c = await build(df);
    assert.equal(c.code, 0, c.stderr);
    assert.doesNotMatch(c.stdout, /Using cache/);
    assert.match(c.stdout, /two\n/);
  });

  test('ADD of a context file and a URL in one step: both copied, cached together; a changed download or --chmod misses', async () => {
    served.set('/mix.txt', { body: 'remote\n' });
    const mixed = async (chmod: string) =>
      dockerb(
        'build',
        await context({
          'local.txt': 'local\n',
          Dockerfile: `${[
            'FROM busybox',
            `ADD --chmod=${chmod} local.txt ${base}/mix.txt /m/`,
            'RUN cat /m/local.txt /m/mix.txt && stat -c "%a %n" /m/local.txt /m/mix.txt',
          ].join('\n')}\n`,
        }),
      );
    const a = await mixed('u+x');
    assert.equal(a.code, 0, a.stderr + a.stdout);
    assert.match(a.stdout, /local\nremote\n744 \/m\/local\.txt\n700 \/m\/mix\.txt\n/);
    const b = await mixed('u+x');
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Step 2\/3 : ADD .*\n\n? ---> Using cache/);
    assert.doesNotMatch(b.stdout, /Running in/);
    const c = await mixed('go+r');
    assert.equal(c.code, 0, c.stderr);
    assert.doesNotMatch(c.stdout, /Using cache/);
    assert.match(c.stdout, /644 \/m\/local\.txt\n644 \/m\/mix\.txt\n/);
    served.set('/mix.txt', { body: 'changed\n' });
    const e = await mixed('u+x');
    assert.equal(e.code, 0, e.stderr);
    assert.doesNotMatch(e.stdout, /Using cache/);
    assert.match(e.stdout, /local\nchanged\n/);
  });

  test('ADD <url> failures: an HTTP error status, a filename that cannot be found, COPY of a URL', async () => {
    const e404 = await build(['FROM busybox', `ADD ${base}/missing /x`]);
    assert.notEqual(e404.code, 0);
    assert.match(
      e404.stderr,
      new RegExp(`ADD failed: failed to GET ${base}/missing with status 404 Not Found: no such file`),
    );
    served.set('/anon/', { body: 'x' });
    const anon = await build(['FROM busybox', `ADD ${base}/anon/ /dir/`]);
    assert.match(anon.stderr, new RegExp(`ADD failed: cannot determine filename for source ${base}/anon/`));
    const unnamed = await build(
      ['FROM busybox', 'RUN mkdir /dir', `ADD ${base}/anon/ /dir`],
      '-t',
      'unnamed:1',
    );
    assert.equal(unnamed.code, 0, unnamed.stderr);
    assert.equal(await cat('unnamed:1', '/dir/__unnamed__'), 'x');
    const copy = await build(['FROM busybox', `COPY ${base}/anon/ /x`]);
    assert.match(copy.stderr, /COPY failed: source can't be a URL for COPY/);
  });

  test('ADD --checksum is checked as BuildKit does', async () => {
    served.set('/c.txt', { body: 'sum\n' });
    const sum = createHash('sha256').update('sum\n').digest('hex');
    const ok = await build(
      ['FROM busybox', `ADD --checksum=sha256:${sum} ${base}/c.txt /c.txt`],
      '-t',
      'sum:1',
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(await cat('sum:1', '/c.txt'), 'sum\n');
    const bad = await build(['FROM busybox', `ADD --checksum=sha256:${'0'.repeat(64)} ${base}/c.txt /c.txt`]);
    assert.match(bad.stderr, new RegExp(`digest mismatch sha256:${sum}: sha256:${'0'.repeat(64)}`));
    const local = await build(['FROM busybox', `ADD --checksum=sha256:${sum} Dockerfile /d`]);
    assert.match(local.stderr, /checksum requires HTTP\(S\) or Git sources/);
    const cp = await build(['FROM busybox', `COPY --checksum=sha256:${sum} Dockerfile /d`]);
    assert.match(cp.stderr, /unknown flag: --checksum/);
  });

  test("BuildKit-only flags get Docker 28's classic-builder answers; COPY --link copies as COPY", async () => {
    const mount = await build(['FROM busybox', 'RUN echo before', 'RUN --mount=type=cache,target=/c true']);
    assert.notEqual(mount.code, 0);
    // Refused when the step runs (moby dispatchRun), after the steps before it.
    assert.match(mount.stdout, /Step 3\/3 : RUN --mount=type=cache,target=\/c true\n/);
    assert.match(
      mount.stderr,
      /the --mount option requires BuildKit\. Refer to https:\/\/docs\.docker\.com\/go\/buildkit\/ to learn how to build images with BuildKit enabled/,
    );
    const net = await build(['FROM busybox', 'RUN --network=none true']);
    assert.match(net.stderr, /the --network option requires BuildKit/);
    for (const [line, flag] of [
      ['COPY --parents Dockerfile /x/', 'parents'],
      ['COPY --exclude=*.md . /x/', 'exclude'],
      ['RUN --security=insecure true', 'security'],
    ]) {
      const r = await build(['FROM busybox', line!]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`dockerfile parse error on line 2: unknown flag: --${flag}`));
    }
    const files = { 'f/a.txt': 'a\n', 'f/b/c.txt': 'c\n' };
    const link = await dockerb(
      'build',
      '-t',
      'link:1',
      await context({ ...files, Dockerfile: 'FROM busybox\nCOPY --link f /l/\nRUN find /l | sort\n' }),
    );
    const plain = await dockerb(
      'build',
      '-t',
      'plain:1',
      await context({ ...files, Dockerfile: 'FROM busybox\nCOPY f /l/\nRUN find /l | sort\n' }),
    );
    assert.equal(link.code, 0, link.stderr);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(link.stdout, /\/l\n\/l\/a\.txt\n\/l\/b\n\/l\/b\/c\.txt\n/);
    assert.equal(await cat('link:1', '/l/b/c.txt'), await cat('plain:1', '/l/b/c.txt'));
  });

  test('COPY --chmod takes an octal or a symbolic mode, as BuildKit', async () => {
    const ctx = await context({
      'f.txt': 'f\n',
      'd/x.sh': 'x\n',
      Dockerfile: [
        'FROM busybox',
        'COPY --chmod=u+x,go-w f.txt /f',
        'COPY --chmod=a+X d /d',
        'COPY --chmod=0640 f.txt /o',
        'RUN stat -c "%a %n" /f /d /d/x.sh /o',
      ].join('\n'),
    });
    await run('chmod', ['666', join(ctx, 'f.txt')]);
    await run('chmod', ['644', join(ctx, 'd', 'x.sh')]);
    await run('chmod', ['700', join(ctx, 'd')]);
    const r = await dockerb('build', ctx);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // The destination directory itself is created 0755, as the classic builder creates it.
    assert.match(r.stdout, /\n744 \/f\n755 \/d\n644 \/d\/x\.sh\n640 \/o\n/);
    const bad = await build(['FROM busybox', 'COPY --chmod=99999 Dockerfile /x']);
    assert.match(
      bad.stderr,
      /invalid chmod parameter: '99999'\. it should be octal string and between 0 and 07777/,
    );
  });

  test('--platform: the host platform builds, another is refused clearly', async () => {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const other = arch === 'amd64' ? 'linux/arm64' : 'linux/amd64';
    const ok = await build(['FROM busybox', 'RUN true'], '--platform', `linux/${arch}`);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await build(['FROM busybox', 'RUN true'], '--platform', other);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, new RegExp(`building for platform ${other} is not supported`));
    const from = await build([`FROM --platform=linux/${arch} busybox`, 'RUN true']);
    assert.equal(from.code, 0, from.stderr);
    const fromBad = await build(['ARG P=' + other, 'FROM --platform=$P busybox', 'RUN true']);
    assert.notEqual(fromBad.code, 0);
    assert.match(fromBad.stderr, new RegExp(`building for platform ${other} is not supported`));
  });

  test('FROM pulls a missing image; --pull pulls even a present one', async (t) => {
    const reg = await startBerthRegistry();
    t.after(() => reg.stop());
    const ref = `${reg.address}/lib/base:1`;
    // The registry's base:1 has /v; the local base:1 is plain busybox.
    const v2 = await build(['FROM busybox', 'RUN echo v2 > /v'], '-t', ref);
    assert.equal(v2.code, 0, v2.stderr);
    const push = await dockerb('push', ref);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await dockerb('tag', 'busybox', ref)).code, 0);
    const df = [`FROM ${ref}`, 'RUN cat /v 2>/dev/null || echo none'];
    const local = await build(df, '--no-cache');
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /\nnone\n/);
    const pulled = await build(df, '--no-cache', '--pull');
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`Step 1/2 : FROM ${ref}\\n1: Pulling from lib/base\\n`));
    assert.match(pulled.stdout, /\nv2\n/);
    // Missing locally: pulled without --pull.
    assert.equal((await dockerb('rmi', '-f', ref)).code, 0);
    const missing = await build(df, '--no-cache');
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stdout, /\nv2\n/);
    // A missing image that cannot be pulled fails the build with the pull's error.
    const nope = await build([`FROM ${reg.address}/lib/nope:1`]);
    assert.notEqual(nope.code, 0);
    assert.match(nope.stderr, /manifest unknown/);
  });

  test('--cache-from reuses the steps of a pulled image without the local cache', async (t) => {
    const reg = await startBerthRegistry();
    t.after(() => reg.stop());
    const ref = `${reg.address}/lib/app:1`;
    const files = {
      Dockerfile:
        'FROM busybox\nRUN echo $RANDOM$RANDOM > /stamp\nENV A=1\nCOPY f /f\nRUN cat /f\nCMD ["cat", "/stamp"]\n',
      f: 'file\n',
    };
    const first = await dockerb('build', '-t', ref, await context(files));
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await dockerb('push', ref)).code, 0);
    const id = (await dockerb('image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim();
    const stamp = await cat(ref, '/stamp');
    // Forget everything local: the image, its parents, the cache records; pull it back.
    assert.equal((await dockerb('rmi', ref)).code, 0);
    assert.equal((await dockerb('builder', 'prune', '-f')).code, 0);
    assert.equal((await dockerb('pull', ref)).code, 0);
    const reused = await dockerb('build', '--cache-from', ref, '-t', 'reused:1', await context(files));
    assert.equal(reused.code, 0, reused.stderr);
    assert.equal([...reused.stdout.matchAll(/Using cache/g)].length, 5, reused.stdout);
    assert.doesNotMatch(reused.stdout, /Running in/);
    assert.equal((await dockerb('image', 'inspect', '-f', '{{.Id}}', 'reused:1')).stdout.trim(), id);
    assert.equal(await cat('reused:1', '/stamp'), stamp);
    // A changed file: the steps before it still come from the image, the rest run.
    const changed = await dockerb('build', '--cache-from', ref, await context({ ...files, f: 'other\n' }));
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal([...changed.stdout.matchAll(/Using cache/g)].length, 2, changed.stdout);
    assert.match(changed.stdout, /Running in [0-9a-f]+\nother\n/);
    // Without --cache-from (and no local cache), the RUN steps run again.
    await dockerb('builder', 'prune', '-f');
    const cold = await dockerb('build', await context(files));
    assert.equal(cold.code, 0, cold.stderr);
    assert.doesNotMatch(cold.stdout, /Using cache/);
  });

  test('berth build: coloured with a summary on a terminal (under script(1)), plain without one', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nRUN echo hi\n' });
    const plain = await run(process.execPath, [BERTH, '-H', d.host, 'build', '-t', 'tty:1', ctx]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stdout, /\x1b\[/);
    assert.match(plain.stdout, /^Step 1\/2 : FROM busybox\n/);
    assert.match(plain.stdout, /Successfully tagged tty:1\n$/);
    const cmd = `env -u NO_COLOR TERM=xterm ${process.execPath} ${BERTH} -H ${d.host} build -t tty:1 ${ctx}`;
    const tty = await run('script', ['-qfec', cmd, '/dev/null']);
    assert.equal(tty.code, 0, tty.stderr + tty.stdout);
    assert.match(tty.stdout, /\x1b\[1m\x1b\[36mStep 2\/2\x1b\[39m\x1b\[22m : \x1b\[1mRUN echo hi\x1b\[22m/);
    assert.match(tty.stdout, /\x1b\[32mUsing cache\x1b\[39m/);
    assert.match(
      tty.stdout,
      /Built [0-9a-f]{12}\x1b\[39m\x1b\[22m in \d+\.\ds: 2 steps, 1 from cache, tagged tty:1\r?\n/,
    );
  });

  test('resource options apply to the RUN containers: --memory, --cpu-shares, --ulimit, --add-host, --shm-size', async () => {
    const r = await build(
      ['FROM busybox', 'RUN ulimit -n; grep myhost /etc/hosts; df -k /dev/shm | tail -1'],
      ...['--rm=false', '--memory', '64m', '--cpu-shares', '512', '--ulimit', 'nofile=512:512'],
      ...['--add-host', 'myhost:10.1.2.3', '--shm-size', '8m'],
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\n512\n10\.1\.2\.3\s+myhost\n\S+\s+8192\s/);
    // The intermediate container kept by --rm=false carries the limits.
    const id = /Running in ([0-9a-f]+)/.exec(r.stdout)![1]!;
    const hc = await dockerb('inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}', id);
    assert.equal(hc.stdout.trim(), '67108864 512');
    assert.equal((await dockerb('rm', id)).code, 0);
    const bad = await build(['FROM busybox'], '--isolation', 'hyperv');
    assert.match(bad.stderr, /unsupported isolation: "hyperv"/);
  });

  test('POST /build?remote=: a tar or a lone Dockerfile from a URL, a git repository with #ref:subdir', async (t) => {
    const buildRemote = async (remote: string, tag: string) => {
      const r = await d.api('POST', `/build?remote=${encodeURIComponent(remote)}&t=${tag}`);
      return { status: r.status, text: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
    };
    const tgz = await run('sh', [
      '-c',
      `d=$(mktemp -d) && printf 'FROM busybox\\nCOPY f /f\\n' > $d/Dockerfile && echo from-tar > $d/f && tar -czf - -C $d . | base64 -w0; rm -rf $d`,
    ]);
    served.set('/ctx.tgz', {
      body: Buffer.from(tgz.stdout, 'base64'),
      headers: { 'Content-Type': 'application/x-gzip' },
    });
    const a = await buildRemote(`${base}/ctx.tgz`, 'remote-tar:1');
    assert.equal(a.status, 200);
    assert.match(a.text, /Successfully tagged remote-tar:1/);
    assert.equal(await cat('remote-tar:1', '/f'), 'from-tar\n');
    served.set('/Dockerfile', { body: 'FROM busybox\nRUN echo lone > /lone\n' });
    const b = await buildRemote(`${base}/Dockerfile`, 'remote-df:1');
    assert.match(b.text, /Successfully tagged remote-df:1/);
    assert.equal(await cat('remote-df:1', '/lone'), 'lone\n');
    const viaCli = await run(process.execPath, [
      BERTH,
      '-H',
      d.host,
      'build',
      '-t',
      'remote-cli:1',
      `${base}/Dockerfile`,
    ]);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.match(viaCli.stdout, /Successfully tagged remote-cli:1/);
    served.set('/page', { body: '<html></html>', headers: { 'Content-Type': 'text/html' } });
    const c = await buildRemote(`${base}/page`, 'x:1');
    assert.match(c.text, /unsupported Content-Type \\?"text\/html\\?"/);

    if ((await run('sh', ['-c', 'command -v git'])).code !== 0) return t.skip('needs git');
    const repo = join(ctxRoot, 'git');
    const sh = (cmd: string) => run('sh', ['-c', cmd], { env: { HOME: ctxRoot, GIT_CONFIG_NOSYSTEM: '1' } });
    const init = await sh(
      `set -e; mkdir -p ${repo}/src/app.git && cd ${repo}/src/app.git && git init -q -b main . && mkdir sub && ` +
        `printf 'FROM busybox\\nCOPY g /g\\n' > sub/Dockerfile && echo from-git > sub/g && ` +
        'git add . && git -c user.name=t -c user.email=t@t commit -qm one',
    );
    assert.equal(init.code, 0, init.stderr);
    const port = await freePort();
    const daemon = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        '--export-all',
        `--base-path=${repo}/src`,
        '--listen=127.0.0.1',
        `--port=${port}`,
      ],
      // Its own process group: `git daemon` runs git-daemon as a child, and both must go.
      { stdio: 'ignore', detached: true },
    );
    t.after(() => {
      try {
        process.kill(-daemon.pid!, 'SIGKILL');
      } catch {}
    });
    for (let i = 0; i < 50 && (await sh(`git ls-remote git://127.0.0.1:${port}/app.git`)).code !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const g = await buildRemote(`git://127.0.0.1:${port}/app.git#main:sub`, 'remote-git:1');
    assert.match(g.text, /Successfully tagged remote-git:1/, g.text);
    assert.equal(await cat('remote-git:1', '/g'), 'from-git\n');
    const bad = await buildRemote(`git://127.0.0.1:${port}/app.git#nope`, 'x:1');
    assert.match(bad.text, /error fetching: /);
  });
});
