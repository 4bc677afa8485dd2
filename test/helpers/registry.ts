/**
 * A real Docker distribution registry (Debian's docker-registry, distribution 2.8) on
 * 127.0.0.1 with temp storage, optionally behind htpasswd basic auth, for interop tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './daemon.ts';

export const hasDockerRegistry = () => existsSync('/usr/bin/docker-registry');

export interface TestRegistry {
  /** host:port */
  readonly address: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRegistry(
  options: { user?: string; password?: string } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'br-'));
  const port = await freePort();
  let auth = '';
  if (options.user) {
    const r = await run('htpasswd', ['-Bbn', options.user, options.password ?? '']);
    if (r.code !== 0) throw new Error(`htpasswd: ${r.stderr}`);
    await writeFile(join(dir, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c) => (stderr += c));
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${address}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** berth's own registry server (bin/berth-registry) on 127.0.0.1 (or `host`), port chosen by the kernel. */
export async function startBerthRegistry(
  options: { htpasswd?: string; delete?: boolean; tokenAuth?: boolean; host?: string } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'br-'));
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'berth-registry');
  const args = [
    'serve',
    '--addr',
    `${options.host ?? '127.0.0.1'}:0`,
    '--root',
    join(dir, 'data'),
    '--log-level',
    'error',
  ];
  if (options.htpasswd) args.push('--htpasswd', options.htpasswd);
  if (options.delete) args.push('--delete');
  if (options.tokenAuth) args.push('--token-auth');
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c) => (stderr += c));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c) => {
      out += c;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`berth-registry exited: ${stderr}`)));
  });
  return {
    address,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
