import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { isInsecureRegistry, isLoopbackHost, parseChallenge, registryHost } from './client.ts';
import { countBytes, drain, humanSize, MessageQueue, progressText } from './progress.ts';
import { parsePlatform, pullReference } from './pull.ts';
import { maxMountAttempts, mountCandidates } from './push.ts';
import { searchFilter, splitSearchTerm } from './search.ts';
import { parseHtpasswd, parseScope } from './server/auth.ts';
import { parseRoute, requiredAccess, searchRepositories } from './server/server.ts';

test('Bearer challenges give realm and service; Basic is recognised', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    { scheme: 'bearer', realm: 'https://auth.docker.io/token', service: 'registry.docker.io' },
  );
  assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic' });
  assert.equal(parseChallenge('Bearer service="x"'), undefined);
  assert.equal(parseChallenge(undefined), undefined);
});

test('docker.io is reached at registry-1.docker.io; loopback hosts are insecure', () => {
  assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.ok(isLoopbackHost('localhost:5000'));
  assert.ok(isLoopbackHost('127.3.2.1'));
  assert.ok(isLoopbackHost('[::1]:5000'));
  assert.ok(!isLoopbackHost('registry.example.com:5000'));
});

test('pull references normalise as Docker does, a digest tag pins the digest', () => {
  assert.deepEqual(pullReference('busybox', 'latest'), {
    domain: 'docker.io',
    path: 'library/busybox',
    tag: 'latest',
  });
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(pullReference('localhost:5000/x', d).digest, d);
  assert.equal(pullReference('localhost:5000/x').tag, undefined);
});

test('platforms parse as os/arch/variant', () => {
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
});

test('progress text and sizes look like docker', () => {
  assert.equal(humanSize(1234567), '1.23MB');
  assert.equal(humanSize(999), '999B');
  assert.match(progressText(50, 100), /^\[=+>\s+\]\s+50B\/100B$/);
  assert.match(progressText(100, 100), /^\[={50}\]/);
});

test('the message queue delivers in order and ends with a failure', async () => {
  const q = new MessageQueue<number>();
  q.push(1);
  q.push(2);
  q.fail(new Error('boom'));
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const n of q) seen.push(n);
  }, /boom/);
  assert.deepEqual(seen, [1, 2]);
});

test('registry routes split names containing slashes', () => {
  assert.deepEqual(parseRoute('/v2/a/b/c/manifests/v1'), { kind: 'manifest', name: 'a/b/c', ref: 'v1' });
  assert.deepEqual(parseRoute('/v2/a/blobs/uploads/'), { kind: 'uploads', name: 'a' });
  assert.deepEqual(parseRoute('/v2/a/blobs/uploads/123'), { kind: 'upload', name: 'a', id: '123' });
  assert.deepEqual(parseRoute('/v2/x/tags/list'), { kind: 'tags', name: 'x' });
  assert.deepEqual(parseRoute('/v2/_catalog'), { kind: 'catalog' });
  assert.equal(parseRoute('/v1/x'), undefined);
  assert.deepEqual(requiredAccess({ kind: 'blob', name: 'a', digest: 'd' }, 'DELETE'), {
    type: 'repository',
    name: 'a',
    actions: ['delete'],
  });
});

test('scopes keep names with host:port', () => {
  assert.deepEqual(parseScope('repository:localhost:5000/a/b:pull,push'), {
    type: 'repository',
    name: 'localhost:5000/a/b',
    actions: ['pull', 'push'],
  });
  assert.equal(parseScope('nonsense'), undefined);
});

test('htpasswd accepts bcrypt entries only', () => {
  const users = parseHtpasswd('# c\nbob:$2y$05$abcdefghijklmnopqrstuuJ4XH3dbz5iYq8cKqOSHHN1SGVxqGk3O\n');
  assert.ok(users.has('bob'));
  assert.throws(() => parseHtpasswd('bob:{SHA}abc'), /only bcrypt/);
});

test('insecure registries: loopback, exact host:port entries and CIDRs holding the address', async () => {
  assert.equal(await isInsecureRegistry('localhost:5000', []), true);
  assert.equal(await isInsecureRegistry('reg.example:5000', ['reg.example:5000']), true);
  assert.equal(await isInsecureRegistry('reg.example:5000', ['reg.example']), false);
  assert.equal(await isInsecureRegistry('10.1.2.3:5000', ['10.0.0.0/8']), true);
  assert.equal(await isInsecureRegistry('192.168.1.1', ['10.0.0.0/8']), false);
  assert.equal(await isInsecureRegistry('[fd00::1]:5000', ['fd00::/8']), true);
});

test('counted bodies lose no bytes when their reader comes late (a request waiting for a connection)', async () => {
  const chunks = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1000, i));
  const seen: number[] = [];
  const body = countBytes(Readable.from(chunks), (n) => seen.push(n));
  await sleep(20);
  let total = 0;
  for await (const c of body) total += (c as Buffer).length;
  assert.equal(total, 20_000);
  assert.equal(seen.at(-1), 20_000);
});

test('mount candidates: same registry, not the target, newest first, closer paths before others', () => {
  const target = { domain: 'localhost:5000', path: 'team/app' };
  const sources = [
    'localhost:5000/other/base', // oldest
    'localhost:5000/team/app', // the target itself
    'registry.example.com/team/base', // another registry
    'localhost:5000/team/base',
    'localhost:5000/lib/tool', // newest
  ];
  assert.deepEqual(mountCandidates(sources, target, 4), ['team/base', 'lib/tool', 'other/base']);
  assert.deepEqual(mountCandidates(sources, target, 1), ['team/base']);
  assert.deepEqual(
    mountCandidates(['docker.io/library/busybox'], { domain: 'docker.io', path: 'me/bb' }, 3),
    ['library/busybox'],
  );
});

test('the bigger the blob, the more mounts are tried (moby: 1, 3 or 4)', () => {
  assert.equal(maxMountAttempts(1000), 1);
  assert.equal(maxMountAttempts(200 * 1024), 3);
  assert.equal(maxMountAttempts(20 * 1024 * 1024), 4);
});

test('search terms name an index only when their first part is a host', () => {
  assert.deepEqual(splitSearchTerm('busybox'), { index: 'docker.io', remote: 'busybox' });
  assert.deepEqual(splitSearchTerm('library/busybox'), { index: 'docker.io', remote: 'library/busybox' });
  assert.deepEqual(splitSearchTerm('127.0.0.1:5000/team'), { index: '127.0.0.1:5000', remote: 'team' });
  assert.deepEqual(splitSearchTerm('localhost/a/b'), { index: 'localhost', remote: 'a/b' });
  assert.deepEqual(splitSearchTerm('registry.example.com/x'), { index: 'registry.example.com', remote: 'x' });
});

test('search filters are checked and applied as dockerd does', () => {
  const r = (stars: number, official: boolean) => ({
    name: 'x',
    description: '',
    star_count: stars,
    is_official: official,
    is_automated: false,
  });
  assert.throws(() => searchFilter({ nope: ['1'] }), /invalid filter 'nope'/);
  assert.throws(() => searchFilter({ stars: ['x'] }), /invalid filter 'stars=x'/);
  assert.throws(() => searchFilter({ 'is-official': ['maybe'] }), /invalid filter 'is-official=\[maybe\]'/);
  assert.equal(searchFilter({ 'is-automated': ['true'] }).none, true);
  const f = searchFilter({ stars: ['2', '5'], 'is-official': ['true'] });
  assert.equal(f.keep(r(5, true)), true);
  assert.equal(f.keep(r(4, true)), false);
  assert.equal(f.keep(r(9, false)), false);
  assert.equal(searchFilter({}).keep(r(0, false)), true);
});

test("berth's registry searches its repository names, n per page", () => {
  const all = ['a/busybox', 'b/alpine', 'c/BusyBox-extra', 'd/other'];
  const res = searchRepositories(all, { q: 'busy', n: null, page: null });
  assert.deepEqual(
    res.results.map((x) => x.name),
    ['a/busybox', 'c/BusyBox-extra'],
  );
  assert.equal(res.num_results, 2);
  assert.equal(res.page_size, 25);
  const paged = searchRepositories(all, { q: '', n: '3', page: '2' });
  assert.deepEqual(
    paged.results.map((x) => x.name),
    ['d/other'],
  );
  assert.equal(paged.num_pages, 2);
});

test('drain yields what the work reports and ends with its failure', async () => {
  const q = new MessageQueue<number>();
  const work = (async () => {
    q.push(1);
    await sleep(5);
    q.push(2);
    throw new Error('broken');
  })();
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const n of drain(q, work)) seen.push(n);
  }, /broken/);
  assert.deepEqual(seen, [1, 2]);
});
