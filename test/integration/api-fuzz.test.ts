/**
 * API fuzzing: at least 10,000 malformed requests (wrong methods and paths, query values of the
 * wrong type, absurd limits, malformed or huge JSON, invalid UTF-8, path traversal in names and
 * ids, clients that disconnect mid-request or mid-stream). berthd must answer each with a 4xx
 * (never crash, hang or 500), keep serving, and write nothing outside its data root.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, startDaemon } from '../helpers/daemon.ts';

const COUNT = Number(process.env.BERTH_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 32;

const PATHS = [
  '/_ping',
  '/version',
  '/info',
  '/events',
  '/containers/create',
  '/containers/json',
  '/containers/{id}/json',
  '/containers/{id}/start',
  '/containers/{id}/stop',
  '/containers/{id}/restart',
  '/containers/{id}/kill',
  '/containers/{id}/wait',
  '/containers/{id}',
  '/containers/{id}/rename',
  '/containers/{id}/top',
  '/containers/{id}/logs',
  '/containers/{id}/attach',
  '/containers/{id}/resize',
  '/containers/{id}/exec',
  '/exec/{id}/start',
  '/exec/{id}/json',
  '/exec/{id}/resize',
  '/images/json',
  '/images/{id}/json',
  '/images/{id}/history',
  '/images/{id}/tag',
  '/images/{id}',
  '/nope',
  '/v1.41/{id}',
  '/v0.1/version',
  '/v99.0/info',
  '/v1.41/containers/{id}/json',
];
const IDS = [
  '../../../etc/passwd',
  '..%2F..%2Fetc',
  '%00',
  'a'.repeat(5000),
  '%ff%fe',
  'busybox:latest',
  '-',
  '.',
  '..',
  'x/../../y',
  'sha256:' + 'z'.repeat(64),
  '%E2%80%AE',
  '🙂',
  '$(touch /tmp/pwned)',
  'abc def',
];
const QUERIES = [
  'all=maybe',
  'limit=-99999999999999999999',
  'limit=1e400',
  't=abc',
  'timeout=-5',
  'signal=SIGNOPE',
  'h=-1&w=99999999999',
  'h=x&w=y',
  'filters=%7Bbad',
  'filters=%7B%22status%22%3A%5B1%5D%7D',
  'filters=%5B%5D',
  'tail=%ff',
  'since=tomorrow',
  'until=-1e309',
  'name=..%2F..%2Fx',
  'name=%00',
  'condition=sometimes',
  'stream=2&stdin=yes',
  'size=%zz',
  'detachKeys=ctrl-%ff',
  'fromSrc=..%2Fx',
  'repo=%2F%2F&tag=%00',
  'force=1&v=1&link=banana',
];
const BODIES: Array<string | Buffer> = [
  '{',
  '[]',
  'null',
  '"x"',
  '{"Image":',
  '{"Image":123}',
  '{"Image":"x","Cmd":"notalist"}',
  '{"HostConfig":{"Memory":"lots"}}',
  '{"Env":[1,2,3]}',
  `{"Labels":{${'"k":"v",'.repeat(5000)}"z":"z"}}`,
  Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
  '{"Cmd":["a"],"Image":"../../x"}',
  '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
  '{"Healthcheck":{"Interval":-1}}',
  '{"HostConfig":{"RestartPolicy":{"Name":"always","MaximumRetryCount":-3}}}',
  '{"Detach":"yes"}',
  '{"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"-1"}}}}',
  '{"HostConfig":{"Binds":["/:/host:rw,../../"]}}',
  '{"Tty":true,"Cmd":[]}',
];
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'BREW'];

const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)] as T;

/** One raw request; resolves with the status (0: no answer, connection cut by us or by it). */
function rawRequest(socket: string, data: Buffer, cutAfterMs?: number): Promise<number> {
  return new Promise((resolve) => {
    const s = connect(socket);
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(-1);
    }, 10_000);
    const done = (status: number) => {
      clearTimeout(timer);
      s.destroy();
      resolve(status);
    };
    s.on('data', (c) => {
      got += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) done(Number(m[1]));
    });
    s.on('error', () => done(0));
    s.on('close', () => done(0));
    s.on('connect', () => {
      s.write(data);
      if (cutAfterMs !== undefined) setTimeout(() => done(0), cutAfterMs);
    });
  });
}

function malformed(): { data: Buffer; cut?: number } {
  const method = pick(METHODS);
  let path = pick(PATHS).replaceAll('{id}', pick(IDS));
  if (Math.random() < 0.7) path += `?${pick(QUERIES)}${Math.random() < 0.3 ? `&${pick(QUERIES)}` : ''}`;
  const kind = Math.random();
  const body = Math.random() < 0.6 ? pick(BODIES) : '';
  const bodyBuf = typeof body === 'string' ? Buffer.from(body) : body;
  const headers = [`${method} ${path} HTTP/1.1`, 'Host: fuzz'];
  if (kind < 0.05) {
    // An absurd Content-Length, then a disconnect.
    headers.push('Content-Type: application/json', 'Content-Length: 99999999999');
    return { data: Buffer.from(`${headers.join('\r\n')}\r\n\r\n{"Image":`), cut: 20 };
  }
  if (kind < 0.1) {
    // Garbage request line.
    return { data: Buffer.concat([Buffer.from([0xff, 0x00, 0x13]), Buffer.from(' / HTTP/9\r\n\r\n')]) };
  }
  if (kind < 0.15) {
    // Headers cut in the middle.
    return { data: Buffer.from(`${headers.join('\r\n')}\r\nContent-Le`), cut: 5 };
  }
  if (kind < 0.2) {
    headers.push('Content-Type: text/plain');
  } else if (bodyBuf.length) {
    headers.push('Content-Type: application/json');
  }
  if (kind > 0.95 && path.includes('/attach')) headers.push('Connection: Upgrade', 'Upgrade: tcp');
  headers.push(`Content-Length: ${bodyBuf.length}`);
  return {
    data: Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`), bodyBuf]),
    ...(kind > 0.9 ? { cut: 2 } : {}),
  };
}

describe('API fuzzing', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.stop();
  });

  test(`${COUNT} malformed requests: only 4xx answers, no crash, no hang, nothing outside the data root`, async () => {
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    let sent = 0;
    const t0 = Date.now();
    const worker = async () => {
      while (sent < COUNT) {
        sent++;
        const { data, cut } = malformed();
        const status = await rawRequest(d.socket, data, cut);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500 || status === -1)
          serverErrors.push(`${status} ${data.subarray(0, 160).toString('latin1')}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ms = Date.now() - t0;
    process.stdout.write(
      `# fuzz: ${COUNT} requests in ${ms} ms: ${JSON.stringify(Object.fromEntries(statuses))}\n`,
    );
    assert.equal(d.process.exitCode, null, 'berthd is alive');
    assert.equal((await d.api('GET', '/_ping')).status, 200);
    assert.deepEqual(serverErrors.slice(0, 10), [], `${serverErrors.length} 5xx answers or hangs`);
    assert.ok(!existsSync('/tmp/pwned'));
    // Everyone else is still served normally.
    const list = await d.api('GET', '/containers/json?all=1');
    assert.equal(list.status, 200);
  });
});
