/**
 * The berth CLI against a fake Engine API on a temp Unix socket (a network edge: the fake
 * records the requests it served and answers like dockerd). Runs the CLI in-process through
 * runCli and checks what it asked for, what it printed and its exit status. Needs no root.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, copyFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { runCli } from '../../src/cli/index.ts';
import { stdcopyFrame } from '../../src/common/stdcopy.ts';
import {
  berth as berthBin,
  canRunRoot,
  run as runProcess,
  startDaemon,
  type TestDaemon,
} from '../helpers/daemon.ts';

interface Served {
  url: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Reply = (req: IncomingMessage, res: ServerResponse, body: unknown) => void | Promise<void>;
type Upgrade = (req: IncomingMessage, socket: Socket) => void;

/** A scripted Engine API: routes by "METHOD /path" (version prefix stripped), records each request. */
class FakeEngine {
  readonly served: Served[] = [];
  routes = new Map<string, Reply>();
  upgrades = new Map<string, Upgrade>();
  readonly server: Server;
  readonly #hijacked = new Set<Socket>();

  constructor() {
    this.server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      this.#hijacked.add(socket);
      socket.once('close', () => this.#hijacked.delete(socket));
      const { path, query } = split(req.url ?? '');
      this.served.push({ url: req.url ?? '', method: req.method ?? '', path, query, body: undefined });
      const handler = this.upgrades.get(`${req.method} ${path}`);
      if (!handler) {
        socket.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"message":"no such route"}',
        );
        return;
      }
      socket.write(
        'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
      );
      handler(req, socket);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const { path, query } = split(req.url ?? '');
    if (path === '/_ping') {
      res.writeHead(200, { 'API-Version': '1.43', 'Content-Type': 'text/plain' }).end('OK');
      return;
    }
    this.served.push({ url: req.url ?? '', method: req.method ?? '', path, query, body });
    const route = this.routes.get(`${req.method} ${path}`);
    if (!route) {
      json(res, 404, { message: `no route for ${req.method} ${path}` });
      return;
    }
    await route(req, res, body);
  }

  /** Stops serving and drops every connection, hijacked ones included. */
  async close(): Promise<void> {
    for (const s of this.#hijacked) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  requests(): string[] {
    return this.served.map((s) => `${s.method} ${s.path}`);
  }
}

function split(url: string): { path: string; query: Record<string, string> } {
  const u = new URL(url, 'http://x');
  return { path: u.pathname.replace(/^\/v1\.\d+/, ''), query: Object.fromEntries(u.searchParams) };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}

let dir: string;
let socketPath: string;
let fake: FakeEngine;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  socketPath = join(dir, 'engine.sock');
});

beforeEach(async () => {
  if (fake) await fake.close();
  fake = new FakeEngine();
  fake.server.listen(socketPath);
  await once(fake.server, 'listening');
});

after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function berth(
  args: string[],
  stdinText?: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdin = new PassThrough();
  if (stdinText !== undefined) stdin.end(stdinText);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const status = await runCli(['-H', `unix://${socketPath}`, ...args], { stdin, stdout, stderr }, {});
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

const ID = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

/** Scripts a container that prints `output` on stdout after start and exits with `code`. */
function scriptContainer(output: string, code: number, opts: { startError?: string } = {}): void {
  let attached: Socket | undefined;
  let exited: (() => void) | undefined;
  const exitedP = new Promise<void>((r) => {
    exited = r;
  });
  fake.routes.set('POST /containers/create', (_req, res) => json(res, 201, { Id: ID, Warnings: [] }));
  fake.upgrades.set(`POST /containers/${ID}/attach`, (_req, socket) => {
    attached = socket;
  });
  fake.routes.set(`POST /containers/${ID}/wait`, async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    await exitedP;
    res.end(JSON.stringify({ StatusCode: code, Error: null }));
  });
  fake.routes.set(`POST /containers/${ID}/start`, (_req, res) => {
    if (opts.startError) {
      json(res, 400, { message: opts.startError });
      exited?.();
      return;
    }
    res.writeHead(204).end();
    setTimeout(() => {
      attached?.end(stdcopyFrame(1, Buffer.from(output)));
      exited?.();
    }, 20);
  });
}

test('run attaches before start, waits for next-exit, prints output and exits with the code', async () => {
  scriptContainer('hi\n', 3);
  const r = await berth(['run', '-e', 'A=1', '--name', 'x', 'busybox', 'echo', 'hi']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.status, 3);
  const reqs = fake.requests();
  assert.deepEqual(reqs, [
    'POST /containers/create',
    `POST /containers/${ID}/attach`,
    `POST /containers/${ID}/wait`,
    `POST /containers/${ID}/start`,
  ]);
  const create = fake.served[0] as Served;
  assert.equal(create.query.name, 'x');
  const body = create.body as Record<string, unknown>;
  assert.deepEqual(body.Cmd, ['echo', 'hi']);
  assert.deepEqual(body.Env, ['A=1']);
  assert.equal(body.Image, 'busybox');
  const attach = fake.served[1] as Served;
  assert.deepEqual(attach.query, { stream: '1', stdout: '1', stderr: '1' });
  assert.equal((fake.served[2] as Served).query.condition, 'next-exit');
});

test('run --rm waits for removal', async () => {
  scriptContainer('', 0);
  const r = await berth(['run', '--rm', 'busybox', 'true']);
  assert.equal(r.status, 0);
  const wait = fake.served.find((s) => s.path.endsWith('/wait')) as Served;
  assert.equal(wait.query.condition, 'removed');
  assert.equal(
    ((fake.served[0] as Served).body as { HostConfig: { AutoRemove: boolean } }).HostConfig.AutoRemove,
    true,
  );
});

test('run -d prints the full id and does not attach', async () => {
  scriptContainer('', 0);
  const r = await berth(['run', '-d', 'busybox', 'sleep', '10']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${ID}\n`);
  assert.ok(!fake.requests().some((x) => x.endsWith('/attach')));
  const body = (fake.served[0] as Served).body as Record<string, unknown>;
  assert.equal(body.AttachStdout, false);
  assert.equal(body.AttachStderr, false);
});

test('run exits 127 when the command is not found at start', async () => {
  scriptContainer('', 0, { startError: 'exec: "nope": executable file not found in $PATH' });
  const r = await berth(['run', 'busybox', 'nope']);
  assert.equal(r.status, 127);
  assert.equal(
    r.stderr,
    'berth: Error response from daemon: exec: "nope": executable file not found in $PATH\n',
  );
});

test('run of a missing image says so, tries to pull, and reports the pull error with status 125', async () => {
  fake.routes.set('POST /containers/create', (_req, res) =>
    json(res, 404, { message: 'No such image: nope:latest' }),
  );
  fake.routes.set('POST /images/create', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      `${JSON.stringify({ errorDetail: { message: 'pull access denied for nope' }, error: 'pull access denied for nope' })}\n`,
    );
  });
  const r = await berth(['run', 'nope']);
  assert.equal(r.status, 125);
  assert.equal(
    r.stderr,
    "Unable to find image 'nope:latest' locally\n" +
      "berth: Error response from daemon: pull access denied for nope\n\nRun 'berth run --help' for more information\n",
  );
  const pull = fake.served.find((s) => s.path === '/images/create') as Served;
  assert.deepEqual(pull.query, { fromImage: 'nope', tag: 'latest' });
});

test('ps sends all, limit and filters as docker does and prints the table', async () => {
  fake.routes.set('GET /containers/json', (_req, res) =>
    json(res, 200, [
      {
        Id: ID,
        Names: ['/web'],
        Image: 'busybox',
        ImageID: 'sha256:aa',
        Command: 'sleep 10',
        Created: Math.floor(Date.now() / 1000) - 5,
        Ports: [],
        Labels: {},
        State: 'exited',
        Status: 'Exited (0) 1 second ago',
        HostConfig: { NetworkMode: 'default' },
        NetworkSettings: { Networks: {} },
        Mounts: [],
      },
    ]),
  );
  const r = await berth(['ps', '-a', '--filter', 'status=exited', '-n', '3']);
  assert.equal(r.status, 0);
  const q = (fake.served[0] as Served).query;
  assert.equal(q.all, '1');
  assert.equal(q.limit, '3');
  assert.deepEqual(JSON.parse(q.filters as string), { status: { exited: true } });
  assert.equal(
    r.stdout,
    'CONTAINER ID   IMAGE     COMMAND      CREATED         STATUS                    PORTS     NAMES\n' +
      'c0ffee00c0ff   busybox   "sleep 10"   5 seconds ago   Exited (0) 1 second ago             web\n',
  );
  const quiet = await berth(['container', 'ls', '-q']);
  assert.equal(quiet.stdout, 'c0ffee00c0ff\n');
});

test('rm prints each removed name, reports the missing one and exits 1', async () => {
  fake.routes.set('DELETE /containers/a', (_req, res) => {
    res.writeHead(204).end();
  });
  fake.routes.set('DELETE /containers/b', (_req, res) => {
    res.writeHead(204).end();
  });
  fake.routes.set('DELETE /containers/missing', (_req, res) =>
    json(res, 404, { message: 'No such container: missing' }),
  );
  const r = await berth(['rm', '-f', '-v', 'a', 'missing', 'b']);
  assert.equal(r.stdout, 'a\nb\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: missing\n');
  assert.equal(r.status, 0, 'rm -f tolerates a missing container');
  assert.deepEqual(fake.served[0]?.query, { force: '1', v: '1' });
  const strict = await berth(['rm', 'a', 'missing']);
  assert.equal(strict.status, 1);
  assert.equal(strict.stdout, 'a\n');
  assert.equal(strict.stderr, 'Error response from daemon: No such container: missing\n');
});

test('logs asks for tail/timestamps/since and splits stdout from stderr', async () => {
  fake.routes.set('GET /containers/c/json', (_req, res) =>
    json(res, 200, { Id: ID, Config: { Tty: false } }),
  );
  fake.routes.set('GET /containers/c/logs', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    res.write(stdcopyFrame(1, Buffer.from('out line\n')));
    res.end(stdcopyFrame(2, Buffer.from('err line\n')));
  });
  const r = await berth(['logs', '--tail', '2', '-t', '--since', '2013-01-02T13:23:37Z', 'c']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'out line\n');
  assert.equal(r.stderr, 'err line\n');
  const logs = fake.served.find((s) => s.path.endsWith('/logs')) as Served;
  assert.deepEqual(logs.query, {
    stdout: '1',
    stderr: '1',
    since: '1357133017.000000000',
    timestamps: '1',
    tail: '2',
  });
});

test('a daemon error on a single-object command is printed with docker prefix and status 1', async () => {
  fake.routes.set('POST /containers/x/rename', (_req, res) =>
    json(res, 409, { message: 'name "y" is in use' }),
  );
  const r = await berth(['rename', 'x', 'y']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'Error response from daemon: name "y" is in use\n');
});

test('a daemon that is not listening gets docker shaped text', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const err: Buffer[] = [];
  stderr.on('data', (c: Buffer) => err.push(c));
  const status = await runCli(
    ['-H', `unix://${dir}/none.sock`, 'ps'],
    { stdin: new PassThrough(), stdout, stderr },
    {},
  );
  assert.equal(status, 1);
  assert.equal(
    Buffer.concat(err).toString(),
    `Cannot connect to the berth daemon at unix://${dir}/none.sock. Is the berth daemon running?\n`,
  );
});

test('exec -i sends stdin, prints output and exits with the process status', async () => {
  fake.routes.set('GET /containers/c/json', (_req, res) =>
    json(res, 200, { Id: ID, Config: { Tty: false } }),
  );
  fake.routes.set('POST /containers/c/exec', (_req, res) => json(res, 201, { Id: 'e1' }));
  fake.routes.set('GET /exec/e1/json', (_req, res) =>
    json(res, 200, { ID: 'e1', Running: false, ExitCode: 4 }),
  );
  fake.upgrades.set('POST /exec/e1/start', (_req, socket) => {
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    socket.on('end', () => socket.end(stdcopyFrame(1, Buffer.from(`got:${Buffer.concat(got).toString()}`))));
  });
  const r = await berth(['exec', '-i', '-e', 'X=1', '-w', '/tmp', 'c', 'cat'], 'hello');
  assert.equal(r.stdout, 'got:hello');
  assert.equal(r.status, 4);
  const create = fake.served.find((s) => s.path === '/containers/c/exec') as Served;
  assert.deepEqual(create.body, {
    User: '',
    Privileged: false,
    Tty: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    DetachKeys: '',
    Env: ['X=1'],
    WorkingDir: '/tmp',
    Cmd: ['cat'],
  });
});

test('inspect prints found objects as an indented array, then the missing ones', async () => {
  fake.routes.set('GET /containers/web/json', (_req, res) => json(res, 200, { Id: 'abc', Name: '/web' }));
  fake.routes.set('GET /containers/nope/json', (_req, res) =>
    json(res, 404, { message: 'No such container: nope' }),
  );
  fake.routes.set('GET /images/nope/json', (_req, res) => json(res, 404, { message: 'No such image: nope' }));
  const r = await berth(['inspect', 'web', 'nope']);
  assert.equal(r.stdout, '[\n    {\n        "Id": "abc",\n        "Name": "/web"\n    }\n]\n');
  assert.equal(r.stderr, 'Error: No such object: nope\n');
  assert.equal(r.status, 1);
  const f = await berth(['inspect', '-f', '{{.Name}} {{.Id}}', 'web']);
  assert.equal(f.stdout, '/web abc\n');
});

test('import streams the file as the body with repo and changes and prints the new id', async () => {
  let received = '';
  fake.routes.set('POST /images/create', (_req, res, body) => {
    received = String(body);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(`${JSON.stringify({ status: 'sha256:feed' })}\n`);
  });
  const r = await berth(
    ['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=1', '-m', 'msg', '-', 'me/img:v1'],
    'tar-bytes',
  );
  assert.equal(r.stdout, 'sha256:feed\n');
  assert.equal(received, 'tar-bytes');
  const served = fake.served[0] as Served;
  assert.equal(served.query.fromSrc, '-');
  assert.equal(served.query.repo, 'me/img:v1');
  assert.equal(served.query.message, 'msg');
  assert.deepEqual(new URL(served.url, 'http://x').searchParams.getAll('changes'), ['CMD ["sh"]', 'ENV A=1']);
});

/** busybox:latest from the host's static busybox, imported with `berth import` (CMD ["sh"]). */
async function importBusybox(d: TestDaemon): Promise<void> {
  const root = join(d.dir, 'bb-root');
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'echo', 'cat', 'sleep', 'true', 'false']) {
    await symlink('busybox', join(root, 'bin', applet));
  }
  const tar = join(d.dir, 'bb.tar');
  const packed = await runProcess('tar', ['-C', root, '-cf', tar, '.']);
  assert.equal(packed.code, 0, packed.stderr);
  const imported = await berthBin(d, 'import', '-c', 'CMD ["sh"]', tar, 'busybox:latest');
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^sha256:[0-9a-f]{64}\n$/);
  await rm(root, { recursive: true, force: true });
}

describe('against a real berthd', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('run prints the output and exits with the container status', async () => {
    const ok = await berthBin(d, 'run', '--rm', 'busybox', 'echo', 'hello');
    assert.equal(ok.stdout, 'hello\n');
    assert.equal(ok.code, 0);
    const failed = await berthBin(d, 'run', '--rm', 'busybox', 'sh', '-c', 'echo oops >&2; exit 3');
    assert.equal(failed.stderr, 'oops\n');
    assert.equal(failed.code, 3);
  });

  test('run of a missing command exits 127 with the daemon message', async () => {
    const r = await berthBin(d, 'run', '--name', 'cli-nocmd', 'busybox', 'no-such-cmd');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^berth: Error response from daemon: .*no-such-cmd/);
    assert.equal((await berthBin(d, 'rm', 'cli-nocmd')).code, 0);
  });

  test('a detached container shows in ps, runs exec, gives logs, stops and is removed', async () => {
    const started = await berthBin(
      d,
      'run',
      '-d',
      '--name',
      'cli-web',
      'busybox',
      'sh',
      '-c',
      'echo ready; sleep 60',
    );
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await berthBin(d, 'ps', '--format', '{{.ID}} {{.Names}} {{.State}}');
    assert.equal(ps.stdout, `${id.slice(0, 12)} cli-web running\n`);
    const exec = await berthBin(d, 'exec', '-e', 'X=42', 'cli-web', 'sh', '-c', 'echo $X');
    assert.equal(exec.stdout, '42\n');
    const execFail = await berthBin(d, 'exec', 'cli-web', 'sh', '-c', 'exit 4');
    assert.equal(execFail.code, 4);
    let logs = await berthBin(d, 'logs', 'cli-web');
    for (let i = 0; i < 20 && logs.stdout === ''; i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = await berthBin(d, 'logs', 'cli-web');
    }
    assert.equal(logs.stdout, 'ready\n');
    const stop = await berthBin(d, 'stop', '-t', '1', 'cli-web');
    assert.equal(stop.stdout, 'cli-web\n');
    const state = await berthBin(d, 'inspect', '-f', '{{.State.Status}}', 'cli-web');
    assert.equal(state.stdout, 'exited\n');
    const rm = await berthBin(d, 'rm', 'cli-web', 'cli-missing');
    assert.equal(rm.stdout, 'cli-web\n');
    assert.equal(rm.stderr, 'Error response from daemon: No such container: cli-missing\n');
    assert.equal(rm.code, 1);
  });

  test('tag adds a name that images lists and rmi untags', async () => {
    assert.equal((await berthBin(d, 'tag', 'busybox', 'cli/bb:v1')).code, 0);
    const images = await berthBin(d, 'images', '--format', '{{.Repository}}:{{.Tag}}');
    assert.ok(images.stdout.split('\n').includes('cli/bb:v1'), images.stdout);
    const rmi = await berthBin(d, 'rmi', 'cli/bb:v1');
    assert.equal(rmi.stdout, 'Untagged: cli/bb:v1\n');
  });
});
