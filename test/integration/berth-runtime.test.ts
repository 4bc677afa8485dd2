/**
 * berth-runtime, our runtime behind runc's command line, next to runc on the same bundles
 * (state JSON, create/start/kill/delete, run's exit code, exec, ps, list, pause/resume, spec,
 * --log-format json, --console-socket); and berthd running containers with any runc-compatible
 * runtime (`docker run --runtime runc`, --add-runtime, --default-runtime, docker info).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RuntimeSpec } from '../../src/oci/index.ts';
import { BERTH_RUNTIME } from '../helpers/bins.ts';
import {
  cgroupParent as daemonCgroupParent,
  docker,
  makeBusybox,
  run,
  startDaemon,
  type TestDaemon,
} from '../helpers/daemon.ts';

const busybox = '/bin/busybox';
const hasRunc = (() => {
  try {
    execFileSync('runc', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : !existsSync(busybox)
      ? 'needs busybox-static'
      : !hasRunc && 'needs runc';

/** `<cli> --root <root> args…` with stdin/stdout/stderr as pipes (or files for create/run -d). */
function cli(
  cmd: string[],
  root: string,
  args: string[],
  opts: { detached?: boolean; global?: string[]; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...(opts.global ?? []), '--root', root, ...args], {
      // A created container keeps the stdio it was given: /dev/null, so we can wait for the CLI.
      stdio: opts.detached ? ['ignore', 'ignore', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => (stdout += c));
    child.stderr?.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on(opts.detached ? 'exit' : 'close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin?.end(opts.input);
  });
}

/** The messages of a runtime's error log lines (`level=error msg="…"`). */
function errors(stderr: string): string[] {
  return [...stderr.matchAll(/level=error msg="((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`));
}

describe('berth-runtime next to runc', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-rtcli-'));
  const rootfs = join(tmp, 'bundle', 'rootfs');
  const cgroupParent = `berth-test-rtcli${process.pid}`;
  const ours = [process.execPath, BERTH_RUNTIME];
  const theirs = ['runc'];
  const roots = { ours: join(tmp, 'ours'), theirs: join(tmp, 'runc') };
  const each = [
    { name: 'berth-runtime', cmd: ours, root: roots.ours },
    { name: 'runc', cmd: theirs, root: roots.theirs },
  ];
  let n = 0;

  /** A bundle from `<cli> spec` (ours), made runnable: no tty, the given args, a cgroup of ours. */
  function writeSpec(args: string[], edit?: (s: RuntimeSpec) => void): string {
    const dir = join(tmp, `b${++n}`);
    mkdirSync(dir);
    symlinkSync(rootfs, join(dir, 'rootfs'));
    execFileSync(ours[0]!, [...ours.slice(1), 'spec', '--bundle', dir]);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RuntimeSpec;
    if (spec.process) {
      spec.process.terminal = false;
      spec.process.args = args;
    }
    spec.root = { path: rootfs, readonly: true };
    spec.linux = { ...spec.linux, cgroupsPath: `/${cgroupParent}/c${n}` };
    edit?.(spec);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, '\t'));
    return dir;
  }

  before(() => {
    chmodSync(tmp, 0o755);
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(busybox, join(rootfs, 'bin/busybox'));
    chmodSync(join(rootfs, 'bin/busybox'), 0o755);
    for (const applet of execFileSync(busybox, ['--list']).toString().split('\n').filter(Boolean)) {
      if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
  });

  after(async () => {
    for (const { cmd, root } of each) {
      const list = await cli(cmd, root, ['list', '-q']).catch(() => ({ stdout: '' }));
      for (const id of list.stdout.split('\n').filter(Boolean)) await cli(cmd, root, ['delete', '-f', id]);
    }
    rmSync(tmp, { recursive: true, force: true });
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, cgroupParent);
      if (!existsSync(dir)) continue;
      for (const sub of readdirSync(dir, { withFileTypes: true })) {
        if (sub.isDirectory()) rmdirSync(join(dir, sub.name));
      }
      rmdirSync(dir);
    }
  });

  test('spec writes runc’s default config.json (and --rootless), and refuses to overwrite it', async () => {
    for (const rootless of [false, true]) {
      const dirs = each.map(({ name }) => {
        const d = join(tmp, `spec-${name}-${rootless}`);
        mkdirSync(d);
        return d;
      });
      for (const [i, { cmd, root }] of each.entries()) {
        const r = await cli(cmd, root, ['spec', ...(rootless ? ['--rootless'] : []), '--bundle', dirs[i]!]);
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal(
        readFileSync(join(dirs[0]!, 'config.json'), 'utf8'),
        readFileSync(join(dirs[1]!, 'config.json'), 'utf8'),
      );
      const again = await cli(ours, roots.ours, ['spec', '--bundle', dirs[0]!]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /File config\.json exists\. Remove it first/);
    }
  });

  test('create, state, start, kill, state stopped, delete: the same state JSON as runc', async () => {
    const dir = writeSpec(['sleep', '60']);
    const states: Record<string, unknown>[][] = [];
    for (const { cmd, root } of each) {
      const id = `life${n}`;
      const c = await cli(cmd, root, ['create', '--bundle', dir, '--pid-file', join(tmp, `${id}.pid`), id], {
        detached: true,
      });
      assert.equal(c.code, 0, c.stderr);
      const seen: Record<string, unknown>[] = [];
      const state = async () => {
        const s = await cli(cmd, root, ['state', id]);
        assert.equal(s.code, 0, s.stderr);
        return JSON.parse(s.stdout) as Record<string, unknown>;
      };
      const created = await state();
      assert.equal(created.pid, Number(readFileSync(join(tmp, `${id}.pid`), 'utf8')));
      seen.push(created);
      assert.equal((await cli(cmd, root, ['start', id])).code, 0);
      seen.push(await state());
      const again = await cli(cmd, root, ['start', id]);
      assert.notEqual(again.code, 0);
      const busy = await cli(cmd, root, ['delete', id]);
      assert.notEqual(busy.code, 0);
      assert.match(busy.stderr, /cannot delete container \S+ that is not stopped: running/);
      assert.equal((await cli(cmd, root, ['kill', id, 'KILL'])).code, 0);
      let stopped = await state();
      for (let i = 0; i < 50 && stopped.status !== 'stopped'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        stopped = await state();
      }
      seen.push(stopped);
      const k = await cli(cmd, root, ['kill', id]);
      assert.notEqual(k.code, 0);
      assert.match(k.stderr, /container not running/);
      assert.equal((await cli(cmd, root, ['delete', id])).code, 0);
      const gone = await cli(cmd, root, ['state', id]);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /container does not exist/);
      states.push(seen);
    }
    const shape = (s: Record<string, unknown>) => ({
      keys: Object.keys(s),
      status: s.status,
      hasPid: (s.pid as number) > 0,
      bundle: s.bundle,
      rootfs: s.rootfs,
      owner: s.owner,
      created: typeof s.created === 'string' && !Number.isNaN(Date.parse(s.created as string)),
    });
    assert.deepEqual(states[0]!.map(shape), states[1]!.map(shape));
    assert.deepEqual(
      states[0]!.map((s) => s.status),
      ['created', 'running', 'stopped'],
    );
  });

  test('run in the foreground: the container’s output and exit code, and nothing left behind', async () => {
    const dir = writeSpec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    for (const { cmd, root } of each) {
      const r = await cli(cmd, root, ['run', '--bundle', dir, `fg${n}`]);
      assert.deepEqual([r.code, r.stdout, r.stderr.includes('err\n')], [3, 'out\n', true]);
      const list = await cli(cmd, root, ['list', '-q']);
      assert.equal(list.stdout, '');
    }
  });

  test('exec (args and --process), ps --format json, list, pause/resume, kill --all', async () => {
    const dir = writeSpec(['sleep', '60']);
    const outputs: string[][] = [];
    for (const { cmd, root } of each) {
      const id = `ex${n}`;
      const r = await cli(cmd, root, ['run', '-d', '--bundle', dir, id], { detached: true });
      assert.equal(r.code, 0, r.stderr);
      const out: string[] = [];
      const e = await cli(cmd, root, [
        'exec',
        '-e',
        'X=1',
        '--cwd',
        '/tmp',
        id,
        'sh',
        '-c',
        'echo $X $(pwd); exit 4',
      ]);
      out.push(`${e.code} ${e.stdout}`);
      const u = await cli(cmd, root, ['exec', '--user', '65534:65534', id, 'id']);
      out.push(`${u.code} ${u.stdout}`);
      const proc = join(tmp, `proc-${id}.json`);
      writeFileSync(
        proc,
        JSON.stringify({
          user: { uid: 0, gid: 0 },
          args: ['sh', '-c', 'echo from-process'],
          cwd: '/',
          env: ['PATH=/bin'],
        }),
      );
      const p = await cli(cmd, root, ['exec', '--process', proc, id]);
      out.push(`${p.code} ${p.stdout}`);
      const missing = await cli(cmd, root, ['exec', id, 'nope']);
      out.push(`missing ${missing.code !== 0}`);
      const ps = await cli(cmd, root, ['ps', '--format', 'json', id]);
      const pids = JSON.parse(ps.stdout) as number[];
      const state = JSON.parse((await cli(cmd, root, ['state', id])).stdout);
      out.push(`ps ${pids.length} ${pids.includes(state.pid)}`);
      const table = await cli(cmd, root, ['ps', id]);
      out.push(`ps-table ${/PID/.test(table.stdout)} ${table.stdout.includes(String(state.pid))}`);
      const list = JSON.parse((await cli(cmd, root, ['list', '--format', 'json'])).stdout) as Array<{
        id: string;
        owner: string;
      }>;
      out.push(`list ${list.map((c) => `${c.id === id} ${c.owner}`).join()}`);
      assert.equal((await cli(cmd, root, ['pause', id])).code, 0);
      out.push(`paused ${JSON.parse((await cli(cmd, root, ['state', id])).stdout).status}`);
      const notPaused = await cli(cmd, root, ['pause', id]);
      out.push(`pause-again ${notPaused.code}`);
      assert.equal((await cli(cmd, root, ['resume', id])).code, 0);
      out.push(`resumed ${JSON.parse((await cli(cmd, root, ['state', id])).stdout).status}`);
      assert.equal((await cli(cmd, root, ['kill', '--all', id, 'KILL'])).code, 0);
      for (let i = 0; i < 50; i++) {
        if (JSON.parse((await cli(cmd, root, ['state', id])).stdout).status === 'stopped') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      out.push(`killed ${JSON.parse((await cli(cmd, root, ['state', id])).stdout).status}`);
      assert.equal((await cli(cmd, root, ['delete', id])).code, 0);
      outputs.push(out);
    }
    assert.deepEqual(
      outputs[0]!.filter((_, i) => i !== 1 && i !== 8),
      [
        '4 1 /tmp\n',
        '0 from-process\n',
        'missing true',
        'ps 1 true',
        'ps-table true true',
        'list true root',
        'paused paused',
        'resumed running',
        'killed stopped',
      ],
    );
    assert.match(outputs[0]![1]!, /^0 uid=65534 gid=65534/);
    // Everything but the error code of pausing twice is the same with runc.
    assert.deepEqual(
      outputs[0]!.filter((_, i) => i !== 8),
      outputs[1]!.filter((_, i) => i !== 8),
    );
  });

  test('update (flags, -r file, -r -), pause/resume, events --stats: the same cgroup files as runc', async () => {
    const dir = writeSpec(['sleep', '60']);
    const cgroup = `/sys/fs/cgroup/%s/${cgroupParent}/c${n}`;
    const file = (ctrl: string, name: string) =>
      readFileSync(join(cgroup.replace('%s', ctrl), name), 'utf8').trim();
    const resources = join(tmp, `resources-${n}.json`);
    writeFileSync(resources, JSON.stringify({ memory: { limit: 48 * 1024 * 1024 }, pids: { limit: 30 } }));
    const outputs: string[][] = [];
    for (const { cmd, root } of each) {
      const id = `up${n}`;
      const r = await cli(cmd, root, ['run', '-d', '--bundle', dir, id], { detached: true });
      assert.equal(r.code, 0, r.stderr);
      const out: string[] = [];
      const limits = () =>
        [
          file('memory', 'memory.limit_in_bytes'),
          file('memory', 'memory.memsw.limit_in_bytes'),
          file('memory', 'memory.soft_limit_in_bytes'),
          file('pids', 'pids.max'),
          file('cpu', 'cpu.shares'),
          file('cpu', 'cpu.cfs_quota_us'),
          file('cpu', 'cpu.cfs_period_us'),
        ].join(' ');
      const flags = await cli(cmd, root, [
        'update',
        '--memory',
        '32m',
        '--memory-swap',
        '64m',
        '--memory-reservation',
        '16m',
        '--pids-limit',
        '20',
        '--cpu-share',
        '256',
        '--cpu-period',
        '100000',
        '--cpu-quota',
        '50000',
        id,
      ]);
      out.push(`flags ${flags.code} ${limits()}`);
      const fromFile = await cli(cmd, root, ['update', '-r', resources, id]);
      out.push(`file ${fromFile.code} ${limits()}`);
      const fromStdin = await cli(cmd, root, ['update', '-r', '-', id], {
        input: JSON.stringify({ cpu: { shares: 512 } }),
      });
      out.push(`stdin ${fromStdin.code} ${limits()}`);
      for (const bad of [
        ['--memory', 'abc'],
        ['--cpu-period', 'x'],
      ]) {
        const e = await cli(cmd, root, ['update', ...bad, id]);
        out.push(`${bad[0]} ${e.code} ${errors(e.stderr).join('|')}`);
      }
      const missing = await cli(cmd, root, ['update', '--memory', '1m', 'no-such']);
      out.push(`missing ${missing.code} ${errors(missing.stderr).join('|')}`);

      assert.equal((await cli(cmd, root, ['pause', id])).code, 0);
      out.push(`paused ${file('freezer', 'freezer.state')}`);
      assert.equal((await cli(cmd, root, ['resume', id])).code, 0);
      out.push(`resumed ${file('freezer', 'freezer.state')}`);

      const ev = await cli(cmd, root, ['events', '--stats', id]);
      assert.equal(ev.code, 0, ev.stderr);
      assert.ok(ev.stdout.endsWith('}\n'));
      const e = JSON.parse(ev.stdout);
      out.push(`events ${e.type} ${e.id === id} ${Object.keys(e.data).join()}`);
      const { cache: _cache, ...memory } = e.data.memory;
      out.push(`memory ${Object.keys(memory).join()} ${memory.usage.limit} ${memory.swap.limit}`);
      out.push(`pids ${JSON.stringify(e.data.pids)} cpus ${JSON.stringify(e.data.cpuset.cpus)}`);
      out.push(`cpu ${Object.keys(e.data.cpu.usage).join()} ${e.data.cpu.usage.total > 0}`);
      // Counters are printed as the kernel wrote them (uint64), not rounded through a double.
      out.push(
        `kernel-limit ${/"kernel":\{"limit":(\d+)/.exec(ev.stdout)?.[1] === file('memory', 'memory.kmem.limit_in_bytes')}`,
      );

      assert.equal((await cli(cmd, root, ['kill', id, 'KILL'])).code, 0);
      for (let i = 0; i < 50; i++) {
        if (JSON.parse((await cli(cmd, root, ['state', id])).stdout).status === 'stopped') break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const stopped = await cli(cmd, root, ['update', '--memory', '16m', id]);
      out.push(`stopped ${stopped.code} ${errors(stopped.stderr).join('|')}`);
      const evStopped = await cli(cmd, root, ['events', '--stats', id]);
      out.push(`events-stopped ${evStopped.code} ${errors(evStopped.stderr).join('|')}`);
      assert.equal((await cli(cmd, root, ['delete', id])).code, 0);
      outputs.push(out);
    }
    const mb = (x: number) => String(x * 1024 * 1024);
    assert.match(outputs[0]![10]!, /^pids \{"current":1,"limit":30\} cpus \[\d+(,\d+)*\]$/);
    assert.deepEqual(outputs[0], [
      `flags 0 ${mb(32)} ${mb(64)} ${mb(16)} 20 256 50000 100000`,
      `file 0 ${mb(48)} ${mb(64)} ${mb(16)} 30 256 50000 100000`,
      `stdin 0 ${mb(48)} ${mb(64)} ${mb(16)} 30 512 50000 100000`,
      "--memory 1 invalid value for memory: invalid size: 'abc'",
      '--cpu-period 1 invalid value for cpu-period: strconv.ParseUint: parsing "x": invalid syntax',
      'missing 1 container does not exist',
      'paused FROZEN',
      'resumed THAWED',
      'events stats true cpu,cpuset,memory,pids,blkio,hugetlb,intel_rdt,network_interfaces',
      `memory usage,swap,kernel,kernelTCP,raw ${mb(48)} ${mb(64)}`,
      outputs[0]![10]!,
      'cpu total,percpu,percpu_kernel,percpu_user,kernel,user true',
      'kernel-limit true',
      'stopped 1 container not running',
      `events-stopped 1 container with id up${n} is not running`,
    ]);
    assert.deepEqual(outputs[0], outputs[1]);
  });

  test('a created container can be paused and resumed; events refuses a bad --interval, as runc', async () => {
    const dir = writeSpec(['sleep', '60']);
    const outputs: string[][] = [];
    for (const { cmd, root } of each) {
      const id = `pc${n}`;
      assert.equal((await cli(cmd, root, ['create', '--bundle', dir, id], { detached: true })).code, 0);
      const status = async () => JSON.parse((await cli(cmd, root, ['state', id])).stdout).status;
      const out: string[] = [];
      out.push(`pause ${(await cli(cmd, root, ['pause', id])).code} ${await status()}`);
      out.push(`resume ${(await cli(cmd, root, ['resume', id])).code} ${await status()}`);
      for (const interval of ['0s', 'abc']) {
        const e = await cli(cmd, root, ['events', '--interval', interval, id]);
        out.push(
          `interval ${e.code} ${errors(e.stderr).at(-1) ?? /Incorrect Usage: (.*)/.exec(e.stderr)?.[1]}`,
        );
      }
      assert.equal((await cli(cmd, root, ['delete', '-f', id])).code, 0);
      outputs.push(out);
    }
    assert.deepEqual(outputs[0], [
      'pause 0 paused',
      'resume 0 created',
      'interval 1 duration interval must be greater than 0',
      'interval 1 invalid value "abc" for flag -interval: parse error',
    ]);
    assert.deepEqual(outputs[0], outputs[1]);
  });

  test('events streams stats every --interval and reports an OOM kill, as runc does', async () => {
    const dir = writeSpec(
      ['sh', '-c', 'trap "dd if=/dev/zero of=/dev/null bs=64M count=1" USR1; while :; do sleep 0.1; done'],
      (spec) => {
        spec.linux = {
          ...spec.linux,
          resources: {
            ...spec.linux?.resources,
            memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 },
          },
        };
      },
    );
    const outputs: string[][] = [];
    for (const { cmd, root } of each) {
      const id = `ev${n}`;
      assert.equal((await cli(cmd, root, ['run', '-d', '--bundle', dir, id], { detached: true })).code, 0);
      const child = spawn(cmd[0]!, [...cmd.slice(1), '--root', root, 'events', '--interval', '300ms', id], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (c) => (text += c));
      const until = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 150 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(ok(), `${what}: ${text}`);
      };
      try {
        await until(
          'two stats events',
          () => text.split('\n').filter((l) => l.includes('"stats"')).length >= 2,
        );
        assert.equal((await cli(cmd, root, ['kill', id, 'USR1'])).code, 0);
        await until('an oom event', () => text.includes('"oom"'));
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('close', r));
      }
      const lines = text.split('\n').filter(Boolean);
      const events = lines.map((l) => JSON.parse(l) as { type: string; id: string });
      const oom = lines.find((l) => l.includes('"oom"'));
      outputs.push([
        `ids ${events.every((e) => e.id === id)}`,
        `types ${[...new Set(events.map((e) => e.type))].sort().join()}`,
        `oom ${oom === JSON.stringify({ type: 'oom', id })}`,
      ]);
      assert.equal((await cli(cmd, root, ['delete', '-f', id])).code, 0);
    }
    assert.deepEqual(outputs[0], ['ids true', 'types oom,stats', 'oom true']);
    assert.deepEqual(outputs[0], outputs[1]);
  });

  test('features in the OCI format; a spec with hooks is refused; checkpoint and restore refused as runc without CRIU', async () => {
    const ourFeatures = JSON.parse((await cli(ours, roots.ours, ['features'])).stdout);
    const theirFeatures = JSON.parse((await cli(theirs, roots.theirs, ['features'])).stdout);
    assert.deepEqual(Object.keys(ourFeatures), Object.keys(theirFeatures));
    assert.deepEqual(Object.keys(ourFeatures.linux), Object.keys(theirFeatures.linux));
    assert.deepEqual(ourFeatures.hooks, []);
    assert.deepEqual(ourFeatures.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false });
    assert.ok(ourFeatures.linux.namespaces.includes('time'));
    for (const k of ['ociVersionMin', 'ociVersionMax']) assert.equal(ourFeatures[k], theirFeatures[k]);
    for (const o of ['ro', 'nosuid', 'rbind', 'rprivate', 'rro'])
      assert.ok(ourFeatures.mountOptions.includes(o), o);
    assert.deepEqual(ourFeatures.linux.seccomp.archs, theirFeatures.linux.seccomp.archs);
    assert.deepEqual(ourFeatures.linux.seccomp.operators, theirFeatures.linux.seccomp.operators);

    const hooked = writeSpec(['true'], (s) => {
      s.hooks = { prestart: [{ path: '/bin/true' }] } as RuntimeSpec['hooks'];
    });
    const refused = await cli(ours, roots.ours, ['run', '--bundle', hooked, `hk${n}`]);
    assert.equal(refused.code, 1);
    assert.deepEqual(errors(refused.stderr), [
      'hooks are not supported by berth-runtime (the spec has prestart hooks)',
    ]);
    assert.equal((await cli(ours, roots.ours, ['list', '-q'])).stdout, '');

    const dir = writeSpec(['sleep', '60']);
    // A bundle of its own (another cgroup) for restore.
    const restoreDir = writeSpec(['sleep', '60']);
    const outputs: string[][] = [];
    for (const { cmd, root } of each) {
      const id = `cp${n}`;
      assert.equal((await cli(cmd, root, ['run', '-d', '--bundle', dir, id], { detached: true })).code, 0);
      const out: string[] = [];
      for (const criu of ['/nonexistent/criu', 'no-such-criu']) {
        const c = await cli(cmd, root, ['checkpoint', '--image-path', join(tmp, 'img'), id], {
          global: ['--criu', criu],
        });
        // runc also logs that it could not destroy the running container: only the last error counts.
        out.push(`checkpoint ${c.code} ${errors(c.stderr).at(-1)}`);
        const r = await cli(cmd, root, ['restore', '--bundle', restoreDir, `${id}r`], {
          global: ['--criu', criu],
        });
        out.push(`restore ${r.code} ${errors(r.stderr).at(-1)}`);
      }
      assert.equal((await cli(cmd, root, ['delete', '-f', id])).code, 0);
      const stopped = await cli(cmd, root, ['checkpoint', 'no-such'], {
        global: ['--criu', '/nonexistent/criu'],
      });
      out.push(`missing ${stopped.code} ${errors(stopped.stderr).join('|')}`);
      outputs.push(out);
    }
    assert.deepEqual(outputs[0], [
      'checkpoint 1 CRIU version check failed: fork/exec /nonexistent/criu: no such file or directory',
      'restore 1 CRIU version check failed: fork/exec /nonexistent/criu: no such file or directory',
      'checkpoint 1 CRIU version check failed: exec: "no-such-criu": executable file not found in $PATH',
      'restore 1 CRIU version check failed: exec: "no-such-criu": executable file not found in $PATH',
      'missing 1 container does not exist',
    ]);
    assert.deepEqual(outputs[0], outputs[1]);
    // With CRIU installed, berth-runtime still cannot checkpoint: it says so.
    if (existsSync('/usr/sbin/criu')) {
      const id = `cq${n}`;
      assert.equal(
        (await cli(ours, roots.ours, ['run', '-d', '--bundle', dir, id], { detached: true })).code,
        0,
      );
      const c = await cli(ours, roots.ours, ['checkpoint', id]);
      assert.equal(c.code, 1);
      assert.match(errors(c.stderr)[0]!, /^checkpoint is not supported by berth-runtime/);
      assert.equal((await cli(ours, roots.ours, ['delete', '-f', id])).code, 0);
    }
  });

  test('run and exec with a terminal in the foreground relay the pty to our own, as runc does', async (t) => {
    const hasScript = (() => {
      try {
        execFileSync('script', ['--version']);
        return true;
      } catch {
        return false;
      }
    })();
    if (!hasScript) return t.skip('needs util-linux script (a terminal for the runtime)');
    const dir = writeSpec(['sh', '-c', 'tty; exit 3'], (s) => {
      if (s.process) s.process.terminal = true;
    });
    const sleeper = writeSpec(['sleep', '60']);
    const results: string[][] = [];
    for (const { cmd, root } of each) {
      const line = (args: string[]) => [...cmd, '--root', root, ...args].map((a) => `'${a}'`).join(' ');
      // script(1) gives the runtime a terminal on stdin/stdout and exits with the command's code.
      const inTty = (args: string[]) =>
        run('script', ['-qec', line(args), '/dev/null'], { timeoutMs: 30_000 });
      const r = await inTty(['run', '--bundle', dir, `tty${n}`]);
      const id = `ttyx${n}`;
      assert.equal(
        (await cli(cmd, root, ['run', '-d', '--bundle', sleeper, id], { detached: true })).code,
        0,
      );
      const e = await inTty(['exec', '-t', id, 'sh', '-c', 'tty; exit 4']);
      await cli(cmd, root, ['delete', '-f', id]);
      // script(1) types its own end of input into the terminal: an echoed ^@ or ^D, whenever it comes.
      // runc sets its terminal raw only once the process runs, so its first lines may come out
      // cooked ("\r\r\n"): compare line ends loosely.
      const clean = (x: string) => x.replace(/\^@|\^D|\0/g, '').replace(/\r+\n/g, '\r\n');
      results.push([`${r.code}`, clean(r.stdout), `${e.code}`, clean(e.stdout)]);
    }
    assert.deepEqual(results[0], ['3', '/dev/pts/0\r\n', '4', '/dev/pts/0\r\n']);
    assert.deepEqual(results[0], results[1]);
  });

  test('--log with --log-format json records errors as runc does; --systemd-cgroup is refused', async () => {
    const logs = each.map(({ name }) => join(tmp, `${name}.log`));
    for (const [i, { cmd, root }] of each.entries()) {
      const r = await cli(cmd, root, ['state', 'nope'], {
        global: ['--log', logs[i]!, '--log-format', 'json'],
      });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'container does not exist\n');
      const entry = JSON.parse(readFileSync(logs[i]!, 'utf8').trim().split('\n').at(-1)!);
      assert.deepEqual(Object.keys(entry).sort(), ['level', 'msg', 'time']);
      assert.deepEqual([entry.level, entry.msg], ['error', 'container does not exist']);
    }
    const text = await cli(ours, roots.ours, ['state', 'nope']);
    assert.match(text.stderr, /^time="[^"]+" level=error msg="container does not exist"\n$/);
    const sd = await cli(ours, roots.ours, ['list'], { global: ['--systemd-cgroup'] });
    assert.equal(sd.code, 1);
    assert.match(sd.stderr, /--systemd-cgroup is not supported/);
  });

  test('exec -d -t --console-socket passes the exec’s pty master; runc’s checks and exit code 255', async (t) => {
    try {
      execFileSync('python3', ['-c', 'import socket; socket.recv_fds']);
    } catch {
      return t.skip('needs python3 (socket.recv_fds) to receive the pty master');
    }
    /** Gets one pty master on `sock`, types "hello" once the process has printed its tty, prints all. */
    const receiver = async (sock: string) => {
      const child = spawn(
        'python3',
        [
          '-c',
          String.raw`
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
m = fds[0]
out = b''
sent = False
deadline = time.time() + 10
while time.time() < deadline:
    if not sent and b'/dev/pts/' in out:
        os.write(m, b'hello\n'); sent = True
    try:
        d = os.read(m, 1024)
    except OSError:
        break
    if not d: break
    out += d
    if b'typed: hello' in out: break
print('name', msg.decode(), out.decode().replace('\r', '').strip().replace('\n', ' '), flush=True)
`,
          sock,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let got = '';
      child.stdout.on('data', (c) => (got += c));
      const done = new Promise((r) => child.on('close', r));
      for (let i = 0; i < 100 && !got.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
      return async () => {
        await done;
        return got.replace('listening', '').trim();
      };
    };
    const dir = writeSpec(['sleep', '60']);
    const outputs: string[][] = [];
    for (const { name, cmd, root } of each) {
      const id = `et${n}`;
      assert.equal((await cli(cmd, root, ['run', '-d', '--bundle', dir, id], { detached: true })).code, 0);
      const out: string[] = [];
      const sock = join(tmp, `ec-${name}.sock`);
      const got = await receiver(sock);
      const e = await cli(
        cmd,
        root,
        ['exec', '-d', '-t', '--console-socket', sock, id, 'sh', '-c', 'tty; echo typed: $(head -n1)'],
        { detached: true },
      );
      out.push(`exec ${e.code} ${await got()}`);
      for (const args of [
        ['-t', '--console-socket', sock],
        ['-d', '--console-socket', sock],
        ['-d', '-t'],
      ]) {
        const r = await cli(cmd, root, ['exec', ...args, id, 'true'], { detached: true });
        out.push(`${args.join(' ')}: ${r.code} ${errors(r.stderr).at(-1)}`);
      }
      assert.equal((await cli(cmd, root, ['delete', '-f', id])).code, 0);
      outputs.push(out);
    }
    assert.deepEqual(outputs[0], [
      // The pty echoes what was typed.
      'exec 0 name /dev/ptmx /dev/pts/0 hello typed: hello',
      `-t --console-socket ${join(tmp, 'ec-berth-runtime.sock')}: 255 exec failed: cannot use console socket if runc will not detach or allocate tty`,
      `-d --console-socket ${join(tmp, 'ec-berth-runtime.sock')}: 255 exec failed: cannot use console socket if runc will not detach or allocate tty`,
      '-d -t: 255 exec failed: cannot allocate tty if runc will detach without setting console socket',
    ]);
    assert.deepEqual(
      outputs[0],
      outputs[1]!.map((l) => l.replace('ec-runc.sock', 'ec-berth-runtime.sock')),
    );
  });

  test('a terminal: create needs --console-socket; the pty master is passed over it (SCM_RIGHTS)', async (t) => {
    const hasPython = (() => {
      try {
        execFileSync('python3', ['-c', 'import socket; socket.recv_fds']);
        return true;
      } catch {
        return false;
      }
    })();
    const dir = writeSpec(['sh', '-c', 'tty; echo typed: $(head -n1)'], (s) => {
      if (s.process) s.process.terminal = true;
    });
    const refused = await cli(ours, roots.ours, ['create', '--bundle', dir, 'tty0'], { detached: true });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot allocate tty if runc will detach without setting console socket/);
    if (!hasPython) return t.skip('needs python3 (socket.recv_fds) to receive the pty master');
    // A receiver that gets the master, types a line into it, and prints what comes back.
    const sock = join(tmp, 'console.sock');
    const receiver = spawn(
      'python3',
      [
        '-c',
        String.raw`
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
print('name', msg.decode(), flush=True)
m = fds[0]
out = b''
sent = False
deadline = time.time() + 10
while time.time() < deadline:
    if not sent and b'/dev/pts/' in out:
        os.write(m, b'hello\n'); sent = True
    try:
        d = os.read(m, 1024)
    except OSError:
        break
    if not d: break
    out += d
    if b'typed: hello' in out: break
print(out.decode().replace('\r', ''), flush=True)
`,
        sock,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let got = '';
    receiver.stdout.on('data', (c) => (got += c));
    const done = new Promise((r) => receiver.on('close', r));
    for (let i = 0; i < 100 && !got.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    const c = await cli(ours, roots.ours, ['create', '--bundle', dir, '--console-socket', sock, 'tty1'], {
      detached: true,
    });
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await cli(ours, roots.ours, ['start', 'tty1'])).code, 0);
    await done;
    assert.match(got, /name \/dev\/ptmx\n/);
    assert.match(got, /\/dev\/pts\/0\n/);
    assert.match(got, /typed: hello/);
    await cli(ours, roots.ours, ['delete', '-f', 'tty1']);
  });
});

describe('berthd with other runc-compatible runtimes', { skip }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon({ args: ['--add-runtime', `brt=${BERTH_RUNTIME}`] });
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('docker info lists berth (the default), runc and added runtimes', async () => {
    const r = await docker(d, 'info', '--format', '{{json .Runtimes}} {{.DefaultRuntime}}');
    assert.equal(r.code, 0, r.stderr);
    const [json, def] = r.stdout.trim().split(' ');
    assert.deepEqual(Object.keys(JSON.parse(json!)).sort(), ['berth', 'brt', 'runc']);
    assert.equal(def, 'berth');
  });

  test('docker run --runtime runc: output, exit code, logs, inspect, exec, stop', async () => {
    const r = await docker(
      d,
      'run',
      '--runtime',
      'runc',
      '--name',
      'rc1',
      'busybox',
      'sh',
      '-c',
      'echo hi; echo oops >&2; exit 5',
    );
    assert.deepEqual([r.code, r.stdout, r.stderr], [5, 'hi\n', 'oops\n']);
    const logs = await docker(d, 'logs', 'rc1');
    assert.deepEqual([logs.stdout, logs.stderr], ['hi\n', 'oops\n']);
    const rt = await docker(d, 'inspect', '-f', '{{.HostConfig.Runtime}} {{.State.ExitCode}}', 'rc1');
    assert.equal(rt.stdout.trim(), 'runc 5');

    const up = await docker(
      d,
      'run',
      '-d',
      '--runtime',
      'runc',
      '--name',
      'rc2',
      'busybox',
      'sh',
      '-c',
      'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done',
    );
    assert.equal(up.code, 0, up.stderr);
    const id = up.stdout.trim();
    // runc itself knows the container (under berthd's exec root), and says it is running.
    const state = await run('runc', ['--root', join(d.execRoot, 'runtime-runc'), 'state', id]);
    assert.equal(JSON.parse(state.stdout).status, 'running');
    const ex = await docker(d, 'exec', 'rc2', 'sh', '-c', 'echo in-$(hostname)');
    assert.equal(ex.stdout, `in-${id.slice(0, 12)}\n`);
    const stop = await docker(d, 'stop', 'rc2');
    assert.equal(stop.code, 0, stop.stderr);
    const st = await docker(d, 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'rc2');
    assert.equal(st.stdout.trim(), 'exited 0');
    assert.equal((await docker(d, 'rm', 'rc1', 'rc2')).code, 0);
    const gone = await run('runc', ['--root', join(d.execRoot, 'runtime-runc'), 'list', '-q']);
    assert.equal(gone.stdout, '');
  });

  test('--runtime runc with a tty (the pty master comes to the shim over a console socket)', async () => {
    const r = await docker(
      d,
      'run',
      '--rm',
      '-t',
      '--runtime',
      'runc',
      'busybox',
      'sh',
      '-c',
      'tty; echo $((6*7))',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/dev/pts/0\r\n42\r\n');
  });

  test('--runtime runc: a missing executable is docker’s 127', async () => {
    const r = await docker(d, 'run', '--rm', '--runtime', 'runc', 'busybox', 'no-such-cmd');
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /executable file not found/);
  });

  test('--runtime runc: pause/unpause and update act on the cgroup runc made', async () => {
    const up = await docker(
      d,
      'run',
      '-d',
      '--runtime',
      'runc',
      '-m',
      '64m',
      '--name',
      'rc4',
      'busybox',
      'sleep',
      '300',
    );
    assert.equal(up.code, 0, up.stderr);
    const runcState = async () =>
      JSON.parse(
        (await run('runc', ['--root', join(d.execRoot, 'runtime-runc'), 'state', up.stdout.trim()])).stdout,
      ).status;
    assert.equal((await docker(d, 'pause', 'rc4')).code, 0);
    assert.equal(await runcState(), 'paused');
    assert.equal((await docker(d, 'unpause', 'rc4')).code, 0);
    assert.equal(await runcState(), 'running');
    const u = await docker(d, 'update', '-m', '96m', '--memory-swap', '192m', 'rc4');
    assert.equal(u.code, 0, u.stderr);
    const limit = readFileSync(
      join('/sys/fs/cgroup/memory', daemonCgroupParent(d.dir), up.stdout.trim(), 'memory.limit_in_bytes'),
      'utf8',
    );
    assert.equal(limit.trim(), String(96 * 1024 * 1024));
    assert.equal((await docker(d, 'rm', '-f', 'rc4')).code, 0);
  });

  test('a runc container keeps running across a berthd restart and is still driven afterwards', async () => {
    const up = await docker(d, 'run', '-d', '--runtime', 'runc', '--name', 'rc3', 'busybox', 'sleep', '300');
    assert.equal(up.code, 0, up.stderr);
    await d.kill();
    await d.restart();
    const st = await docker(d, 'inspect', '-f', '{{.State.Status}} {{.State.Running}}', 'rc3');
    assert.equal(st.stdout.trim(), 'running true');
    const ex = await docker(d, 'exec', 'rc3', 'echo', 'still');
    assert.equal(ex.stdout, 'still\n');
    assert.equal((await docker(d, 'rm', '-f', 'rc3')).code, 0);
  });

  test('a runtime that keeps the container as its own child (berth-runtime) is refused clearly', async () => {
    // berth-runtime's containers are children of its own shim, not orphans as runc's are: the
    // shim of berthd could not reap their exit status.
    const r = await docker(d, 'run', '--rm', '--runtime', 'brt', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /keeps the container's process as its own child/);
    const list = await run(process.execPath, [
      BERTH_RUNTIME,
      '--root',
      join(d.execRoot, 'runtime-brt'),
      'list',
      '-q',
    ]);
    assert.equal(list.stdout, '');
  });

  test('an unknown runtime is refused with Docker’s error', async () => {
    const r = await docker(d, 'run', '--runtime', 'bogus', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Unknown runtime specified bogus/);
  });
});
