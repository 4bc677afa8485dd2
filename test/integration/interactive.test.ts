/**
 * Interactive use through a real pty (script(1); CI has no terminal): attach with custom
 * --detach-keys, exec -it with the terminal's size, start -ai, the daemon's own detach keys on
 * a raw API session, and stdin EOF ending `run -i` without a TTY. Both the docker and berth CLIs.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BERTH,
  type TestDaemon,
  canRunRoot,
  docker,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

describe('interactive sessions', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  let clis: Array<[string, string]>;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    clis = [
      ['docker', `DOCKER_CONFIG=${join(d.dir, 'dc')} docker -H ${d.host}`],
      ['berth', `${process.execPath} ${BERTH} -H ${d.host}`],
    ];
  });
  after(async () => {
    await d?.stop();
  });

  /** Runs `cmd` in a pty, typing `keys` (shell printf syntax, with pauses given as `|`). */
  const inPty = (cmd: string, keys: string[]) =>
    run(
      'sh',
      [
        '-c',
        `(sleep 1; ${keys.map((k) => `printf '${k}'; sleep 0.7`).join('; ')}) | script -qec "${cmd}" /dev/null`,
      ],
      { timeoutMs: 20_000 },
    );

  test('attach --detach-keys leaves the container running', async () => {
    for (const [name, cli] of clis) {
      const c = `det-${name}`;
      assert.equal((await docker(d, 'run', '-dit', '--name', c, 'busybox', 'sh')).code, 0);
      const r = await inPty(`${cli} attach --detach-keys ctrl-x,x ${c}`, [
        'echo typed-$((40+2))\\r',
        '\\030x',
      ]);
      assert.match(r.stdout, /typed-42/, `${name}: ${r.stdout}`);
      assert.equal((await docker(d, 'inspect', '-f', '{{.State.Status}}', c)).stdout, 'running\n', name);
      assert.equal((await docker(d, 'rm', '-f', c)).code, 0);
    }
  });

  test('exec -it gets the terminal size and resizes', async () => {
    assert.equal((await docker(d, 'run', '-d', '--name', 'sz', 'busybox', 'sleep', '1000')).code, 0);
    for (const [name, cli] of clis) {
      const r = await inPty(`stty rows 33 cols 101; ${cli} exec -it sz sh`, ['stty size\\r', 'exit\\r']);
      assert.match(r.stdout, /33 101/, `${name}: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /\r\r\n/, `${name}: the raw terminal does not add a CR`);
    }
    assert.equal((await docker(d, 'rm', '-f', 'sz')).code, 0);
  });

  test('start -ai attaches a created -it container', async () => {
    for (const [name, cli] of clis) {
      const c = `sai-${name}`;
      assert.equal((await docker(d, 'create', '-it', '--name', c, 'busybox', 'sh')).code, 0);
      const r = await inPty(`${cli} start -ai ${c}`, ['echo started-$((6*7))\\r', 'exit 3\\r']);
      assert.match(r.stdout, /started-42/, `${name}: ${r.stdout}`);
      assert.equal(r.code, 3, `${name}: exit code of the container`);
      assert.equal((await docker(d, 'rm', c)).code, 0);
    }
  });

  test('the daemon detaches a raw TTY session on Ctrl-P Ctrl-Q', async () => {
    const create = await d.api('POST', '/containers/create?name=raw', {
      Image: 'busybox',
      Cmd: ['sh'],
      Tty: true,
      OpenStdin: true,
    });
    assert.equal(create.status, 201);
    assert.equal((await d.api('POST', '/containers/raw/start')).status, 204);
    const sock = connect(d.socket);
    let got = '';
    sock.on('data', (c) => (got += c.toString('latin1')));
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(
      'POST /containers/raw/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    await sleep(300);
    sock.write('echo raw-$((40+2))\r');
    await sleep(500);
    sock.write(Buffer.from([0x10, 0x11]));
    await Promise.race([closed, sleep(3000).then(() => assert.fail('the daemon did not close the session'))]);
    assert.match(got, /101 UPGRADED/);
    assert.match(got, /raw-42/);
    const st = await d.api('GET', '/containers/raw/json');
    assert.equal((st.body as { State: { Running: boolean } }).State.Running, true);
    assert.equal((await d.api('DELETE', '/containers/raw?force=1')).status, 204);
  });

  test('run -i without a TTY ends when stdin ends', async () => {
    for (const [name, cli] of clis) {
      const r = await run('sh', ['-c', `printf 'a\\nb\\n' | ${cli} run --rm -i busybox wc -l`], {
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), '2', name);
    }
  });
});
