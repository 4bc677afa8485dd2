/**
 * The Engine API server on a real Unix socket, driven by node:http, raw sockets and the real
 * docker CLI. The engine behind it is a small in-test Engine that records what it was asked
 * (the engine is another engineer's edge; this suite checks the HTTP side). Needs no root.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type ApiServer, createApiServer } from '../../src/api/server/index.ts';
import type {
  ContainerSummary,
  EventMessage,
  JsonMessage,
  SystemInfo,
  SystemVersion,
} from '../../src/api/types/index.ts';
import {
  isBerthError,
  type Logger,
  notFound,
  notModified,
  StdcopyDecoder,
  silentLogger,
  stdcopyFrame,
} from '../../src/common/index.ts';
import type { Engine, IoSession, LogEntry } from '../../src/engine/index.ts';

const run = promisify(execFile);

// ---- the in-test engine ------------------------------------------------------------------------

interface Recorded {
  created: Array<{ body: unknown; options: unknown }>;
  inspectedImages: string[];
  imported: Array<{ bytes: number; options: unknown }>;
  eventsAborted: number;
  waitRelease?: (code: number) => void;
  liveSessions: number;
}

const CONTAINER_ID = 'c0ffee'.padEnd(64, '0');

/** An IoSession whose process echoes stdin back on stdout (stdcopy-framed), ending at stdin EOF. */
function echoSession(rec: Recorded, options: { tty: boolean; greeting?: string }): IoSession {
  const output = new PassThrough();
  const input = new PassThrough();
  rec.liveSessions++;
  let isClosed = false;
  const frame = (b: Buffer) => (options.tty ? b : stdcopyFrame(1, b));
  if (options.greeting) output.write(frame(Buffer.from(options.greeting)));
  input.on('data', (chunk: Buffer) => output.write(frame(chunk)));
  input.on('end', () => output.end(frame(Buffer.from('bye\n'))));
  return {
    tty: options.tty,
    output,
    input,
    close() {
      if (isClosed) return;
      isClosed = true;
      rec.liveSessions--;
      output.end();
    },
  };
}

/** A service these routing tests never reach: every call fails loudly. */
function unusedService<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: (_t, prop) => () => {
      throw new Error(`${what}.${String(prop)} is not part of this test`);
    },
  });
}

function makeEngine(rec: Recorded): Engine {
  let isRunning = false;
  const summary: ContainerSummary = {
    Id: CONTAINER_ID,
    Names: ['/happy_turing'],
    Image: 'busybox',
    ImageID: `sha256:${'1'.repeat(64)}`,
    Command: 'sh',
    Created: 1700000000,
    Ports: [],
    Labels: {},
    State: 'running',
    Status: 'Up 5 minutes',
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
  const version: SystemVersion = {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: '0.1.0' }],
    Version: '0.1.0',
    ApiVersion: '1.41',
    MinAPIVersion: '1.24',
    GitCommit: 'abcdef0',
    GoVersion: 'node20',
    Os: 'linux',
    Arch: 'amd64',
    KernelVersion: '6.1.0',
    BuildTime: '2026-01-01T00:00:00.000000000+00:00',
  };
  const known = (ref: string) => {
    if (ref !== CONTAINER_ID && ref !== 'happy_turing') throw notFound(`No such container: ${ref}`);
  };
  return {
    async init() {},
    async shutdown() {},
    system: {
      version: () => version,
      info: async () => ({ ID: 'test', Containers: 1, ServerVersion: '0.1.0' }) as SystemInfo,
    },
    containers: {
      async create(body, options) {
        rec.created.push({ body, options });
        return { Id: CONTAINER_ID, Warnings: [] };
      },
      async inspect(ref) {
        if (ref === 'broken') throw new TypeError('cannot read properties of undefined');
        known(ref);
        return {
          Id: CONTAINER_ID,
          Name: '/happy_turing',
          State: { Status: 'running', Running: true },
          Config: { Tty: false, Image: 'busybox' },
          HostConfig: {},
        } as never;
      },
      async list() {
        return [summary];
      },
      async start(ref) {
        known(ref);
        if (isRunning) throw notModified('container already started');
        isRunning = true;
      },
      async stop(ref) {
        known(ref);
      },
      async restart(ref) {
        known(ref);
      },
      async update(ref) {
        known(ref);
        return { Warnings: [] };
      },
      async pause(ref) {
        known(ref);
      },
      async unpause(ref) {
        known(ref);
      },
      async kill(ref) {
        known(ref);
      },
      async wait(ref) {
        known(ref);
        return {
          result: new Promise((resolve) => {
            rec.waitRelease = (code) => resolve({ StatusCode: code });
          }),
        };
      },
      async remove(ref) {
        known(ref);
      },
      async rename(ref) {
        known(ref);
      },
      async top(ref) {
        known(ref);
        return { Titles: ['PID'], Processes: [['1']] };
      },
      async logs(ref, options) {
        known(ref);
        const lines: LogEntry[] = [
          { stream: 'stdout', line: Buffer.from('out 1\n'), time: '2026-01-02T03:04:05.123456789Z' },
          { stream: 'stderr', line: Buffer.from('err 1\n'), time: '2026-01-02T03:04:06.000000001Z' },
        ];
        async function* entries() {
          for (const e of lines) if (e.stream === 'stdout' ? options.stdout : options.stderr) yield e;
        }
        return { tty: false, entries: entries() };
      },
      async attach(ref) {
        known(ref);
        return echoSession(rec, { tty: false, greeting: 'attached\n' });
      },
      async resize(ref) {
        known(ref);
      },
    },
    execs: {
      async create(ref) {
        known(ref);
        return { Id: 'e'.repeat(64) };
      },
      async start(id, body) {
        if (id !== 'e'.repeat(64)) throw notFound(`No such exec instance: ${id}`);
        if (body.Detach) return undefined;
        return echoSession(rec, { tty: body.Tty ?? false });
      },
      async inspect(id) {
        return { ID: id, Running: false, ExitCode: 0, ContainerID: CONTAINER_ID } as never;
      },
      async resize() {},
    },
    images: {
      async list() {
        return [];
      },
      async inspect(ref) {
        rec.inspectedImages.push(ref);
        if (ref === 'missing') throw notFound(`No such image: ${ref}`);
        return { Id: `sha256:${'2'.repeat(64)}` } as never;
      },
      async history() {
        return [];
      },
      async save() {
        throw notFound('No such image: x');
      },
      async *load(): AsyncIterable<JsonMessage> {
        yield { stream: 'Loaded image: x:latest\n' };
      },
      async commit() {
        throw notFound('No such container: x');
      },
      async *pull(): AsyncIterable<JsonMessage> {
        yield { status: 'pulled' };
      },
      async *push(): AsyncIterable<JsonMessage> {
        yield { status: 'pushed' };
      },
      async login() {
        return { Status: 'Login Succeeded' };
      },
      async search() {
        return [];
      },
      async *import(tar: Readable, options): AsyncIterable<JsonMessage> {
        let bytes = 0;
        for await (const chunk of tar) bytes += (chunk as Buffer).length;
        rec.imported.push({ bytes, options });
        yield { status: `sha256:${'3'.repeat(64)}` };
      },
      async tag() {},
      async remove() {
        return [{ Untagged: 'a:latest' }];
      },
    },
    networks: {
      list: async () => [],
      inspect: async (ref) => {
        throw notFound(`network ${ref} not found`);
      },
      create: async () => ({ Id: 'n', Warning: '' }),
      remove: async () => {},
      prune: async () => ({ NetworksDeleted: null }),
      connect: async () => {},
      disconnect: async () => {},
    },
    volumes: unusedService<Engine['volumes']>('volumes'),
    containerFs: unusedService<Engine['containerFs']>('containerFs'),
    events: {
      async *subscribe(_options, signal): AsyncIterable<EventMessage> {
        yield {
          Type: 'container',
          Action: 'start',
          Actor: { ID: CONTAINER_ID, Attributes: {} },
          scope: 'local',
          time: 1,
          timeNano: 1,
        };
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        rec.eventsAborted++;
      },
    },
  };
}

// ---- fixture: one server on a temp socket -------------------------------------------------------

let dir: string;
let socketPath: string;
let server: ApiServer;
const rec: Recorded = { created: [], inspectedImages: [], imported: [], eventsAborted: 0, liveSessions: 0 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-api-'));
  socketPath = join(dir, 'berth.sock');
  server = createApiServer({ engine: makeEngine(rec), log: silentLogger() });
  await server.listen({ unix: socketPath });
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };

// ---- plain HTTP ------------------------------------------------------------------------------------

test('the socket is created with mode 0660', async () => {
  assert.equal((await stat(socketPath)).mode & 0o777, 0o660);
});

test('GET /_ping answers OK with the headers the docker CLI reads', async () => {
  const r = await call('GET', '/_ping');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'OK');
  assert.equal(r.headers['api-version'], '1.41');
  assert.equal(r.headers['docker-experimental'], 'false');
  assert.equal(r.headers.ostype, 'linux');
  assert.equal(r.headers.server, 'Docker/0.1.0 (linux)');
  assert.equal(r.headers['builder-version'], '1');
  assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
  assert.equal(r.headers.pragma, 'no-cache');
});

test('HEAD /_ping answers 200 with the same headers and no body', async () => {
  const r = await call('HEAD', '/_ping');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['api-version'], '1.41');
});

test('a too new API version is a 400 with dockerd words', async () => {
  const r = await call('GET', '/v1.99/version');
  assert.equal(r.status, 400);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(r.body), {
    message: 'client version 1.99 is too new. Maximum supported API version is 1.41',
  });
});

test('a too old API version is a 400 with dockerd words', async () => {
  const r = await call('GET', '/v1.10/version');
  assert.equal(r.status, 400);
  assert.match(
    JSON.parse(r.body).message,
    /^client version 1.10 is too old\. Minimum supported API version is 1.24/,
  );
});

test('an unknown route is 404 page not found, with the common headers', async () => {
  const r = await call('GET', '/v1.41/nothing/here');
  assert.equal(r.status, 404);
  assert.deepEqual(JSON.parse(r.body), { message: 'page not found' });
  assert.equal(r.headers['api-version'], '1.41');
});

test('GET /version returns the engine version as JSON', async () => {
  const r = await call('GET', '/v1.41/version');
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).ApiVersion, '1.41');
});

test('create answers 201 with Id and Warnings and passes name and body to the engine', async () => {
  const r = await call(
    'POST',
    '/v1.41/containers/create?name=web',
    JSON.stringify({ Image: 'busybox', Cmd: ['sh'], HostConfig: { Memory: 1048576 } }),
    json,
  );
  assert.equal(r.status, 201);
  assert.deepEqual(JSON.parse(r.body), { Id: CONTAINER_ID, Warnings: [] });
  const last = rec.created.at(-1);
  assert.deepEqual(last?.body, { Image: 'busybox', Cmd: ['sh'], HostConfig: { Memory: 1048576 } });
  assert.deepEqual(last?.options, { name: 'web', platform: undefined, apiVersion: '1.41' });
});

test('create with malformed JSON is a 400 in Go words', async () => {
  const r = await call('POST', '/containers/create', 'x', json);
  assert.equal(r.status, 400);
  assert.equal(
    JSON.parse(r.body).message,
    "invalid JSON: invalid character 'x' looking for beginning of value",
  );
});

test('create with a string Memory is a 400, not a 500', async () => {
  const r = await call('POST', '/containers/create', '{"Image":"a","HostConfig":{"Memory":"x"}}', json);
  assert.equal(r.status, 400);
  assert.match(
    JSON.parse(r.body).message,
    /cannot unmarshal string into Go struct field .*Memory of type int64/,
  );
});

test('create with a non-JSON Content-Type is a 400', async () => {
  const r = await call('POST', '/containers/create', '{}', { 'Content-Type': 'text/plain' });
  assert.equal(r.status, 400);
});

test('start answers 204, then 304 with no body when already started', async () => {
  assert.equal((await call('POST', `/containers/${CONTAINER_ID}/start`)).status, 204);
  const again = await call('POST', `/containers/${CONTAINER_ID}/start`);
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
});

test('a NotFound from the engine is a 404 with its message', async () => {
  const r = await call('GET', '/containers/nope/json');
  assert.equal(r.status, 404);
  assert.deepEqual(JSON.parse(r.body), { message: 'No such container: nope' });
});

test('an unexpected engine error is a 500 with its message', async () => {
  const r = await call('GET', '/containers/broken/json');
  assert.equal(r.status, 500);
  assert.deepEqual(JSON.parse(r.body), { message: 'cannot read properties of undefined' });
});

test('an image name with a registry port and slashes reaches the engine whole', async () => {
  const r = await call('GET', '/v1.41/images/localhost:5000/a/b:tag/json');
  assert.equal(r.status, 200);
  assert.equal(rec.inspectedImages.at(-1), 'localhost:5000/a/b:tag');
});

test('invalid query values are 400', async () => {
  assert.equal((await call('POST', `/containers/${CONTAINER_ID}/stop?t=soon`)).status, 400);
  assert.equal((await call('GET', '/containers/json?filters=%7B')).status, 400);
  assert.equal((await call('GET', `/containers/${CONTAINER_ID}/logs`)).status, 400);
});

test('wait sends the 200 headers before the container exits, then the status', async () => {
  const req = request({ socketPath, method: 'POST', path: `/v1.41/containers/${CONTAINER_ID}/wait` });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 200);
  assert.ok(rec.waitRelease, 'the wait is registered before the headers are sent');
  rec.waitRelease(3);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { StatusCode: 3, Error: null });
});

test('logs are stdcopy-framed per stream with RFC 3339 nano timestamps', async () => {
  const r = await new Promise<Buffer>((resolve, reject) => {
    const req = request(
      { socketPath, path: `/containers/${CONTAINER_ID}/logs?stdout=1&stderr=1&timestamps=1` },
      (res) => {
        assert.equal(res.headers['content-type'], 'application/vnd.docker.raw-stream');
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const decoder = new StdcopyDecoder();
  const frames: Array<{ stream: number; payload: Buffer }> = [];
  decoder.on('data', (f) => frames.push(f));
  decoder.end(r);
  await once(decoder, 'end');
  assert.deepEqual(
    frames.map((f) => [f.stream, f.payload.toString()]),
    [
      [1, '2026-01-02T03:04:05.123456789Z out 1\n'],
      [2, '2026-01-02T03:04:06.000000001Z err 1\n'],
    ],
  );
});

test('events stream one JSON object per line and the engine sees the disconnect', async () => {
  const before = rec.eventsAborted;
  const req = request({ socketPath, path: '/events' });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 200);
  const [first] = (await once(res, 'data')) as [Buffer];
  assert.equal(JSON.parse(first.toString().split('\n')[0]!).Action, 'start');
  req.destroy();
  for (let i = 0; i < 100 && rec.eventsAborted === before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rec.eventsAborted, before + 1);
});

test('images/create fromSrc=- streams the import progress as JSON lines', async () => {
  const tar = Buffer.alloc(2048, 7);
  const r = await call(
    'POST',
    '/images/create?fromSrc=-&repo=mine&tag=v1&changes=CMD%20sh&changes=ENV%20A%3D1',
    tar,
    {
      'Content-Type': 'application/x-tar',
    },
  );
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body.trim()).status, `sha256:${'3'.repeat(64)}`);
  assert.deepEqual(rec.imported.at(-1), {
    bytes: 2048,
    options: { repo: 'mine', tag: 'v1', changes: ['CMD sh', 'ENV A=1'] },
  });
});

test('images/create fromImage streams the engine pull progress', async () => {
  const r = await call('POST', '/images/create?fromImage=busybox&tag=latest');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body.trim()), { status: 'pulled' });
});

test('tag answers 201 and image delete answers the list', async () => {
  assert.equal((await call('POST', '/images/a/tag?repo=b&tag=c')).status, 201);
  const r = await call('DELETE', '/images/a:latest');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), [{ Untagged: 'a:latest' }]);
});

// ---- hijack --------------------------------------------------------------------------------------

/** Reads a raw socket until the response head is complete; returns the head and what followed. */
async function readHead(sock: Socket): Promise<{ head: string; rest: Buffer }> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0) return { head: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) };
    const [chunk] = (await once(sock, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
  }
}

async function readAll(sock: Socket, first: Buffer): Promise<Buffer> {
  const chunks = [first];
  sock.on('data', (c: Buffer) => chunks.push(c));
  await once(sock, 'end');
  return Buffer.concat(chunks);
}

function decodeFrames(buf: Buffer): string {
  let out = '';
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at + 4);
    out += buf.subarray(at + 8, at + 8 + size).toString();
    at += 8 + size;
  }
  return out;
}

test('exec start with a never-ended chunked body upgrades; stdin flows in, half-close is EOF', async () => {
  const sock = connect(socketPath);
  await once(sock, 'connect');
  // dockerode's shape: chunked, the body in one chunk, no terminating chunk.
  const body = '{"Detach":false,"Tty":false}';
  sock.write(
    `POST /v1.41/exec/${'e'.repeat(64)}/start HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
      `Connection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n`,
  );
  const { head, rest } = await readHead(sock);
  const lines = head.split('\r\n');
  assert.equal(lines[0], 'HTTP/1.1 101 UPGRADED');
  assert.ok(lines.includes('Content-Type: application/vnd.docker.raw-stream'));
  assert.ok(lines.includes('Connection: Upgrade'));
  assert.ok(lines.includes('Upgrade: tcp'));
  assert.ok(lines.includes('Api-Version: 1.41'));
  sock.write('hello\n');
  sock.end();
  const out = await readAll(sock, rest);
  assert.equal(decodeFrames(out), 'hello\nbye\n');
});

test('exec start of an unknown exec answers a 404 on the raw socket', async () => {
  const sock = connect(socketPath);
  await once(sock, 'connect');
  const body = '{"Detach":false}';
  sock.write(
    `POST /exec/nope/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  const { head, rest } = await readHead(sock);
  assert.match(head, /^HTTP\/1.1 404 Not Found/);
  const all = await readAll(sock, rest);
  assert.deepEqual(JSON.parse(all.toString()), { message: 'No such exec instance: nope' });
});

test('a detached exec start over an upgrade answers 200 and closes', async () => {
  const sock = connect(socketPath);
  await once(sock, 'connect');
  const body = '{"Detach":true}';
  sock.write(
    `POST /exec/${'e'.repeat(64)}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
  );
  const { head } = await readHead(sock);
  assert.match(head, /^HTTP\/1.1 200 OK/);
});

test('attach with Upgrade hijacks: output arrives, stdin echoes, the socket closes when output ends', async () => {
  const sock = connect(socketPath);
  await once(sock, 'connect');
  sock.write(
    `POST /v1.41/containers/${CONTAINER_ID}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n` +
      'Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n\r\n',
  );
  const { head, rest } = await readHead(sock);
  assert.match(head, /^HTTP\/1.1 101 UPGRADED/);
  sock.write('ping\n');
  sock.end();
  const out = await readAll(sock, rest);
  assert.equal(decodeFrames(out), 'attached\nping\nbye\n');
});

test('attach without Upgrade streams the output as a 200 body', async () => {
  const before = rec.liveSessions;
  const req = request({
    socketPath,
    method: 'POST',
    path: `/containers/${CONTAINER_ID}/attach?stream=1&stdout=1`,
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'application/vnd.docker.raw-stream');
  const [chunk] = (await once(res, 'data')) as [Buffer];
  assert.equal(decodeFrames(chunk), 'attached\n');
  req.destroy();
  for (let i = 0; i < 100 && rec.liveSessions !== before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rec.liveSessions, before, 'the session is closed when the client goes away');
});

// ---- the real docker CLI -------------------------------------------------------------------------

const hasDocker = existsSync('/usr/local/bin/docker') || existsSync('/usr/bin/docker');

function dockerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_CONTEXT: '' };
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['-H', `unix://${socketPath}`, ...args], {
    env: dockerEnv(),
    timeout: 20_000,
  });
  return stdout;
}

/** Runs the docker CLI with `input` on its stdin; resolves with its stdout. */
async function dockerWithInput(input: string, ...args: string[]): Promise<string> {
  const child = spawn('docker', ['-H', `unix://${socketPath}`, ...args], { env: dockerEnv() });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'close')) as [number];
  clearTimeout(timer);
  assert.equal(code, 0, `docker ${args.join(' ')} failed: ${err}`);
  return out;
}

test('docker version shows the server version and API version', {
  skip: !hasDocker && 'no docker CLI',
}, async () => {
  const out = await docker('version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}');
  assert.equal(out.trim(), '0.1.0 1.41');
});

test('docker ps lists the engine containers', { skip: !hasDocker && 'no docker CLI' }, async () => {
  const out = await docker('ps', '--format', '{{.ID}} {{.Names}} {{.Image}}');
  assert.equal(out.trim(), `${CONTAINER_ID.slice(0, 12)} happy_turing busybox`);
});

test('docker exec -i sends stdin through the hijacked exec start', {
  skip: !hasDocker && 'no docker CLI',
}, async () => {
  const out = await dockerWithInput('hello from stdin\n', 'exec', '-i', 'happy_turing', 'cat');
  assert.equal(out, 'hello from stdin\nbye\n');
});

test('docker logs demultiplexes stdout and stderr', { skip: !hasDocker && 'no docker CLI' }, async () => {
  const { stdout, stderr } = await run('docker', ['-H', `unix://${socketPath}`, 'logs', '-t', CONTAINER_ID], {
    env: dockerEnv(),
  });
  assert.equal(stdout, '2026-01-02T03:04:05.123456789Z out 1\n');
  assert.equal(stderr, '2026-01-02T03:04:06.000000001Z err 1\n');
});

test('docker inspect of an unknown container prints Docker text', {
  skip: !hasDocker && 'no docker CLI',
}, async () => {
  await assert.rejects(docker('inspect', '--type', 'container', 'nope'), (err: { stderr: string }) =>
    /No such container: nope/.test(err.stderr),
  );
});

// ---- listen and close --------------------------------------------------------------------------

test('listen removes a stale socket file nobody answers on', async () => {
  const path = join(dir, 'stale.sock');
  await writeStaleSocket(path);
  assert.ok((await stat(path)).isSocket());
  const s = createApiServer({ engine: makeEngine(rec), log: silentLogger() });
  await s.listen({ unix: path, mode: 0o600 });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  await s.close();
});

test('listen refuses a socket another daemon still answers on', async () => {
  const s = createApiServer({ engine: makeEngine(rec), log: silentLogger() });
  await assert.rejects(s.listen({ unix: socketPath }), (err) => isBerthError(err, 'Conflict'));
});

test('listen refuses to replace a file that is not a socket', async () => {
  const path = join(dir, 'regular');
  await writeFile(path, 'keep me');
  const s = createApiServer({ engine: makeEngine(rec), log: silentLogger() });
  await assert.rejects(s.listen({ unix: path }), (err) => isBerthError(err, 'Conflict'));
});

test('close ends hijacked sessions and open streams', async () => {
  const path = join(dir, 'closing.sock');
  const r2: Recorded = { created: [], inspectedImages: [], imported: [], eventsAborted: 0, liveSessions: 0 };
  const s = createApiServer({ engine: makeEngine(r2), log: silentLogger() });
  await s.listen({ unix: path });
  const sock = connect(path);
  await once(sock, 'connect');
  sock.write(
    `POST /containers/${CONTAINER_ID}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
  );
  await readHead(sock);
  const events = request({ socketPath: path, path: '/events' });
  events.on('error', () => {});
  events.end();
  await once(events, 'response');
  assert.equal(r2.liveSessions, 1);
  await s.close();
  assert.equal(r2.liveSessions, 0);
  assert.equal(r2.eventsAborted, 1);
  assert.equal(existsSync(path), false, 'the socket file is removed');
  sock.destroy();
});

test('an unexpected error is logged once with its stack; every request gets one debug line', async () => {
  const path = join(dir, 'logging.sock');
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log: Logger = {
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  const s = createApiServer({ engine: makeEngine(rec), log });
  await s.listen({ unix: path });
  try {
    const r = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: path, path: '/v1.41/containers/broken/json' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r, 500);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    const err = errors[0]!.fields!.err as Error;
    assert.match(String(err.stack), /TypeError: cannot read properties/);
    const debug = lines.filter((l) => l.level === 'debug' && l.msg === 'request');
    assert.equal(debug.length, 1);
    assert.equal(debug[0]?.fields?.method, 'GET');
    assert.equal(debug[0]?.fields?.path, '/v1.41/containers/broken/json');
    assert.equal(debug[0]?.fields?.status, 500);
    assert.equal(typeof debug[0]?.fields?.ms, 'number');
  } finally {
    await s.close();
  }
});

/** A socket file with no listener, as a killed daemon leaves it. */
async function writeStaleSocket(path: string): Promise<void> {
  await run('python3', [
    '-c',
    `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`,
  ]);
}
