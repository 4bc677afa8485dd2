/**
 * Cross-repository blob mounts on push, resumed blob downloads, and `docker search`, through
 * berthd driven by the real docker CLI, against berth's registry (and Debian's docker-registry
 * for the mount, when installed).
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  berth,
  canRunRoot,
  docker,
  makeBusybox,
  run,
  startDaemon,
  type TestDaemon,
} from '../helpers/daemon.ts';
import {
  hasDockerRegistry,
  startBerthRegistry,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.ts';

const skip = !canRunRoot() && 'needs root';

/**
 * A loopback proxy in front of a registry that breaks off the first `cuts` blob downloads
 * bigger than `cutAt` after `cutAt` bytes; with `stripRange` the registry never sees Range.
 */
async function faultyProxy(upstream: string, options: { cuts: number; cutAt: number; stripRange: boolean }) {
  const [host, port] = upstream.split(':');
  const ranges: Array<string | undefined> = [];
  let cuts = options.cuts;
  const server: Server = createServer((req, res) => {
    const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '');
    const headers = { ...req.headers, host: upstream };
    if (isBlob) {
      ranges.push(req.headers.range);
      if (options.stripRange) delete headers.range;
    }
    const up = request({ host, port: Number(port), path: req.url, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      const size = Number(ur.headers['content-length'] ?? 0);
      if (!isBlob || size <= options.cutAt || cuts <= 0) {
        ur.pipe(res);
        return;
      }
      cuts--;
      let sent = 0;
      ur.on('data', (c: Buffer) => {
        if (sent < 0) return;
        if (sent + c.length < options.cutAt) {
          sent += c.length;
          res.write(c);
          return;
        }
        res.write(c.subarray(0, options.cutAt - sent), () => res.socket?.destroy());
        sent = -1;
        ur.destroy();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    ranges,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function hasBlob(registry: string, repo: string, digest: string): Promise<boolean> {
  const r = await fetch(`http://${registry}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  return r.status === 200;
}

describe('registry: mounts, resumed downloads, search', { skip }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let layers: string[];
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    reg = await startBerthRegistry();
  });
  after(async () => {
    await reg?.stop();
    await d?.stop();
  });

  test('a push to a second repository of the same registry mounts the layers from the first', async () => {
    const src = `${reg.address}/team/src:v1`;
    assert.equal((await docker(d, 'tag', 'busybox', src)).code, 0);
    const first = await docker(d, 'push', src);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Pushed/);
    const manifest = (await (
      await fetch(`http://${reg.address}/v2/team/src/manifests/v1`, {
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      })
    ).json()) as { layers: Array<{ digest: string }> };
    layers = manifest.layers.map((l) => l.digest);
    const dst = `${reg.address}/team/dst:v1`;
    await docker(d, 'tag', 'busybox', dst);
    const second = await docker(d, 'push', dst);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Mounted from team\/src/);
    assert.doesNotMatch(second.stdout, /Pushed/);
    for (const l of layers) assert.ok(await hasBlob(reg.address, 'team/dst', l));
  });

  test('where blobs live survives a daemon restart; a pulled image mounts from where it came', async () => {
    await d.kill();
    await d.restart();
    const other = `${reg.address}/elsewhere/copy:v1`;
    await docker(d, 'tag', 'busybox', other);
    const push = await docker(d, 'push', other);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /Mounted from (team\/dst|team\/src)/);

    // Pulled (not pushed) layers are remembered too.
    const pulled = `${reg.address}/team/src:v1`;
    await docker(d, 'rmi', '-f', pulled, `${reg.address}/team/dst:v1`, other);
    const pull = await docker(d, 'pull', pulled);
    assert.equal(pull.code, 0, pull.stderr);
    const third = `${reg.address}/from/pull:v1`;
    await docker(d, 'tag', pulled, third);
    const again = await docker(d, 'push', third);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Mounted from /);
  });

  test('a mount that the registry refuses falls back to an upload', async () => {
    // The source repository lost the blob: the registry answers 202 and the layer is uploaded.
    const reg2 = await startBerthRegistry({ delete: true });
    try {
      const a = `${reg2.address}/x/a:v1`;
      await docker(d, 'tag', 'busybox', a);
      assert.equal((await docker(d, 'push', a)).code, 0);
      for (const l of layers) {
        const r = await fetch(`http://${reg2.address}/v2/x/a/blobs/${l}`, { method: 'DELETE' });
        assert.equal(r.status, 202);
      }
      const b = `${reg2.address}/x/b:v1`;
      await docker(d, 'tag', 'busybox', b);
      const push = await docker(d, 'push', b);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, /Pushed/);
      assert.doesNotMatch(push.stdout, /Mounted from/);
      for (const l of layers) assert.ok(await hasBlob(reg2.address, 'x/b', l));
    } finally {
      await reg2.stop();
    }
  });

  test('docker-registry (distribution 2.8) mounts across repositories too', {
    skip: !hasDockerRegistry() && 'needs docker-registry',
  }, async () => {
    const dreg = await startRegistry();
    try {
      const a = `${dreg.address}/p/one:v1`;
      await docker(d, 'tag', 'busybox', a);
      assert.equal((await docker(d, 'push', a)).code, 0);
      const b = `${dreg.address}/q/two:v1`;
      await docker(d, 'tag', 'busybox', b);
      const push = await docker(d, 'push', b);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, /Mounted from p\/one/);
    } finally {
      await dreg.stop();
    }
  });

  for (const stripRange of [false, true]) {
    test(`a pull whose layer download breaks off ${stripRange ? 'starts over when the registry ignores Range' : 'resumes with Range'}`, async () => {
      const proxy = await faultyProxy(reg.address, { cuts: 2, cutAt: 32 * 1024, stripRange });
      try {
        const ref = `${proxy.address}/team/src:v1`;
        // Nothing of the image may be here, or there is nothing to download.
        const id = (await docker(d, 'image', 'inspect', '-f', '{{.Id}}', 'busybox')).stdout.trim();
        assert.equal((await docker(d, 'rmi', '-f', id)).code, 0);
        const pull = await docker(d, 'pull', ref);
        assert.equal(pull.code, 0, pull.stderr);
        assert.match(pull.stdout, /Downloaded newer image/);
        const resumed = proxy.ranges.filter((r) => r !== undefined);
        assert.ok(resumed.length >= 1, `ranges seen: ${JSON.stringify(proxy.ranges)}`);
        for (const r of resumed) assert.match(r!, /^bytes=\d+-$/);
        const run = await docker(d, 'run', '--rm', ref, 'echo', 'resumed');
        assert.equal(run.stdout.trim(), 'resumed', run.stderr);
        assert.equal((await docker(d, 'tag', ref, 'busybox')).code, 0);
        await docker(d, 'rmi', ref);
      } finally {
        await proxy.close();
      }
    });
  }

  test('docker search asks a named registry and filters its answer', async () => {
    const r = await docker(d, 'search', `${reg.address}/team`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/);
    const names = lines.slice(1).map((l) => l.split(/\s+/)[0]);
    assert.deepEqual(names.sort(), ['team/dst', 'team/src']);
    const limited = await docker(d, 'search', '--limit', '1', '--format', '{{.Name}}', `${reg.address}/team`);
    assert.equal(limited.stdout.trim().split('\n').length, 1, limited.stderr);
    const official = await docker(d, 'search', '-f', 'is-official=true', `${reg.address}/team`);
    assert.equal(official.stdout.trim().split('\n').length, 1); // the header only
    const stars = await docker(d, 'search', '-f', 'stars=x', `${reg.address}/team`);
    assert.notEqual(stars.code, 0);
    assert.match(stars.stderr, /invalid filter 'stars=x'/);
    const bad = await d.api('GET', `/images/search?term=${reg.address}/team&limit=101`);
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /limit 101 is outside the range of \[1, 100\]/);
    const mine = await berth(d, 'search', `${reg.address}/src`);
    assert.equal(mine.code, 0, mine.stderr);
    assert.match(mine.stdout, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\nteam\/src\s+0\s*$/);
  });

  test('docker search of a registry with htpasswd needs docker login first', async () => {
    const hp = await run('htpasswd', ['-Bbn', 'bob', 'pw']);
    assert.equal(hp.code, 0, hp.stderr);
    const file = join(d.dir, 'search-htpasswd');
    await writeFile(file, hp.stdout);
    const authReg = await startBerthRegistry({ htpasswd: file });
    try {
      const anon = await docker(d, 'search', `${authReg.address}/x`);
      assert.notEqual(anon.code, 0);
      assert.match(anon.stderr, /Unexpected status code 401/);
      const login = await docker(d, 'login', '-u', 'bob', '-p', 'pw', authReg.address);
      assert.equal(login.code, 0, login.stderr);
      const r = await docker(d, 'search', `${authReg.address}/x`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\s*$/);
    } finally {
      await docker(d, 'logout', authReg.address);
      await authReg.stop();
    }
  });

  test('with token auth, a mount asks for pull on the source repository too', async () => {
    const hp = await run('htpasswd', ['-Bbn', 'bob', 'pw']);
    const file = join(d.dir, 'mount-htpasswd');
    await writeFile(file, hp.stdout);
    const tokenReg = await startBerthRegistry({ htpasswd: file, tokenAuth: true });
    try {
      assert.equal((await docker(d, 'login', '-u', 'bob', '-p', 'pw', tokenReg.address)).code, 0);
      const a = `${tokenReg.address}/t/one:v1`;
      await docker(d, 'tag', 'busybox', a);
      const first = await docker(d, 'push', a);
      assert.equal(first.code, 0, first.stderr);
      const b = `${tokenReg.address}/t/two:v1`;
      await docker(d, 'tag', 'busybox', b);
      const push = await docker(d, 'push', b);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, /Mounted from t\/one/);

      // The registry wants pull on the source: a token for the target alone cannot mount.
      const token = async (...scopes: string[]) => {
        const q = scopes.map((x) => `scope=${encodeURIComponent(x)}`).join('&');
        const r = await fetch(`http://${tokenReg.address}/token?service=berth-registry&${q}`, {
          headers: { authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}` },
        });
        return ((await r.json()) as { token: string }).token;
      };
      const mountUrl = `http://${tokenReg.address}/v2/t/three/blobs/uploads/?mount=${layers[0]}&from=t/one`;
      const narrow = await token('repository:t/three:pull,push');
      const refused = await fetch(mountUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${narrow}` },
      });
      assert.equal(refused.status, 401);
      const wide = await token('repository:t/three:pull,push', 'repository:t/one:pull');
      const mounted = await fetch(mountUrl, { method: 'POST', headers: { authorization: `Bearer ${wide}` } });
      assert.equal(mounted.status, 201);
    } finally {
      await docker(d, 'logout', tokenReg.address);
      await tokenReg.stop();
    }
  });

  test('docker search without a registry goes to Docker Hub and fails as dockerd does', async () => {
    const r = await docker(d, 'search', 'busybox');
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /Error response from daemon: Get "https:\/\/index\.docker\.io\/v1\/search\?q=busybox&n=25"/,
    );
  });

  test('docker search of a registry that is not there names both attempts', async () => {
    const r = await docker(d, 'search', '127.0.0.1:1/x');
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /invalid registry endpoint "http:\/\/127\.0\.0\.1:1\/v1\/"\. HTTPS attempt: .*HTTP attempt: /,
    );
  });

  test('the blob source record lives in the image store', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = JSON.parse(
      await readFile(join(d.dataRoot, 'image', 'distribution', 'blob-sources.json'), 'utf8'),
    ) as {
      repositories: Record<string, string[]>;
      compressed: Record<string, { digest: string; size: number; mediaType: string }>;
    };
    assert.ok(file.repositories[layers[0]!]?.some((r) => r.endsWith('/team/src')));
    // The local busybox layer: pushed as the gzip blob the registry got.
    const diffId = (
      await docker(d, 'image', 'inspect', '-f', '{{index .RootFS.Layers 0}}', 'busybox')
    ).stdout.trim();
    assert.equal(file.compressed[diffId]?.digest, layers[0]);
  });
});
