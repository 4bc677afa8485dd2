/**
 * Remote access: berthd on tcp with mutual TLS (-H tcp://… --tlsverify --tlscacert --tlscert
 * --tlskey). A client with a certificate from the CA runs containers (docker CLI and berth CLI,
 * by flags or DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH); one without, or with a foreign
 * one, is refused. Plain tcp is refused unless asked for with --tls=false.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BERTH,
  BERTHD,
  isolationArgs,
  type TestDaemon,
  canRunRoot,
  cleanupLeftovers,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const r = await run('openssl', args, { env: {} as Record<string, string> }).catch((e) => ({
    code: 1,
    stdout: '',
    stderr: String(e),
  }));
  void cwd;
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and a foreign CA's client certificate. */
async function makeCerts(dir: string): Promise<void> {
  const p = (f: string) => join(dir, f);
  const days = ['-days', '2'];
  for (const ca of ['ca', 'evil-ca']) {
    await openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      p(`${ca}-key.pem`),
      '-out',
      p(`${ca}.pem`),
      ...days,
      '-subj',
      `/CN=${ca}`,
    );
  }
  await writeFile(
    p('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await writeFile(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = async (name: string, ca: string, ext: string) => {
    await openssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      p(`${name}-key.pem`),
      '-out',
      p(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    );
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p(`${ca}.pem`),
      '-CAkey',
      p(`${ca}-key.pem`),
      '-CAcreateserial',
      '-out',
      p(`${name}.pem`),
      ...days,
      '-extfile',
      p(ext),
    );
  };
  await issue('server', 'ca', 'server.ext');
  await issue('client', 'ca', 'client.ext');
  await issue('evil', 'evil-ca', 'client.ext');
  // A DOCKER_CERT_PATH layout for the client.
  await mkdir(p('docker'), { recursive: true });
  await writeFile(p('docker/ca.pem'), await readFile(p('ca.pem')));
  await writeFile(p('docker/cert.pem'), await readFile(p('client.pem')));
  await writeFile(p('docker/key.pem'), await readFile(p('client-key.pem')));
}

describe('remote access with mutual TLS', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let certs: string;
  let tcp: string;
  before(async () => {
    certs = await mkdtemp(join(tmpdir(), 'bt-certs-'));
    await makeCerts(certs);
    const port = await freePort();
    tcp = `tcp://127.0.0.1:${port}`;
    d = await startDaemon({
      args: [
        '-H',
        tcp,
        '--tlsverify',
        '--tlscacert',
        join(certs, 'ca.pem'),
        '--tlscert',
        join(certs, 'server.pem'),
        '--tlskey',
        join(certs, 'server-key.pem'),
      ],
    });
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
    if (certs) await rm(certs, { recursive: true, force: true });
  });

  const dockerTls = (...args: string[]) =>
    run('docker', args, {
      env: {
        DOCKER_CONFIG: join(d.dir, 'docker-config'),
        DOCKER_HOST: '',
        DOCKER_TLS_VERIFY: '',
        DOCKER_CERT_PATH: '',
      },
    });

  test('a client with a certificate from the CA runs a container over tcp', async () => {
    const r = await dockerTls(
      '-H',
      tcp,
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'client.pem'),
      '--tlskey',
      join(certs, 'client-key.pem'),
      'run',
      '--rm',
      'busybox',
      'echo',
      'over tls',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'over tls\n');
  });

  test('the berth CLI reaches it by flags and by DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH', async () => {
    const byFlags = await run(process.execPath, [
      BERTH,
      '-H',
      tcp,
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'client.pem'),
      '--tlskey',
      join(certs, 'client-key.pem'),
      'run',
      '--rm',
      'busybox',
      'echo',
      'flags',
    ]);
    assert.equal(byFlags.code, 0, byFlags.stderr);
    assert.equal(byFlags.stdout, 'flags\n');
    const byEnv = await run(process.execPath, [BERTH, 'run', '--rm', 'busybox', 'echo', 'env'], {
      env: {
        DOCKER_HOST: tcp,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: join(certs, 'docker'),
        BERTH_HOST: '',
      },
    });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.equal(byEnv.stdout, 'env\n');
  });

  test('clients without a certificate, with a foreign one, or in plain HTTP are refused; berthd keeps serving', async () => {
    const noCert = await dockerTls(
      '-H',
      tcp,
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'nonexistent.pem'),
      '--tlskey',
      join(certs, 'nonexistent-key.pem'),
      'version',
    );
    assert.notEqual(noCert.code, 0);
    const anon = await run(
      process.execPath,
      [BERTH, '-H', tcp, '--tlsverify', '--tlscacert', join(certs, 'ca.pem'), 'ps'],
      { env: { DOCKER_CERT_PATH: join(certs, 'empty') } },
    );
    assert.notEqual(anon.code, 0);
    const evil = await dockerTls(
      '-H',
      tcp,
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'evil.pem'),
      '--tlskey',
      join(certs, 'evil-key.pem'),
      'ps',
    );
    assert.notEqual(evil.code, 0);
    const plain = await dockerTls('-H', tcp, 'ps');
    assert.notEqual(plain.code, 0);
    const curl = await run('curl', [
      '-sS',
      '--cacert',
      join(certs, 'ca.pem'),
      `https://127.0.0.1:${tcp.split(':').pop()}/_ping`,
    ]);
    assert.notEqual(curl.code, 0, 'no client certificate: handshake refused');
    const ok = await run('curl', [
      '-sS',
      '--cacert',
      join(certs, 'ca.pem'),
      '--cert',
      join(certs, 'client.pem'),
      '--key',
      join(certs, 'client-key.pem'),
      `https://127.0.0.1:${tcp.split(':').pop()}/_ping`,
    ]);
    assert.equal(ok.stdout, 'OK');
    assert.equal((await d.api('GET', '/_ping')).status, 200);
  });

  test('berthd refuses plain tcp unless --tls=false is given, and then warns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bt-'));
    try {
      const port = await freePort();
      const base = [
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'run'),
        '--config-file',
        join(dir, 'none.json'),
        ...(await isolationArgs(dir)),
      ];
      await writeFile(join(dir, 'none.json'), '{}');
      const refused = await run(process.execPath, [BERTHD, ...base, '-H', `tcp://127.0.0.1:${port}`], {
        timeoutMs: 10_000,
      });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /refusing to listen on tcp without TLS/);
      const child = spawn(
        process.execPath,
        [BERTHD, ...base, '-H', `tcp://127.0.0.1:${port}`, '--tls=false'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stderr.on('data', (c) => (out += c));
      child.stdout.on('data', (c) => (out += c));
      const deadline = Date.now() + 10_000;
      while (!/berthd started/.test(out) && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      assert.match(out, /without TLS: anyone who can reach it/);
    } finally {
      await cleanupLeftovers(dir);
    }
  });
});
