/**
 * berthd drives a container of another runc-compatible runtime through that runtime's own
 * commands, as containerd's runc shim does: docker exec is `<runtime> exec --detach --process`
 * (under our shim as subreaper), docker kill/stop is `<runtime> kill`, pause/unpause are
 * `<runtime> pause|resume`, update is `<runtime> update --resources -`, top is `<runtime> ps`.
 * The runtime here is runc behind a wrapper that records each command line, so the tests see
 * which commands ran; runc's own state and the cgroup files show their effect.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  apiCall,
  cgroupFile,
  docker,
  inspectFormat,
  makeBusybox,
  run,
  startDaemon,
  type TestDaemon,
  waitFor,
} from '../helpers/daemon.ts';

const runcPath = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v runc']).toString().trim() || undefined;
  } catch {
    return undefined;
  }
})();
const skip = process.getuid?.() !== 0 ? 'needs root' : !runcPath && 'needs runc';

describe('berthd drives another runtime’s containers with its own commands', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-rtcmds-'));
  const wrapper = join(tmp, 'runc-logged');
  const calls = join(tmp, 'calls.log');
  let d: TestDaemon;
  const runcRoot = () => join(d.execRoot, 'runtime-rl');
  const runc = async (...args: string[]) => await run(runcPath!, ['--root', runcRoot(), ...args]);
  const runcStatus = async (id: string) => JSON.parse((await runc('state', id)).stdout).status as string;
  /** The commands the wrapper saw since the last call (the word after runc's global options). */
  let seen = 0;
  const commands = (): string[] => {
    const lines = existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
    const fresh = lines.slice(seen);
    seen = lines.length;
    return fresh.map((l) => l.replace(/^(--\S+ \S+ )*/, ''));
  };

  before(async () => {
    chmodSync(tmp, 0o755);
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${calls}\nexec ${runcPath} "$@"\n`, { mode: 0o755 });
    d = await startDaemon({ args: ['--add-runtime', `rl=${wrapper}`] });
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('docker exec: stdout, stderr, exit code, stdin, a tty and a missing command, via <runtime> exec', async () => {
    const up = await docker(d, 'run', '-d', '--runtime', 'rl', '--name', 'x1', 'busybox', 'sleep', '300');
    assert.equal(up.code, 0, up.stderr);
    const id = up.stdout.trim();
    commands();

    const ex = await docker(d, 'exec', 'x1', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.deepEqual([ex.code, ex.stdout, ex.stderr], [3, 'out\n', 'err\n']);
    const cmds = commands();
    assert.equal(cmds.length, 1, cmds.join('\n'));
    assert.match(cmds[0]!, new RegExp(`^exec --detach --process process.json --pid-file exec.pid ${id}$`));

    const stdin = await run('docker', ['-H', d.host, 'exec', '-i', 'x1', 'sh', '-c', 'tr a-z A-Z; exit 4'], {
      input: 'hello\n',
      env: { DOCKER_CONFIG: join(d.dir, 'docker-config') },
    });
    assert.deepEqual([stdin.code, stdin.stdout], [4, 'HELLO\n']);

    const tty = await docker(d, 'exec', '-t', 'x1', 'sh', '-c', 'tty; echo $((6*7))');
    assert.equal(tty.code, 0, tty.stderr);
    assert.match(tty.stdout, /^\/dev\/pts\/\d+\r\n42\r\n$/);
    assert.match(
      commands().join('\n'),
      /exec --detach --process process.json --pid-file exec.pid --console-socket /,
    );

    // The process's user, working directory and environment reach runc in process.json.
    const opts = await docker(
      d,
      'exec',
      '-u',
      '65534:65534',
      '-w',
      '/tmp',
      '-e',
      'X=1',
      'x1',
      'sh',
      '-c',
      'echo $(id -u):$(id -g) $(pwd) $X',
    );
    assert.deepEqual([opts.code, opts.stdout], [0, '65534:65534 /tmp 1\n']);
    // exec -d: runc starts it, nobody waits for its output.
    const det = await docker(d, 'exec', '-d', 'x1', 'sh', '-c', 'echo detached > /tmp/det');
    assert.equal(det.code, 0, det.stderr);
    await waitFor(
      'the detached exec ran',
      async () => (await docker(d, 'exec', 'x1', 'cat', '/tmp/det')).stdout === 'detached\n',
    );

    // The process's pid is the one runc started, and a signal ending it is 128+signal.
    const killed = await docker(d, 'exec', 'x1', 'sh', '-c', 'kill -9 $$');
    assert.equal(killed.code, 137);

    // As with dockerd: runc's error is the stream's output, the exit code 127.
    const missing = await docker(d, 'exec', 'x1', 'no-such-cmd');
    assert.equal(missing.code, 127, missing.stderr);
    assert.equal(
      missing.stdout,
      'OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-cmd": ' +
        'executable file not found in $PATH: unknown\r\n',
    );
    const execs = await docker(d, 'inspect', '-f', '{{len .ExecIDs}}', 'x1');
    assert.equal(execs.code, 0);

    // Nothing of the execs is left in the state dir, and runc still has the container running.
    const left = readdirSync(join(d.execRoot, 'c', id)).filter((f) => f.startsWith('exec-'));
    assert.deepEqual(left, []);
    assert.equal(await runcStatus(id), 'running');
    {
      const r = await docker(d, 'rm', '-f', 'x1');
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('docker exec -it in a terminal: runc’s pty gets the size, the keys and the exit code', async () => {
    const up = await docker(d, 'run', '-d', '--runtime', 'rl', '--name', 'x5', 'busybox', 'sleep', '300');
    assert.equal(up.code, 0, up.stderr);
    // script(1) gives docker a terminal (CI has none); keys are typed after a pause.
    const cli = `DOCKER_CONFIG=${join(d.dir, 'docker-config')} docker -H ${d.host}`;
    const keys = ['stty size\\r', 'echo typed-$((40+2))\\r', 'exit 3\\r'];
    const r = await run(
      'sh',
      [
        '-c',
        `(sleep 1; ${keys.map((k) => `printf '${k}'; sleep 0.7`).join('; ')}) | ` +
          `script -qec "stty rows 33 cols 101; ${cli} exec -it x5 sh; echo exit=\\$?" /dev/null`,
      ],
      { timeoutMs: 20_000 },
    );
    assert.match(r.stdout, /33 101/, r.stdout);
    assert.match(r.stdout, /typed-42/, r.stdout);
    assert.match(r.stdout, /exit=3/, r.stdout);
    assert.match(
      commands().join('\n'),
      /exec --detach --process process.json --pid-file exec.pid --console-socket/,
    );
    assert.equal((await docker(d, 'rm', '-f', 'x5')).code, 0);
  });

  test('an exec that cannot be executed answers as dockerd does on berth’s own runtime too', async () => {
    const up = await docker(d, 'run', '-d', '--name', 'n1', 'busybox', 'sleep', '300');
    assert.equal(up.code, 0, up.stderr);
    for (const tty of [[], ['-t']]) {
      const r = await docker(d, 'exec', ...tty, 'n1', 'no-such-cmd');
      assert.equal(r.code, 127, r.stderr);
      assert.equal(
        r.stdout,
        'OCI runtime exec failed: exec: "no-such-cmd": executable file not found in $PATH: unknown\r\n',
      );
    }
    const execs = JSON.parse(
      (await docker(d, 'inspect', '-f', '{{json .ExecIDs}}', 'n1')).stdout,
    ) as string[];
    const codes = await Promise.all(
      execs.map(
        async (e) =>
          ((await apiCall(d.socket, 'GET', `/exec/${e}/json`)).body as { ExitCode: number }).ExitCode,
      ),
    );
    assert.deepEqual(codes, [127, 127]);
    assert.equal((await docker(d, 'rm', '-f', 'n1')).code, 0);
  });

  test('docker pause/unpause are <runtime> pause/resume (runc’s state and the freezer agree); top is <runtime> ps', async () => {
    const up = await docker(d, 'run', '-d', '--runtime', 'rl', '--name', 'x2', 'busybox', 'sleep', '300');
    const id = up.stdout.trim();
    commands();
    {
      const r = await docker(d, 'pause', 'x2');
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(commands(), [`pause ${id}`]);
    assert.equal(await runcStatus(id), 'paused');
    assert.equal(await cgroupFile(d, 'freezer', id, 'freezer.state'), 'FROZEN');
    assert.equal(await inspectFormat(d, 'x2', '{{.State.Status}}'), 'paused');
    {
      const r = await docker(d, 'unpause', 'x2');
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(commands(), [`resume ${id}`]);
    assert.equal(await runcStatus(id), 'running');
    assert.equal(await cgroupFile(d, 'freezer', id, 'freezer.state'), 'THAWED');
    // docker top lists what `<runtime> ps` says is in the container.
    const top = await docker(d, 'top', 'x2');
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /sleep 300/);
    assert.deepEqual(commands(), [`ps --format json ${id}`]);
    {
      const r = await docker(d, 'rm', '-f', 'x2');
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('docker update is <runtime> update --resources -: the limits land in runc’s cgroup', async () => {
    const up = await docker(
      d,
      'run',
      '-d',
      '--runtime',
      'rl',
      '-m',
      '64m',
      '--name',
      'x3',
      'busybox',
      'sleep',
      '300',
    );
    const id = up.stdout.trim();
    commands();
    const u = await docker(
      d,
      'update',
      '-m',
      '96m',
      '--memory-swap',
      '192m',
      '--pids-limit',
      '50',
      '--cpu-shares',
      '512',
      'x3',
    );
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(commands(), [`update --resources - ${id}`]);
    assert.equal(await cgroupFile(d, 'memory', id, 'memory.limit_in_bytes'), String(96 * 1024 * 1024));
    assert.equal(await cgroupFile(d, 'memory', id, 'memory.memsw.limit_in_bytes'), String(192 * 1024 * 1024));
    assert.equal(await cgroupFile(d, 'pids', id, 'pids.max'), '50');
    assert.equal(await cgroupFile(d, 'cpu', id, 'cpu.shares'), '512');
    // A field left out stays: a later pids-only update keeps the memory limit.
    {
      const r = await docker(d, 'update', '--pids-limit', '-1', 'x3');
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(await cgroupFile(d, 'pids', id, 'pids.max'), 'max');
    assert.equal(await cgroupFile(d, 'memory', id, 'memory.limit_in_bytes'), String(96 * 1024 * 1024));
    assert.equal(await inspectFormat(d, 'x3', '{{.HostConfig.Memory}}'), String(96 * 1024 * 1024));
    {
      const r = await docker(d, 'rm', '-f', 'x3');
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('docker kill and stop are <runtime> kill; exit codes as docker reports them', async () => {
    const up = await docker(
      d,
      'run',
      '-d',
      '--runtime',
      'rl',
      '--name',
      'x4',
      'busybox',
      'sh',
      '-c',
      'trap "exit 7" USR1; trap "exit 0" TERM; while :; do sleep 0.1; done',
    );
    const id = up.stdout.trim();
    commands();
    {
      const r = await docker(d, 'kill', '-s', 'USR1', 'x4');
      assert.equal(r.code, 0, r.stderr);
    }
    // (The container's exit may already have brought `delete --force` after it.)
    assert.equal(commands()[0], `kill ${id} 10`);
    await waitFor('x4 exits', async () => (await inspectFormat(d, 'x4', '{{.State.Status}}')) === 'exited');
    assert.equal(await inspectFormat(d, 'x4', '{{.State.ExitCode}}'), '7');

    {
      const r = await docker(d, 'start', 'x4');
      assert.equal(r.code, 0, r.stderr);
    }
    commands();
    const stop = await docker(d, 'stop', 'x4');
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(commands().includes(`kill ${id} 15`));
    assert.equal(await inspectFormat(d, 'x4', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');

    // A paused container is killed too (docker kill resumes it so SIGKILL acts).
    {
      const r = await docker(d, 'start', 'x4');
      assert.equal(r.code, 0, r.stderr);
    }
    {
      const r = await docker(d, 'pause', 'x4');
      assert.equal(r.code, 0, r.stderr);
    }
    commands();
    {
      const r = await docker(d, 'kill', 'x4');
      assert.equal(r.code, 0, r.stderr);
    }
    const killed = commands();
    assert.equal(killed[0], `kill ${id} 9`);
    assert.ok(killed.includes(`resume ${id}`), killed.join('\n'));
    await waitFor('x4 exits', async () => (await inspectFormat(d, 'x4', '{{.State.Status}}')) === 'exited');
    assert.equal(await inspectFormat(d, 'x4', '{{.State.ExitCode}}'), '137');
    {
      const r = await docker(d, 'rm', '-f', 'x4');
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await runc('list', '-q')).stdout, '');
  });
});
