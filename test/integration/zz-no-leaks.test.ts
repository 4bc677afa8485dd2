/**
 * Runs after every other integration test file (the runner takes them in name order, one at a
 * time): nothing that berth's tests created may remain on the host. Tests work under temp dirs
 * named `bt-*` with cgroup parents named `berth-test-*`, so a berthd a user runs on the same
 * host (scripts/try.sh) is not mistaken for a leak.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { canRunRoot } from '../helpers/daemon.ts';

const exec = promisify(execFile);

test('no berth mounts remain', { skip: !canRunRoot() && 'needs root' }, async () => {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((l) => l.includes(`${tmpdir()}/bt-`));
  assert.deepEqual(mounts, []);
});

test('no berth cgroups remain', { skip: !canRunRoot() && 'needs root' }, async () => {
  const left: string[] = [];
  for (const controller of await readdir('/sys/fs/cgroup')) {
    const dirs = await readdir(`/sys/fs/cgroup/${controller}`).catch(() => [] as string[]);
    left.push(...dirs.filter((d) => d.startsWith('berth-test-')).map((d) => `${controller}/${d}`));
  }
  assert.deepEqual(left, []);
});

test('no berth processes remain', { skip: !canRunRoot() && 'needs root' }, async () => {
  const { stdout } = await exec('pgrep', ['-fa', 'berth-shim|berthd|dockerd|containerd']).catch(() => ({
    stdout: '',
  }));
  // A private dockerd (test/helpers/dockerd.ts) and its containerd and shims work under bt-* too.
  const mine = stdout.split('\n').filter((l) => l.includes(`${tmpdir()}/bt-`) && !l.includes('pgrep'));
  assert.deepEqual(mine, []);
});

test('no temp data roots remain', async () => {
  const left = (await readdir(tmpdir())).filter((d) => /^(bt-|berth-cli-)/.test(d));
  assert.deepEqual(left, []);
});

test('no test bridges, veths or nftables tables remain', {
  skip: !canRunRoot() && 'needs root',
}, async () => {
  // Test daemons name every interface and their nftables table `btn…` (test/helpers/daemon.ts).
  const { stdout: links } = await exec('ip', ['-o', 'link', 'show']);
  const leftLinks = [...links.matchAll(/^\d+: ([^:@]+)[@:]/gm)]
    .map((m) => m[1] as string)
    .filter((n) => n.startsWith('btn'));
  assert.deepEqual(leftLinks, []);
  const { stdout: tables } = await exec('nft', ['list', 'tables']);
  assert.deepEqual(
    tables.split('\n').filter((l) => /^table \S+ btn/.test(l)),
    [],
  );
});

test('no test network namespaces remain', { skip: !canRunRoot() && 'needs root' }, async () => {
  // berth joins containers' own namespaces (/proc/<pid>/ns/net) and names none in /run/netns.
  const named = await readdir('/run/netns').catch(() => [] as string[]);
  assert.deepEqual(
    named.filter((n) => n.startsWith('btn')),
    [],
  );
});
