/**
 * GET /containers/{id}/stats, `docker stats` and `berth stats` against berthd, and the berth CLI's
 * `cp` and `port`. The JSON key sets are Docker's: recorded from dockerd 20.10.24 on this cgroup v1
 * host (one-shot sample of a running container; zero sample of a created one).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BERTH,
  type TestDaemon,
  berth,
  canRunRoot,
  docker,
  makeBusybox,
  run,
  startDaemon,
} from '../helpers/daemon.ts';

type Json = Record<string, unknown>;

const TOP_KEYS = [
  'read',
  'preread',
  'pids_stats',
  'blkio_stats',
  'num_procs',
  'storage_stats',
  'cpu_stats',
  'precpu_stats',
  'memory_stats',
  'name',
  'id',
];
const BLKIO_KEYS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
];
const V1_MEMORY_STAT_KEYS = [
  'active_anon',
  'active_file',
  'cache',
  'dirty',
  'hierarchical_memory_limit',
  'hierarchical_memsw_limit',
  'inactive_anon',
  'inactive_file',
  'mapped_file',
  'pgfault',
  'pgmajfault',
  'pgpgin',
  'pgpgout',
  'rss',
  'rss_huge',
  'total_active_anon',
  'total_active_file',
  'total_cache',
  'total_dirty',
  'total_inactive_anon',
  'total_inactive_file',
  'total_mapped_file',
  'total_pgfault',
  'total_pgmajfault',
  'total_pgpgin',
  'total_pgpgout',
  'total_rss',
  'total_rss_huge',
  'total_unevictable',
  'total_writeback',
  'unevictable',
  'writeback',
];
const NET_KEYS = [
  'rx_bytes',
  'rx_packets',
  'rx_errors',
  'rx_dropped',
  'tx_bytes',
  'tx_packets',
  'tx_errors',
  'tx_dropped',
];
const ZERO = '0001-01-01T00:00:00Z';
const cgroupV1 = existsSync('/sys/fs/cgroup/memory');

/** GET a stats stream and collect `n` JSON lines, then hang up. */
function streamSamples(d: TestDaemon, path: string, n: number): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const out: Json[] = [];
    const req = request({ socketPath: d.socket, path }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i = buf.indexOf('\n');
        while (i >= 0) {
          out.push(JSON.parse(buf.slice(0, i)) as Json);
          buf = buf.slice(i + 1);
          i = buf.indexOf('\n');
          if (out.length === n) {
            req.destroy();
            resolve(out);
            return;
          }
        }
      });
      res.on('end', () => resolve(out));
    });
    req.on('error', (err) => (out.length >= n ? resolve(out) : reject(err)));
    req.end();
  });
}

describe('container stats, berth stats, berth cp and berth port', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  let d: TestDaemon;
  let tmp: string;

  before(async () => {
    d = await startDaemon();
    tmp = await mkdtemp(join(tmpdir(), 'berth-stats-'));
    await makeBusybox(d);
    const busy = await docker(
      d,
      ...['run', '-d', '--name', 'busy', '-m', '64m', '--pids-limit', '50'],
      ...['-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'while :; do :; done'],
    );
    assert.equal(busy.code, 0, busy.stderr);
    const idle = await docker(d, 'run', '-d', '--name', 'idle', 'busybox', 'sleep', '300');
    assert.equal(idle.code, 0, idle.stderr);
    assert.equal((await docker(d, 'create', '--name', 'created', 'busybox', 'true')).code, 0);
  });

  after(async () => {
    await docker(d, 'rm', '-f', 'busy', 'idle', 'created');
    await d?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('docker stats --no-stream shows CPU use of a busy container and the -m limit', async () => {
    const r = await docker(d, 'stats', '--no-stream', '--format', '{{json .}}', 'busy');
    assert.equal(r.code, 0, r.stderr);
    const row = JSON.parse(r.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(row), [
      'BlockIO',
      'CPUPerc',
      'Container',
      'ID',
      'MemPerc',
      'MemUsage',
      'Name',
      'NetIO',
      'PIDs',
    ]);
    assert.equal(row.Name, 'busy');
    assert.ok(Number.parseFloat(row.CPUPerc ?? '') > 0, row.CPUPerc);
    assert.match(row.MemUsage ?? '', / \/ 64MiB$/);
    assert.equal(row.PIDs, '1');
  });

  test("a one-shot sample has Docker's keys, the limits and the bridge interface counters", async () => {
    const r = await d.api('GET', '/containers/busy/stats?stream=false&one-shot=true');
    assert.equal(r.status, 200);
    const s = r.body as Json;
    assert.deepEqual(Object.keys(s), [...TOP_KEYS, 'networks']);
    assert.equal(s.name, '/busy');
    assert.equal(s.preread, ZERO);
    assert.match(s.read as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.deepEqual(Object.keys(s.blkio_stats as Json), BLKIO_KEYS);
    const cpu = s.cpu_stats as Json;
    assert.deepEqual(Object.keys(cpu), ['cpu_usage', 'system_cpu_usage', 'online_cpus', 'throttling_data']);
    assert.ok(((cpu.cpu_usage as Json).total_usage as number) > 0);
    assert.deepEqual(Object.keys(s.precpu_stats as Json), ['cpu_usage', 'throttling_data']);
    const mem = s.memory_stats as Json;
    assert.equal(mem.limit, 64 * 1024 * 1024);
    assert.deepEqual((s.pids_stats as Json).limit, 50);
    if (cgroupV1) {
      assert.deepEqual(Object.keys(mem), ['usage', 'max_usage', 'stats', 'limit']);
      assert.deepEqual(Object.keys(mem.stats as Json), V1_MEMORY_STAT_KEYS);
      assert.deepEqual(Object.keys((cpu.cpu_usage as Json) ?? {}), [
        'total_usage',
        'percpu_usage',
        'usage_in_kernelmode',
        'usage_in_usermode',
      ]);
    }
    const nets = s.networks as Record<string, Json>;
    assert.deepEqual(Object.keys(nets), ['eth0']);
    assert.deepEqual(Object.keys(nets.eth0 ?? {}), NET_KEYS);
  });

  test('streaming: a sample a second, each with the previous cpu_stats as precpu_stats', async () => {
    const [a, b, c] = await streamSamples(d, '/containers/busy/stats', 3);
    assert.ok(a && b && c);
    assert.equal(((a.precpu_stats as Json).cpu_usage as Json).total_usage, 0);
    assert.equal(a.preread, ZERO);
    assert.deepEqual(b.precpu_stats, a.cpu_stats);
    assert.deepEqual(c.precpu_stats, b.cpu_stats);
    assert.equal(b.preread, a.read);
    assert.equal(c.preread, b.read);
    const gap = Date.parse(c.read as string) - Date.parse(b.read as string);
    assert.ok(gap >= 900, `samples ${gap} ms apart`);
  });

  test('stream=false without one-shot primes precpu with an earlier sample', async () => {
    const r = await d.api('GET', '/containers/idle/stats?stream=false');
    const s = r.body as Json;
    assert.notEqual(s.preread, ZERO);
    assert.ok(((s.precpu_stats as Json).system_cpu_usage as number) > 0);
    assert.equal(Object.keys(s.memory_stats as Json).includes('limit'), true);
  });

  test("a created container gets Docker's zero sample; a paused one still reports", async () => {
    const z = (await d.api('GET', '/containers/created/stats?stream=false')).body as Json;
    assert.deepEqual(Object.keys(z), TOP_KEYS);
    assert.equal(z.read, ZERO);
    assert.deepEqual(z.memory_stats, {});
    assert.deepEqual(z.pids_stats, {});
    assert.deepEqual(
      Object.values(z.blkio_stats as Json),
      BLKIO_KEYS.map(() => null),
    );
    const [first] = await streamSamples(d, '/containers/created/stats', 1);
    assert.equal(first?.read, ZERO);
    assert.equal((await docker(d, 'pause', 'idle')).code, 0);
    try {
      const p = (await d.api('GET', '/containers/idle/stats?stream=false&one-shot=true')).body as Json;
      assert.equal((p.pids_stats as Json).current, 1);
      assert.notEqual(p.read, ZERO);
    } finally {
      await docker(d, 'unpause', 'idle');
    }
    const missing = await d.api('GET', '/containers/nope/stats?stream=false');
    assert.equal(missing.status, 404);
  });

  test("berth stats --no-stream prints docker's table; --format and -a as docker", async () => {
    const r = await berth(d, 'stats', '--no-stream');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      /^CONTAINER ID {3}NAME {6}CPU % {5}MEM USAGE \/ LIMIT {3}MEM % {5}NET I\/O +BLOCK I\/O +PIDS$/,
    );
    assert.equal(lines.length, 3);
    const busy = lines.find((l) => / busy /.test(l)) ?? '';
    assert.match(
      busy,
      /^[0-9a-f]{12} {3}busy {6}\d+\.\d\d% +[\d.]+[KM]iB \/ 64MiB +\d+\.\d\d% +[\d.]+k?B \/ [\d.]+k?B +[\d.]+k?B \/ [\d.]+k?B +1$/,
    );
    const all = await berth(d, 'stats', '--no-stream', '-a', '--format', '{{.Name}} {{.PIDs}}');
    assert.deepEqual(all.stdout.trim().split('\n').sort(), ['busy 1', 'created 0', 'idle 1']);
    const json = await berth(d, 'stats', '--no-stream', '--no-trunc', '--format', '{{json .}}', 'busy');
    const row = JSON.parse(json.stdout) as Record<string, string>;
    assert.equal(row.ID?.length, 64);
    assert.equal(row.Container, 'busy');
    assert.ok(Number.parseFloat(row.CPUPerc ?? '') > 0);
    // Without --format, the client config's statsFormat applies.
    const cfgDir = join(tmp, 'docker-config');
    await mkdir(cfgDir);
    await writeFile(join(cfgDir, 'config.json'), JSON.stringify({ statsFormat: '{{.Name}}: {{.PIDs}}' }));
    const cfg = await run(process.execPath, [BERTH, '-H', d.host, 'stats', '--no-stream', 'busy'], {
      env: { DOCKER_CONFIG: cfgDir },
    });
    assert.equal(cfg.stdout, 'busy: 1\n');
    const bad = await berth(d, 'stats', '--no-stream', 'nope');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error response from daemon: No such container: nope\n');
  });

  test('berth stats redraws the table in place while streaming', async () => {
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BERTH, '-H', d.host, 'stats', 'busy']);
      let text = '';
      // Two frames are enough; how soon they come depends on the machine's load.
      const limit = setTimeout(() => child.kill(), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.split('\x1b[H').filter(Boolean).length >= 3) {
          clearTimeout(limit);
          child.kill();
        }
      });
      child.on('close', () => resolve(text));
    });
    const frames = out.split('\x1b[H').filter(Boolean);
    assert.ok(frames.length >= 2, JSON.stringify(out));
    for (const f of frames) {
      assert.match(f, /^CONTAINER ID .*PIDS\x1b\[K\n[0-9a-f]{12} {3}busy .*\x1b\[K\n\x1b\[K\n\x1b\[J$/);
    }
  });

  test('berth cp copies files and directories both ways by docker rules, and tar on stdin/stdout', async () => {
    const src = join(tmp, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'hello\n');
    await writeFile(join(src, 'sub', 'b.txt'), 'bee\n');
    await symlink('a.txt', join(src, 'link'));
    const ok = async (...args: string[]) => {
      const r = await berth(d, ...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    };
    const inC = async (cmd: string) => (await docker(d, 'exec', 'idle', 'sh', '-c', cmd)).stdout;

    await ok('cp', join(src, 'a.txt'), 'idle:/tmp/file.txt');
    await ok('cp', src, 'idle:/tmp/dir'); // new name
    await ok('cp', src, 'idle:/tmp/dir'); // existing dir: goes inside
    await ok('cp', `${src}/.`, 'idle:/tmp/dot'); // contents only
    await ok('cp', '-L', join(src, 'link'), 'idle:/tmp/followed'); // the target's content
    assert.equal(
      await inC(
        'cd /tmp && cat file.txt && find dir dot | sort | tr "\\n" " " && readlink dir/link && cat followed',
      ),
      'hello\n' +
        'dir dir/a.txt dir/link dir/src dir/src/a.txt dir/src/link dir/src/sub dir/src/sub/b.txt dir/sub dir/sub/b.txt ' +
        'dot dot/a.txt dot/link dot/sub dot/sub/b.txt a.txt\nhello\n',
    );
    const noDir = await berth(d, 'cp', join(src, 'a.txt'), 'idle:/tmp/missing/');
    assert.equal(noDir.code, 1);
    assert.equal(noDir.stderr, 'no such directory\n');

    const tarIn = await run('sh', [
      '-c',
      `tar -C ${src} -cf - sub | ${process.execPath} ${BERTH} -H ${d.host} cp - idle:/tmp`,
    ]);
    assert.equal(tarIn.code, 0, tarIn.stderr);
    assert.equal(await inC('cat /tmp/sub/b.txt'), 'bee\n');

    const back = join(tmp, 'back');
    await ok('cp', 'idle:/tmp/dir', back);
    assert.equal(await readFile(join(back, 'src', 'sub', 'b.txt'), 'utf8'), 'bee\n');
    await ok('cp', 'idle:/tmp/file.txt', back); // into an existing dir
    assert.equal(await readFile(join(back, 'file.txt'), 'utf8'), 'hello\n');
    await ok('cp', 'idle:/tmp/file.txt', join(tmp, 'renamed.txt'));
    assert.equal(await readFile(join(tmp, 'renamed.txt'), 'utf8'), 'hello\n');
    // The network files are the container's own (bind-mounted), not the image's.
    await ok('cp', 'idle:/etc/hostname', join(tmp, 'hn'));
    assert.equal(await readFile(join(tmp, 'hn'), 'utf8'), await inC('hostname'));
    await ok('cp', '-L', 'idle:/tmp/dir/link', join(tmp, 'deref'));
    assert.equal(await readFile(join(tmp, 'deref'), 'utf8'), 'hello\n');
    await mkdir(join(tmp, 'merge'));
    await ok('cp', 'idle:/tmp/dot/.', join(tmp, 'merge'));
    assert.equal(await readFile(join(tmp, 'merge', 'sub', 'b.txt'), 'utf8'), 'bee\n');
    const tarOut = await run('sh', [
      '-c',
      `${process.execPath} ${BERTH} -H ${d.host} cp idle:/tmp/dot - | tar -tf -`,
    ]);
    assert.equal(tarOut.code, 0, tarOut.stderr);
    assert.deepEqual(tarOut.stdout.trim().split('\n'), [
      'dot/',
      'dot/a.txt',
      'dot/link',
      'dot/sub/',
      'dot/sub/b.txt',
    ]);
    const dirOnFile = await berth(d, 'cp', 'idle:/tmp/dir', join(back, 'file.txt'));
    assert.equal(dirOnFile.code, 1);
    assert.equal(dirOnFile.stderr, 'cannot copy directory\n');
    // On a terminal both print only the final line, with the same archive size.
    const onTty = async (cli: string) =>
      (
        await run('script', [
          '-qc',
          `${cli} -H ${d.host} cp ${join(src, 'a.txt')} idle:/tmp/tty.txt`,
          '/dev/null',
        ])
      ).stdout;
    const ttyOut = await onTty(`${process.execPath} ${BERTH}`);
    assert.equal(ttyOut, 'Successfully copied 2.05kB to idle:/tmp/tty.txt\r\n');
    assert.equal(ttyOut, await onTty('docker'));
    const missing = await berth(d, 'cp', 'idle:/nope', tmp);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^Error response from daemon: Could not find the file \/nope in container idle\n$/,
    );
  });

  test('berth port lists the published ports as docker port does', async () => {
    const b = await berth(d, 'port', 'busy');
    const k = await docker(d, 'port', 'busy');
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^80\/tcp -> 127\.0\.0\.1:\d+\n$/);
    assert.equal(b.stdout, k.stdout);
    const one = await berth(d, 'port', 'busy', '80/tcp');
    assert.equal(one.stdout, (await docker(d, 'port', 'busy', '80/tcp')).stdout);
    const none = await berth(d, 'port', 'busy', '81');
    assert.equal(none.code, 1);
    assert.equal(none.stderr, "Error: No public port '81' published for busy\n");
    assert.equal((await berth(d, 'port', 'idle')).stdout, '');
  });
});
