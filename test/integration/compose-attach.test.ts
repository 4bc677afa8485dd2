/**
 * Attached `berth compose up` against berthd: prefixed logs of every service, `exited with
 * code N`, return when all containers have exited, --abort-on-container-exit and
 * --exit-code-from, SIGINT stopping gracefully and a second SIGINT killing, colours only on a
 * terminal (under script(1)).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  BERTH,
  berth,
  canRunRoot,
  makeBusybox,
  run,
  startDaemon,
  type TestDaemon,
} from '../helpers/daemon.ts';

const skip = !canRunRoot() && 'needs root';
let d: TestDaemon;
let dir: string;
let file: string;

const FILE = `
services:
  quick:
    image: busybox
    command: ["sh", "-c", "echo hello from quick; echo oops >&2; exit 3"]
  steady:
    image: busybox
    command: ["sh", "-c", "trap 'echo steady stopping; exit 7' TERM; echo steady up; while true; do sleep 0.1; done"]
  stubborn:
    image: busybox
    command: ["sh", "-c", "trap '' TERM; echo stubborn up; while true; do sleep 0.1; done"]
    stop_grace_period: 2m
`;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await makeBusybox(d);
  dir = await mkdtemp(join(tmpdir(), 'bt-ca-'));
  file = join(dir, 'compose.yaml');
  await writeFile(file, FILE);
});

after(async () => {
  if (skip) return;
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

const cmd = (...a: string[]) => ['compose', '-f', file, '-p', 'ca', ...a];
const up = (...a: string[]) => berth(d, ...cmd('up', ...a));

async function state(name: string) {
  return JSON.parse((await berth(d, 'inspect', name)).stdout)[0].State;
}

test('up follows the logs with prefixes and returns when every container has exited', { skip }, async () => {
  const r = await up('quick');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'Attaching to quick-1');
  assert.ok(lines.includes('quick-1  | hello from quick'), r.stdout);
  assert.ok(lines.includes('quick-1 exited with code 3'), r.stdout);
  assert.match(r.stderr, /^quick-1 {2}\| oops$/m);
  assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colours without a terminal');
  const logs = await berth(d, ...cmd('logs', 'quick'));
  assert.match(logs.stdout, /^quick-1 {2}\| hello from quick$/m);
  assert.match(logs.stderr, /^quick-1 {2}\| oops$/m);
  const bare = await berth(d, ...cmd('logs', '--no-log-prefix', 'quick'));
  assert.match(bare.stdout, /^hello from quick$/m);
});

test('--abort-on-container-exit stops the others and returns the first exit status', { skip }, async () => {
  const r = await up('--abort-on-container-exit', 'quick', 'steady');
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /^Attaching to quick-1, steady-1$/m);
  assert.match(r.stdout, /^quick-1 {3}\| hello from quick$/m);
  assert.match(r.stdout, /^quick-1 exited with code 3\nAborting on container exit\.\.\.$/m);
  assert.match(r.stdout, /^steady-1 exited with code 7$/m);
  assert.equal((await state('ca-steady-1')).Running, false);
  const only = await up('--abort-on-container-exit', '--attach', 'quick', 'quick', 'steady');
  assert.equal(only.code, 3, only.stderr);
  assert.match(only.stdout, /^Attaching to quick-1$/m);
  assert.doesNotMatch(only.stdout, /steady-1/);
  assert.equal((await state('ca-steady-1')).Running, false, 'not followed, still stopped');
});

test('--exit-code-from returns the chosen service exit status', { skip }, async () => {
  const r = await up('--exit-code-from', 'steady', 'quick', 'steady');
  assert.equal(r.code, 7, r.stdout + r.stderr);
  assert.match(r.stdout, /^steady-1 {2}\| steady stopping$/m);
  const bad = await up('--exit-code-from', 'nope');
  assert.notEqual(bad.code, 0);
});

/** Starts an attached up, resolves once `ready` appeared on its stdout. */
function spawnUp(service: string, ready: string) {
  const child = spawn(process.execPath, [BERTH, '-H', d.host, ...cmd('up', service)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (c) => {
    out += c;
    for (const w of waiters) w();
  });
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const seen = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(text)) resolve();
      };
      waiters.push(check);
      check();
      void exited.then(() => reject(new Error(`up exited before "${text}": ${out}${err}`)));
    });
  const isReady = seen(ready);
  return { child, exited, isReady, seen, output: () => out };
}

test('SIGINT stops the containers gracefully and up exits 130', { skip }, async (t) => {
  const u = spawnUp('steady', 'steady-1  | steady up');
  t.after(() => u.child.kill('SIGKILL'));
  await u.isReady;
  u.child.kill('SIGINT');
  const code = await u.exited;
  assert.equal(code, 130, u.output());
  assert.match(u.output(), /^Gracefully stopping\.\.\. \(press Ctrl\+C again to force\)$/m);
  assert.match(u.output(), /^steady-1 exited with code 7$/m);
  assert.equal((await state('ca-steady-1')).Running, false);
});

test('a second SIGINT kills what does not stop', { skip }, async (t) => {
  const u = spawnUp('stubborn', 'stubborn-1  | stubborn up');
  t.after(() => u.child.kill('SIGKILL'));
  await u.isReady;
  u.child.kill('SIGINT');
  await u.seen('Gracefully stopping...');
  u.child.kill('SIGINT');
  const code = await u.exited;
  assert.equal(code, 130, u.output());
  const s = await state('ca-stubborn-1');
  assert.equal(s.Running, false);
  assert.equal(s.ExitCode, 137);
});

test('prefixes are coloured on a terminal (script(1))', {
  skip: skip || (!existsSync('/usr/bin/script') && 'script(1) not installed'),
}, async () => {
  const line = [process.execPath, BERTH, '-H', d.host, ...cmd('up', 'quick')].map((a) => `'${a}'`).join(' ');
  const r = await run('script', ['-qec', line, '/dev/null']);
  assert.equal(r.code, 0, r.stdout);
  assert.ok(r.stdout.includes('\x1b[36mquick-1  | \x1b[0mhello from quick'), JSON.stringify(r.stdout));
  assert.ok(r.stdout.includes('\x1b[36mquick-1 exited with code 3\x1b[0m'), JSON.stringify(r.stdout));
});
