/**
 * docker cp, diff and export against berthd, and the classic cp escapes: each must fail (or stay
 * inside the container) and leave the host's files untouched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import {
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
  chmod,
  chown,
  link,
} from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type TarWriteEntry, packTar } from '../../src/common/index.ts';
import { type TestDaemon, canRunRoot, docker, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';

const execFileP = promisify(execFile);

/** PUT /containers/{id}/archive with a raw tar body. */
async function putArchive(d: TestDaemon, id: string, path: string, entries: TarWriteEntry[]) {
  const chunks: Buffer[] = [];
  for await (const c of packTar(
    (async function* () {
      yield* entries;
    })(),
  ))
    chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        socketPath: d.socket,
        method: 'PUT',
        path: `/containers/${id}/archive?path=${encodeURIComponent(path)}`,
        headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** GET /containers/{id}/archive: the response body as text (tar or error). */
function getArchive(d: TestDaemon, id: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: d.socket,
        method: 'GET',
        path: `/containers/${id}/archive?path=${encodeURIComponent(path)}`,
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const file = (name: string, data: string): TarWriteEntry => ({
  header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length },
  body: data,
});

describe('cp, diff and export', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let victim: string;
  let secret: string;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    // Host files a container must never reach.
    victim = join(d.dir, 'victim');
    await mkdir(victim);
    secret = join(d.dir, 'secret.txt');
    await writeFile(secret, 'HOST SECRET\n');
    const r = await docker(d, 'run', '-d', '--name', 'cc', '-v', 'cpvol:/vol', 'busybox', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await d?.stop();
  });

  const assertHostUntouched = async () => {
    assert.deepEqual(await readdir(victim), [], 'nothing was written to the host');
    assert.equal(await readFile(secret, 'utf8'), 'HOST SECRET\n');
  };

  test('cp round-trips a tree with symlinks, hard links, permissions and ownership (-a)', async () => {
    const src = join(d.dir, 'tree');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a'), 'alpha\n');
    await chown(join(src, 'a'), 1234, 5678);
    await chmod(join(src, 'a'), 0o4750);
    await link(join(src, 'a'), join(src, 'hard'));
    await symlink('a', join(src, 'rel-link'));
    await symlink('/etc/passwd', join(src, 'abs-link'));
    await writeFile(join(src, 'sub', 'b'), 'beta\n');
    await chmod(join(src, 'sub'), 0o700);
    await chown(join(src, 'sub'), 42, 43);

    const into = await docker(d, 'cp', '-a', src, 'cc:/tmp/');
    assert.equal(into.code, 0, into.stderr);
    const ls = await docker(
      d,
      'exec',
      'cc',
      'stat',
      '-c',
      '%n %u:%g %a %h',
      '/tmp/tree/a',
      '/tmp/tree/hard',
      '/tmp/tree/sub',
    );
    assert.equal(
      ls.stdout,
      '/tmp/tree/a 1234:5678 4750 2\n/tmp/tree/hard 1234:5678 4750 2\n/tmp/tree/sub 42:43 700 2\n',
    );

    const back = join(d.dir, 'back');
    const out = await docker(d, 'cp', '-a', 'cc:/tmp/tree', back);
    assert.equal(out.code, 0, out.stderr);
    const a = await stat(join(back, 'a'));
    assert.equal(a.mode & 0o7777, 0o4750);
    assert.equal(a.nlink, 2);
    assert.equal((await stat(join(back, 'hard'))).ino, a.ino);
    assert.equal(await readlink(join(back, 'rel-link')), 'a');
    assert.equal(await readlink(join(back, 'abs-link')), '/etc/passwd');
    const sub = await stat(join(back, 'sub'));
    assert.equal(sub.mode & 0o7777, 0o700);
    // The docker CLI extracts as the local user; the stream itself carries the owners.
    const listing = await run(
      'sh',
      ['-c', `docker -H ${d.host} cp cc:/tmp/tree - | tar -tvf - --numeric-owner`],
      {
        env: { DOCKER_CONFIG: join(d.dir, 'docker-config') },
      },
    );
    assert.match(listing.stdout, /^-rwsr-x--- 1234\/5678 .* tree\/a$/m);
    assert.match(listing.stdout, /^hrwsr-x--- 1234\/5678 .* tree\/hard link to tree\/a$/m);
    assert.match(listing.stdout, /^drwx------ 42\/43 .* tree\/sub\/$/m);
    assert.equal(await readFile(join(back, 'sub', 'b'), 'utf8'), 'beta\n');
  });

  test('cp reaches through volumes of a running container and into a stopped one', async () => {
    await writeFile(join(d.dir, 'v.txt'), 'in the volume\n');
    assert.equal((await docker(d, 'cp', join(d.dir, 'v.txt'), 'cc:/vol/')).code, 0);
    assert.equal((await docker(d, 'exec', 'cc', 'cat', '/vol/v.txt')).stdout, 'in the volume\n');
    const s = await docker(d, 'create', '--name', 'stopped', '-v', 'cpvol:/data', 'busybox', 'true');
    assert.equal(s.code, 0, s.stderr);
    const out = await docker(d, 'cp', 'stopped:/data/v.txt', '-');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /in the volume/);
    assert.equal((await docker(d, 'cp', join(d.dir, 'v.txt'), 'stopped:/etc/')).code, 0);
    const again = await docker(d, 'cp', 'stopped:/etc/v.txt', '-');
    assert.match(again.stdout, /in the volume/);
  });

  test('stdin and stdout tar streams; -L follows a link', async () => {
    const r = await run(
      'sh',
      ['-c', `tar -C ${d.dir} -cf - secret.txt | docker -H ${d.host} cp - cc:/tmp/`],
      {
        env: { DOCKER_CONFIG: join(d.dir, 'docker-config') },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await docker(d, 'exec', 'cc', 'cat', '/tmp/secret.txt')).stdout, 'HOST SECRET\n');
    await docker(d, 'exec', 'cc', 'ln', '-s', '/tmp/secret.txt', '/tmp/lnk');
    const plain = await docker(d, 'cp', 'cc:/tmp/lnk', join(d.dir, 'lnk-copy'));
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(await readlink(join(d.dir, 'lnk-copy')), '/tmp/secret.txt');
    const followed = await docker(d, 'cp', '-L', 'cc:/tmp/lnk', join(d.dir, 'lnk-followed'));
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(await readFile(join(d.dir, 'lnk-followed'), 'utf8'), 'HOST SECRET\n');
  });

  test('a missing path is Docker\'s "Could not find the file"', async () => {
    const r = await docker(d, 'cp', 'cc:/nope', join(d.dir, 'x'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Could not find the file \/nope in container cc/);
  });

  test('cp out through a symlink pointing outside the container reads the container, not the host', async () => {
    await docker(d, 'exec', 'cc', 'ln', '-s', secret, '/tmp/to-host');
    await docker(d, 'exec', 'cc', 'ln', '-s', '/', '/tmp/root');
    const viaFile = await docker(d, 'cp', '-L', 'cc:/tmp/to-host', '-');
    assert.notEqual(viaFile.code, 0);
    assert.doesNotMatch(viaFile.stdout, /HOST SECRET/);
    const viaDir = await docker(d, 'cp', `cc:/tmp/root${secret}`, '-');
    assert.notEqual(viaDir.code, 0);
    assert.match(viaDir.stderr, /Could not find the file/);
    const dotdot = await docker(d, 'cp', `cc:/../../../../..${secret}`, '-');
    assert.notEqual(dotdot.code, 0);
    assert.doesNotMatch(dotdot.stdout, /HOST SECRET/);
  });

  test('cp in through a symlink or with .. stays inside the container', async () => {
    await docker(d, 'exec', 'cc', 'ln', '-s', victim, '/tmp/to-victim');
    await docker(d, 'exec', 'cc', 'mkdir', '-p', victim);
    await writeFile(join(d.dir, 'payload'), 'pwned\n');
    const r1 = await docker(d, 'cp', join(d.dir, 'payload'), 'cc:/tmp/to-victim/');
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal((await docker(d, 'exec', 'cc', 'cat', `${victim}/payload`)).stdout, 'pwned\n');
    const r2 = await docker(d, 'cp', join(d.dir, 'payload'), `cc:/../../../..${victim}/`);
    assert.equal(r2.code, 0, r2.stderr);
    await assertHostUntouched();
  });

  test('a tar with escaping entries is refused; absolute entries land inside the destination', async () => {
    const up = await putArchive(d, 'cc', '/tmp', [file('../../../../../..' + victim + '/esc', 'x')]);
    assert.equal(up.status, 400, up.text);
    assert.match(up.text, /invalid tar entry path/);
    const link = await putArchive(d, 'cc', '/tmp', [
      {
        header: {
          name: 'out',
          type: 'symlink',
          linkname: '../../../../../../..',
          mode: 0o777,
          uid: 0,
          gid: 0,
          mtime: 0,
        },
      },
    ]);
    assert.equal(link.status, 400, link.text);
    const abs = await putArchive(d, 'cc', '/tmp', [file(`${victim}/abs`, 'y')]);
    assert.equal(abs.status, 200, abs.text);
    assert.equal((await docker(d, 'exec', 'cc', 'cat', `/tmp${victim}/abs`)).stdout, 'y');
    const notDir = await putArchive(d, 'cc', '/etc/passwd', [file('x', 'x')]);
    assert.equal(notDir.status, 400);
    assert.match(notDir.text, /extraction point is not a directory/);
    await assertHostUntouched();
  });

  test('a symlink swapped while copies run never leads outside the container', async () => {
    // The container flips /tmp/sw between a directory and a symlink to the host's victim path.
    const flip = await docker(
      d,
      'exec',
      '-d',
      'cc',
      'sh',
      '-c',
      `while true; do rm -rf /tmp/sw; mkdir /tmp/sw; rm -rf /tmp/sw; ln -s ${victim} /tmp/sw; done`,
    );
    assert.equal(flip.code, 0, flip.stderr);
    // Raw API calls (no CLI start-up) so the copies overlap the flips many times in a short test.
    for (let i = 0; i < 6; i++) {
      await putArchive(d, 'cc', '/tmp/sw', [file('race', 'race')]);
      const out = await getArchive(d, 'cc', `/tmp/sw${secret.slice(victim.length - 'victim'.length - 1)}`);
      assert.doesNotMatch(out, /HOST SECRET/);
    }
    await docker(d, 'exec', 'cc', 'pkill', '-f', 'while true');
    await assertHostUntouched();
  });

  test('diff lists A/C/D from the upper dir and export streams the root filesystem', async () => {
    const r = await docker(
      d,
      'run',
      '--name',
      'df',
      'busybox',
      'sh',
      '-c',
      'echo x > /etc/new; rm /etc/group; echo >> /etc/passwd',
    );
    assert.equal(r.code, 0, r.stderr);
    const diff = await docker(d, 'diff', 'df');
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal(diff.stdout, 'C /etc\nD /etc/group\nA /etc/new\nC /etc/passwd\n');
    const tar = join(d.dir, 'df.tar');
    const ex = await docker(d, 'export', '-o', tar, 'df');
    assert.equal(ex.code, 0, ex.stderr);
    const { stdout } = await execFileP('tar', ['-tf', tar], { maxBuffer: 1 << 24 });
    const names = stdout.split('\n');
    assert.ok(names.includes('etc/new'));
    assert.ok(!names.includes('etc/group'));
    assert.ok(names.includes('bin/busybox'));
  });
});
