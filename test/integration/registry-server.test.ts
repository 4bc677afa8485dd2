/**
 * berth's registry server (`berth registry serve`) against real clients: the docker CLI through
 * berthd, skopeo (copy to an OCI layout and back, inspect), and raw HTTP for the protocol edges.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BERTH,
  type TestDaemon,
  canRunRoot,
  docker,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';
import { startBerthRegistry, type TestRegistry } from '../helpers/registry.ts';

const hasSkopeo = existsSync('/usr/bin/skopeo');
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('berth registry server', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let authReg: TestRegistry;
  let tokenReg: TestRegistry;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    reg = await startBerthRegistry({ delete: true });
    const hp = await run('htpasswd', ['-Bbn', 'bob', 'pw']);
    const file = join(d.dir, 'htpasswd');
    await writeFile(file, hp.stdout);
    authReg = await startBerthRegistry({ htpasswd: file });
    tokenReg = await startBerthRegistry({ htpasswd: file, tokenAuth: true });
  });
  after(async () => {
    await reg?.stop();
    await authReg?.stop();
    await tokenReg?.stop();
    await d?.stop();
  });

  test('the docker CLI pushes to it and pulls back the same image', async () => {
    const ref = `${reg.address}/lib/busybox:1`;
    await docker(d, 'tag', 'busybox', ref);
    const push = await docker(d, 'push', ref);
    assert.equal(push.code, 0, push.stderr);
    const id = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim();
    await docker(d, 'rmi', ref);
    const pull = await docker(d, 'pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal((await docker(d, 'image', 'inspect', '-f', '{{.Id}}', ref)).stdout.trim(), id);
  });

  test('skopeo copies from it to an OCI layout and back with equal digests, and inspects it', {
    skip: !hasSkopeo && 'needs skopeo',
  }, async () => {
    const layout = join(d.dir, 'layout');
    const src = `docker://${reg.address}/lib/busybox:1`;
    const a = await run('skopeo', [
      'copy',
      '--insecure-policy',
      '--src-tls-verify=false',
      src,
      `oci:${layout}:v1`,
    ]);
    assert.equal(a.code, 0, a.stderr);
    const b = await run('skopeo', [
      'copy',
      '--insecure-policy',
      '--dest-tls-verify=false',
      `oci:${layout}:v1`,
      `docker://${reg.address}/copy/busybox:2`,
    ]);
    assert.equal(b.code, 0, b.stderr);
    const i1 = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', src])).stdout);
    const i2 = JSON.parse(
      (await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.address}/copy/busybox:2`]))
        .stdout,
    );
    // skopeo converts the Docker manifest to OCI on the way into the layout; what comes back must
    // be that OCI manifest byte for byte, over the same layer blobs.
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    assert.equal(i2.Digest, index.manifests[0].digest);
    assert.deepEqual(i2.Layers, i1.Layers);
    assert.equal(i1.Os, 'linux');
    const tags = JSON.parse(
      (await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${reg.address}/copy/busybox`]))
        .stdout,
    );
    assert.deepEqual(tags.Tags, ['2']);
  });

  test('blobs serve byte ranges, tags and catalog page with Link', async () => {
    const base = `http://${reg.address}`;
    for (const t of ['a', 'b', 'c']) await docker(d, 'tag', 'busybox', `${reg.address}/page/x:${t}`);
    for (const t of ['a', 'b', 'c'])
      assert.equal((await docker(d, 'push', `${reg.address}/page/x:${t}`)).code, 0);
    const r1 = await fetch(`${base}/v2/page/x/tags/list?n=2`);
    assert.deepEqual(await r1.json(), { name: 'page/x', tags: ['a', 'b'] });
    assert.match(r1.headers.get('link') ?? '', /last=b.*rel="next"/);
    const r2 = await fetch(`${base}/v2/page/x/tags/list?n=2&last=b`);
    assert.deepEqual(await r2.json(), { name: 'page/x', tags: ['c'] });
    const cat = (await (await fetch(`${base}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(cat.repositories.includes('page/x') && cat.repositories.includes('lib/busybox'));
    const m = await fetch(`${base}/v2/page/x/manifests/a`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    const manifest = (await m.json()) as { layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers[0]!;
    const part = await fetch(`${base}/v2/page/x/blobs/${layer.digest}`, {
      headers: { range: 'bytes=10-19' },
    });
    assert.equal(part.status, 206);
    assert.equal(Buffer.from(await part.arrayBuffer()).length, 10);
  });

  test('a chunked upload with a wrong digest is refused and stores nothing', async () => {
    const base = `http://${reg.address}`;
    const start = await fetch(`${base}/v2/bad/up/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const loc = new URL(start.headers.get('location')!, base).toString();
    const patch = await fetch(loc, { method: 'PATCH', body: 'hello ', headers: { 'content-range': '0-5' } });
    assert.equal(patch.status, 202);
    assert.equal(patch.headers.get('range'), '0-5');
    const outOfOrder = await fetch(loc, { method: 'PATCH', body: 'x', headers: { 'content-range': '2-2' } });
    assert.equal(outOfOrder.status, 416);
    const wrong = sha('something else');
    const put = await fetch(`${loc}?digest=${wrong}`, { method: 'PUT', body: 'world' });
    assert.equal(put.status, 400);
    assert.equal(
      ((await put.json()) as { errors: Array<{ code: string }> }).errors[0]!.code,
      'DIGEST_INVALID',
    );
    const blobs = await readdir(join(reg.dir, 'data', 'blobs', 'sha256'));
    assert.ok(!blobs.includes(sha('hello world').slice(7)));
    const head = await fetch(`${base}/v2/bad/up/blobs/${wrong}`, { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  test('a manifest naming a missing blob is refused with MANIFEST_BLOB_UNKNOWN', async () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('nope'), size: 4 },
      layers: [],
    });
    const r = await fetch(`http://${reg.address}/v2/bad/m/manifests/v1`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(r.status, 400);
    assert.equal(
      ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]!.code,
      'MANIFEST_BLOB_UNKNOWN',
    );
  });

  test('with htpasswd, anonymous access is a 401 Basic challenge and docker login works', async () => {
    const r = await fetch(`http://${authReg.address}/v2/`);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const ref = `${authReg.address}/sec/busybox:1`;
    await docker(d, 'tag', 'busybox', ref);
    assert.notEqual((await docker(d, 'push', ref)).code, 0);
    assert.notEqual((await docker(d, 'login', '-u', 'bob', '-p', 'bad', authReg.address)).code, 0);
    const login = await docker(d, 'login', '-u', 'bob', '-p', 'pw', authReg.address);
    assert.equal(login.code, 0, login.stderr);
    const push = await docker(d, 'push', ref);
    assert.equal(push.code, 0, push.stderr);
  });

  test('the berth CLI logs in, pushes, pulls, saves, loads and commits', async () => {
    const env = { DOCKER_CONFIG: join(d.dir, 'berth-config') };
    const berth = (...args: string[]) => run(process.execPath, [BERTH, '-H', d.host, ...args], { env });
    const ref = `${authReg.address}/cli/busybox:v1`;
    assert.equal((await berth('tag', 'busybox', ref)).code, 0);
    const denied = await berth('push', ref);
    assert.notEqual(denied.code, 0);
    const login = await run(
      process.execPath,
      [BERTH, '-H', d.host, 'login', '-u', 'bob', '--password-stdin', authReg.address],
      {
        env,
        input: 'pw\n',
      },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const cfg = JSON.parse(await readFile(join(d.dir, 'berth-config', 'config.json'), 'utf8'));
    assert.equal(cfg.auths[authReg.address].auth, Buffer.from('bob:pw').toString('base64'));
    const push = await berth('push', ref);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /v1: digest: sha256:[0-9a-f]{64} size: \d+/);
    assert.equal((await berth('rmi', ref)).code, 0);
    const pull = await berth('pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: (Downloaded newer image|Image is up to date) for/);
    const file = join(d.dir, 'cli-save.tar');
    assert.equal((await berth('save', '-o', file, ref)).code, 0);
    assert.equal((await berth('rmi', ref)).code, 0);
    const load = await berth('load', '-i', file);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, new RegExp(`Loaded image: ${ref}`));
    assert.equal((await berth('run', '--name', 'cc', 'busybox', 'touch', '/made')).code, 0);
    const commit = await berth('commit', '-c', 'ENV X=1', 'cc', 'made:1');
    assert.equal(commit.code, 0, commit.stderr);
    assert.equal(
      (await docker(d, 'run', '--rm', 'made:1', 'sh', '-c', 'test -e /made && echo $X')).stdout.trim(),
      '1',
    );
    const logout = await berth('logout', authReg.address);
    assert.match(logout.stdout, /Removing login credentials/);
  });

  test('with token auth, berthd fetches bearer tokens from the realm the challenge names', async () => {
    const r = await fetch(`http://${tokenReg.address}/v2/tok/x/tags/list`);
    assert.equal(r.status, 401);
    assert.match(
      r.headers.get('www-authenticate') ?? '',
      /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="berth-registry",scope="repository:tok\/x:pull"$/,
    );
    const anon = await fetch(
      `http://${tokenReg.address}/token?service=berth-registry&scope=repository:tok/x:pull`,
    );
    const { token } = (await anon.json()) as { token: string };
    const denied = await fetch(`http://${tokenReg.address}/v2/tok/x/tags/list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(denied.status, 401);
    const ref = `${tokenReg.address}/tok/busybox:1`;
    await docker(d, 'tag', 'busybox', ref);
    assert.notEqual((await docker(d, 'push', ref)).code, 0);
    assert.notEqual((await docker(d, 'login', '-u', 'bob', '-p', 'nope', tokenReg.address)).code, 0);
    const login = await docker(d, 'login', '-u', 'bob', '-p', 'pw', tokenReg.address);
    assert.equal(login.code, 0, login.stderr);
    const push = await docker(d, 'push', ref);
    assert.equal(push.code, 0, push.stderr);
    await docker(d, 'rmi', ref);
    const pull = await docker(d, 'pull', ref);
    assert.equal(pull.code, 0, pull.stderr);
    if (hasSkopeo) {
      const insp = await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--creds',
        'bob:pw',
        `docker://${ref}`,
      ]);
      assert.equal(insp.code, 0, insp.stderr);
    }
  });

  test('garbage-collect removes blobs no manifest references, keeps the rest', async () => {
    const base = `http://${reg.address}`;
    const blob = Buffer.from('orphan blob');
    const up = await fetch(`${base}/v2/gc/x/blobs/uploads/?digest=${sha(blob)}`, {
      method: 'POST',
      body: blob,
    });
    assert.equal(up.status, 201);
    const gc = await run(process.execPath, [
      join(process.cwd(), 'bin', 'berth-registry'),
      'garbage-collect',
      '--root',
      join(reg.dir, 'data'),
    ]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, new RegExp(`deleted blob ${sha(blob)}`));
    const pull = await docker(d, 'pull', `${reg.address}/lib/busybox:1`);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal((await fetch(`${base}/v2/gc/x/blobs/${sha(blob)}`, { method: 'HEAD' })).status, 404);
  });
});
