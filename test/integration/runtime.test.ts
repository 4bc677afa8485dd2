import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/common/index.ts';
import type { LinuxSeccomp, OciProcess, RuntimeSpec } from '../../src/oci/index.ts';
import { createCgroupManager, ExecError, Runtime } from '../../src/runtime/index.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const shimPath = join(repo, 'native/build/berth-shim');
const busybox = '/bin/busybox';
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root' : !existsSync(busybox) ? 'needs busybox-static' : false;

const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];
const TOOLS = [
  'sh',
  'echo',
  'cat',
  'ls',
  'hostname',
  'tty',
  'sleep',
  'grep',
  'id',
  'wc',
  'head',
  'true',
  'stty',
  'readlink',
];

interface Box {
  id: string;
  bundleDir: string;
  stateDir: string;
  logPath: string;
  spec: RuntimeSpec;
}

/** A stdcopy-framed stream split into [stream, text] frames. */
function frames(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(off + 4);
    out.push([buf[off]!, buf.subarray(off + 8, off + 8 + len).toString()]);
    off += 8 + len;
  }
  return out;
}

async function readToEnd(sock: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  await once(sock, 'close');
  return Buffer.concat(chunks);
}

function logEntries(path: string): { log: string; stream: string; time: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('native runtime (berth-shim) on the real kernel', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-rt-'));
  const cgroupParent = `/berth-rt-test-${process.pid}`;
  const runtime = new Runtime({
    shimPath,
    cgroups: createCgroupManager({ log: silentLogger() }),
    log: silentLogger(),
  });
  const boxes: Box[] = [];
  let rootfs: string;
  let n = 0;

  before(() => {
    if (!existsSync(shimPath)) execFileSync('make', ['-C', join(repo, 'native')]);
    chmodSync(tmp, 0o755); // a user-namespaced container must reach its rootfs
    rootfs = join(tmp, 'rootfs');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp'])
      mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync(busybox, join(rootfs, 'bin/busybox'));
    execFileSync('chmod', ['755', join(rootfs, 'bin/busybox')]);
    for (const t of TOOLS) symlinkSync('busybox', join(rootfs, 'bin', t));
  });

  after(async () => {
    for (const b of boxes) await runtime.delete(b.stateDir, b.spec).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, cgroupParent);
      if (existsSync(dir)) rmdirSync(dir);
    }
  });

  function box(
    args: string[],
    opts: { tty?: boolean; hostname?: string; uid?: number; seccomp?: LinuxSeccomp } = {},
  ): Box {
    const id = `c${++n}`.padEnd(64, '0');
    const bundleDir = join(tmp, `bundle-${n}`);
    mkdirSync(bundleDir);
    const spec: RuntimeSpec = {
      ociVersion: '1.0.2',
      root: { path: rootfs, readonly: false },
      hostname: opts.hostname ?? 'box',
      process: {
        terminal: opts.tty ?? false,
        user: { uid: opts.uid ?? 0, gid: opts.uid ?? 0 },
        args,
        env: ['PATH=/bin', 'HOME=/'],
        cwd: '/',
        capabilities: {
          bounding: DEFAULT_CAPS,
          effective: DEFAULT_CAPS,
          permitted: DEFAULT_CAPS,
        },
        rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
      },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
        {
          destination: '/dev',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
        },
        {
          destination: '/dev/pts',
          type: 'devpts',
          source: 'devpts',
          options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
        },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
        {
          destination: '/sys/fs/cgroup',
          type: 'cgroup',
          source: 'cgroup',
          options: ['ro', 'nosuid', 'noexec', 'nodev'],
        },
        {
          destination: '/dev/mqueue',
          type: 'mqueue',
          source: 'mqueue',
          options: ['nosuid', 'noexec', 'nodev'],
        },
        {
          destination: '/dev/shm',
          type: 'tmpfs',
          source: 'shm',
          options: ['nosuid', 'noexec', 'nodev', 'mode=1777'],
        },
      ],
      linux: {
        namespaces: [
          { type: 'pid' },
          { type: 'network' },
          { type: 'ipc' },
          { type: 'uts' },
          { type: 'mount' },
        ],
        cgroupsPath: `${cgroupParent}/${id}`,
        maskedPaths: ['/proc/kcore', '/proc/keys', '/sys/firmware'],
        readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
        seccomp: opts.seccomp,
      },
    };
    writeFileSync(join(bundleDir, 'config.json'), JSON.stringify(spec));
    const b = { id, bundleDir, stateDir: join(tmp, `state-${n}`), logPath: join(tmp, `log-${n}.json`), spec };
    boxes.push(b);
    return b;
  }

  const create = (b: Box, stdin = false) =>
    runtime.create({
      id: b.id,
      bundleDir: b.bundleDir,
      stateDir: b.stateDir,
      logPath: b.logPath,
      openStdin: stdin,
      stdinOnce: stdin,
    });

  /** Runs the container to its end; returns the log text of stdout and the exit status. */
  async function run(b: Box) {
    await create(b);
    await runtime.start(b.stateDir);
    const exit = await runtime.wait(b.stateDir);
    const out = logEntries(b.logPath)
      .filter((e) => e.stream === 'stdout')
      .map((e) => e.log)
      .join('');
    return { exit, out };
  }

  test('the init is PID 1 in its own pid namespace and sees no host process', async () => {
    const { exit, out } = await run(box(['sh', '-c', 'echo pid=$$; ls /proc | grep -c "^[0-9]"']));
    assert.equal(exit.exitCode, 0);
    const [pidLine, count] = out.trim().split('\n');
    assert.equal(pidLine, 'pid=1');
    assert.ok(Number(count) <= 3, `saw ${count} processes`);
  });

  test('hostname is set, only lo exists and is up, and host mounts are invisible', async () => {
    const { out } = await run(
      box(['sh', '-c', 'hostname; ls /sys/class/net; cat /sys/class/net/lo/operstate; cat /proc/mounts'], {
        hostname: 'testbox',
      }),
    );
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'testbox');
    assert.equal(lines[1], 'lo');
    assert.ok(['unknown', 'up'].includes(lines[2]!), lines[2]);
    const mounts = lines.slice(3).join('\n');
    assert.doesNotMatch(mounts, new RegExp(tmp));
    assert.doesNotMatch(mounts, / \/work/);
    assert.match(mounts, /^proc \/proc proc /m);
    assert.match(mounts, /^devpts \/dev\/pts devpts /m);
  });

  test('masked paths are empty and read-only paths refuse writes', async () => {
    const { out } = await run(
      box([
        'sh',
        '-c',
        'wc -c < /proc/keys; echo 1 > /proc/sys/kernel/domainname && echo wrote || echo refused',
      ]),
    );
    assert.deepEqual(out.trim().split('\n'), ['0', 'refused']);
  });

  test('the process runs as the numeric user with exactly the spec capabilities', async () => {
    const { out } = await run(
      box(['sh', '-c', 'id -u; id -g; grep -E "^Cap(Eff|Bnd)" /proc/self/status'], { uid: 1000 }),
    );
    // Docker's default set is 0xa80425fb; a non-root user keeps none effective (no ambient set).
    assert.deepEqual(out.trim().split('\n'), [
      '1000',
      '1000',
      'CapEff:\t0000000000000000',
      'CapBnd:\t00000000a80425fb',
    ]);
    const root = await run(box(['grep', '^CapEff', '/proc/self/status']));
    assert.equal(root.out.trim(), 'CapEff:\t00000000a80425fb');
  });

  test('the seccomp filter of the spec applies: a denied syscall fails with its errno', async () => {
    const seccomp: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        { names: ['no_such_syscall'], action: 'SCMP_ACT_ERRNO' },
      ],
    };
    const { out } = await run(box(['sh', '-c', 'mkdir /tmp/x 2>&1; echo done'], { seccomp }));
    assert.match(out, /Operation not permitted/);
    assert.match(out, /done/);
  });

  test('a container can join the network namespace of another one by path', async () => {
    const a = box(['sleep', '30']);
    const { pid } = await create(a);
    await runtime.start(a.stateDir);
    const b = box(['readlink', '/proc/self/ns/net']);
    b.spec.linux!.namespaces = b.spec.linux!.namespaces!.map((ns) =>
      ns.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : ns,
    );
    writeFileSync(join(b.bundleDir, 'config.json'), JSON.stringify(b.spec));
    const { out } = await run(b);
    assert.equal(out.trim(), readlinkSync(`/proc/${pid}/ns/net`));
    await runtime.kill(a.stateDir, 9);
    await runtime.wait(a.stateDir);
  });

  test('with a user namespace the process is root inside, mapped to the host range outside', async () => {
    const b = box(['sh', '-c', 'id -u; cat /proc/self/uid_map; ls -n /dev/null']);
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    b.spec.linux = { ...b.spec.linux!, uidMappings: map, gidMappings: map };
    b.spec.linux.namespaces = [{ type: 'user' }, ...b.spec.linux.namespaces!];
    writeFileSync(join(b.bundleDir, 'config.json'), JSON.stringify(b.spec));
    const { exit, out } = await run(b);
    assert.equal(exit.exitCode, 0, out);
    const lines = out.trim().split('\n');
    assert.equal(lines[0], '0');
    assert.deepEqual(lines[1]!.trim().split(/\s+/), ['0', '100000', '65536']);
    assert.match(lines[2]!, /^c/); // /dev/null is the host's node, bound in (mknod is not allowed)
  });

  test('start of a missing executable rejects with the not-found text and exit code 127', async () => {
    const b = box(['nope']);
    await create(b);
    await assert.rejects(runtime.start(b.stateDir), (err: unknown) => {
      assert.ok(err instanceof ExecError);
      assert.equal(err.message, 'exec: "nope": executable file not found in $PATH');
      assert.equal(err.exitCode, 127);
      return true;
    });
    assert.equal((await runtime.wait(b.stateDir)).exitCode, 127);
  });

  test('the exit code is reported in exit.json, and a kill as 128+signal', async () => {
    const b1 = box(['sh', '-c', 'exit 3']);
    assert.equal((await run(b1)).exit.exitCode, 3);
    const onDisk = JSON.parse(readFileSync(join(b1.stateDir, 'exit.json'), 'utf8'));
    assert.equal(onDisk.exitCode, 3);
    assert.match(onDisk.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const b2 = box(['sleep', '30']);
    await create(b2);
    await runtime.start(b2.stateDir);
    assert.equal((await runtime.state(b2.stateDir)).status, 'running');
    await runtime.kill(b2.stateDir, 9);
    const exit = await runtime.wait(b2.stateDir);
    assert.deepEqual([exit.exitCode, exit.signal], [137, 9]);
    assert.equal((await runtime.state(b2.stateDir)).status, 'stopped');
  });

  test('stdout and stderr reach the json-file log and an attacher as stdcopy frames', async () => {
    const b = box(['sh', '-c', 'echo out; echo err >&2']);
    await create(b);
    const sock = await runtime.attach(b.stateDir, { stdin: false, stdout: true, stderr: true });
    const data = readToEnd(sock);
    await runtime.start(b.stateDir);
    await runtime.wait(b.stateDir);
    const got = frames(await data).sort();
    assert.deepEqual(got, [
      [1, 'out\n'],
      [2, 'err\n'],
    ]);
    const log = logEntries(b.logPath).map((e) => [e.stream, e.log]);
    assert.deepEqual(log.sort(), [
      ['stderr', 'err\n'],
      ['stdout', 'out\n'],
    ]);
  });

  test('stdin written to an attach connection reaches the container, and its end closes stdin once', async () => {
    const b = box(['cat']);
    await create(b, true);
    const sock = await runtime.attach(b.stateDir, { stdin: true, stdout: true, stderr: true });
    const data = readToEnd(sock);
    await runtime.start(b.stateDir);
    sock.end('hello\n');
    const exit = await runtime.wait(b.stateDir);
    assert.equal(exit.exitCode, 0);
    assert.deepEqual(frames(await data), [[1, 'hello\n']]);
  });

  test('a tty container gets /dev/pts/0, raw output and the size set by resize', async () => {
    const b = box(['sh', '-c', 'tty; stty size; stty -F /dev/console size'], { tty: true });
    await create(b);
    const sock = await runtime.attach(b.stateDir, { stdin: false, stdout: true, stderr: true });
    const data = readToEnd(sock);
    await runtime.resize(b.stateDir, 30, 100);
    await runtime.start(b.stateDir);
    await runtime.wait(b.stateDir);
    assert.equal((await data).toString(), '/dev/pts/0\r\n30 100\r\n30 100\r\n');
  });

  test('exec runs in the container namespaces and returns its exit code; a missing one is 127', async () => {
    const b = box(['sleep', '30'], { hostname: 'execbox' });
    await create(b);
    await runtime.start(b.stateDir);
    const proc: OciProcess = {
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', 'hostname; cat /proc/1/cmdline; echo; ls /sys/class/net; exit 5'],
      env: ['PATH=/bin'],
      cwd: '/',
    };
    const p = await runtime.exec(b.stateDir, b.spec, proc, { tty: false, stdin: false });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    // The exit can be known before the buffered output has been read: wait for both.
    const pEnded = once(p.stdout, 'end');
    assert.equal(await p.exited, 5);
    await pEnded;
    assert.deepEqual(out.split('\n'), ['execbox', 'sleep\u000030\u0000', 'lo', '']);
    assert.ok((await runtime.pids(b.stateDir)).length >= 1);

    const t = await runtime.exec(b.stateDir, b.spec, { ...proc, args: ['tty'] }, { tty: true, stdin: false });
    let ttyOut = '';
    t.stdout.setEncoding('utf8').on('data', (d: string) => {
      ttyOut += d;
    });
    const tEnded = once(t.stdout, 'end');
    assert.equal(await t.exited, 0);
    await tEnded;
    assert.match(ttyOut, /^\/dev\/pts\/\d+\r\n$/);

    const c = await runtime.exec(b.stateDir, b.spec, { ...proc, args: ['cat'] }, { tty: false, stdin: true });
    let catOut = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      catOut += d;
    });
    const cEnded = once(c.stdout, 'end');
    c.stdin!.end('abc');
    assert.equal(await c.exited, 0);
    await cEnded;
    assert.equal(catOut, 'abc');

    await assert.rejects(
      runtime.exec(b.stateDir, b.spec, { ...proc, args: ['nope'] }, { tty: false, stdin: false }),
      (err: unknown) =>
        err instanceof ExecError && err.exitCode === 127 && /executable file not found/.test(err.message),
    );
    await runtime.kill(b.stateDir, 9);
    await runtime.wait(b.stateDir);
  });

  test('the shim survives the process that created it being SIGKILLed, and wait reconnects', async () => {
    const b = box(['sleep', '30']);
    const script = `
      import { silentLogger } from ${JSON.stringify(join(repo, 'dist/src/common/index.js'))};
      import { Runtime, createCgroupManager } from ${JSON.stringify(join(repo, 'dist/src/runtime/index.js'))};
      const rt = new Runtime({ shimPath: ${JSON.stringify(shimPath)}, cgroups: createCgroupManager({ log: silentLogger() }), log: silentLogger() });
      await rt.create(${JSON.stringify({ id: b.id, bundleDir: b.bundleDir, stateDir: b.stateDir, logPath: b.logPath, openStdin: false, stdinOnce: false })});
      await rt.start(${JSON.stringify(b.stateDir)});
      process.stdout.write('started\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    const state = await runtime.state(b.stateDir);
    assert.equal(state.status, 'running');
    const waiting = runtime.wait(b.stateDir);
    // SIGKILL: as PID 1 of its namespace, sleep ignores signals it has no handler for.
    await runtime.kill(b.stateDir, 9);
    assert.equal((await waiting).exitCode, 137);
  });

  test('delete removes the cgroup and the state dir, and leaves no process or mount behind', async () => {
    const b = box(['sleep', '30']);
    const { pid } = await create(b);
    await runtime.delete(b.stateDir, b.spec);
    await runtime.delete(b.stateDir, b.spec);
    assert.equal(existsSync(b.stateDir), false);
    assert.equal(existsSync(join('/sys/fs/cgroup/pids', b.spec.linux!.cgroupsPath!)), false);
    assert.equal(existsSync(`/proc/${pid}`), false);
    for (const other of boxes) if (other !== b) await runtime.delete(other.stateDir, other.spec);
    const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && d !== String(process.pid));
    const ours = procs.filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(tmp);
      } catch {
        return false;
      }
    });
    assert.deepEqual(ours, []);
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(tmp));
  });
});
