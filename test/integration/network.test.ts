/**
 * Networking through the real docker CLI against a berthd of our own: the default bridge,
 * user-defined networks with DNS and isolation, published ports, NAT out to an address the test
 * created. Traffic goes only to loopback and to addresses inside bridges/namespaces made here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import { type TestDaemon, canRunRoot, docker, makeBusybox, run, startDaemon } from '../helpers/daemon.ts';

/** GET /hostname, retried for a few seconds while the server in a just-started container comes up. */
async function httpGet(host: string, port: number): Promise<{ status: number; body: string }> {
  for (let i = 0; ; i++) {
    try {
      return await httpGetOnce(host, port);
    } catch (err) {
      if (i >= 30) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The same from inside a container, with busybox nc: Debian's static busybox crashes in glibc's
 * NSS when wget resolves anything, so names are resolved with nslookup (its own DNS client).
 */
function fetchIn(target: string): string[] {
  return [
    'sh',
    '-c',
    `for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${target} 80 | tail -n 1 && exit 0; sleep 0.2; done; exit 1`,
  ];
}

/** `nslookup name` in a container, then the address it printed. */
function resolveAndFetchIn(name: string): string[] {
  return [
    'sh',
    '-c',
    `ip=$(nslookup ${name} | awk '/^Address: /{print $2}' | tail -n 1); [ -n "$ip" ] || exit 2; printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $ip 80 | tail -n 1`,
  ];
}

function httpGetOnce(host: string, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/hostname', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A detached busybox httpd serving /etc (so /hostname names the container). */
async function server(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await docker(d, 'run', '-d', ...args, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function inspect(d: TestDaemon, ref: string, format: string): Promise<string> {
  const r = await docker(d, 'inspect', '-f', format, ref);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('networking', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('network ls shows the predefined bridge, host and none networks', async () => {
    const r = await docker(d, 'network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [
      'bridge bridge local',
      'host host local',
      'none null local',
    ]);
  });

  test('a container on the default bridge gets an address and is reachable from the host and from another container', async () => {
    const id = await server(d, '--name', 'web1', '--expose', '80');
    const ip = await inspect(d, 'web1', '{{.NetworkSettings.IPAddress}}');
    const subnet = await inspect(d, 'bridge', '{{(index .IPAM.Config 0).Subnet}}');
    assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
    assert.equal(ip.split('.').slice(0, 3).join('.'), subnet.split('.').slice(0, 3).join('.'));
    const gw = await inspect(d, 'web1', '{{.NetworkSettings.Gateway}}');
    assert.equal(gw, subnet.replace(/0\/\d+$/, '1'));
    const res = await httpGet(ip, 80);
    assert.equal(res.body.trim(), id.slice(0, 12));
    const r = await docker(d, 'run', '--rm', 'busybox', ...fetchIn(ip));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), id.slice(0, 12));
    const net = JSON.parse((await docker(d, 'network', 'inspect', 'bridge')).stdout)[0];
    assert.equal(net.Containers[id].Name, 'web1');
    assert.equal(net.Containers[id].IPv4Address, `${ip}/24`);
  });

  test('--link on the default bridge writes the alias into /etc/hosts and the link variables', async () => {
    const ip = await inspect(d, 'web1', '{{.NetworkSettings.IPAddress}}');
    const r = await docker(
      d,
      'run',
      '--rm',
      '--link',
      'web1:webalias',
      'busybox',
      'sh',
      '-c',
      'grep webalias /etc/hosts; echo $WEBALIAS_NAME; echo $WEBALIAS_PORT_80_TCP_ADDR',
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', new RegExp(`^${ip.replace(/\./g, '\\.')}\\twebalias `));
    assert.match(lines[1] ?? '', /^\/[a-z_]+\/webalias$/);
    assert.equal(lines[2], ip);
  });

  test('two containers on a user network reach each other by name and alias; another network cannot reach them', async () => {
    assert.equal((await docker(d, 'network', 'create', 'front')).code, 0);
    assert.equal((await docker(d, 'network', 'create', 'back')).code, 0);
    const id = await server(d, '--network', 'front', '--name', 'api', '--network-alias', 'svc');
    for (const name of ['api', 'svc', id.slice(0, 12)]) {
      const r = await docker(d, 'run', '--rm', '--network', 'front', 'busybox', ...resolveAndFetchIn(name));
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), id.slice(0, 12));
    }
    const ip = await inspect(d, 'api', '{{.NetworkSettings.Networks.front.IPAddress}}');
    const other = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'back',
      'busybox',
      'sh',
      '-c',
      `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 80 | grep -q .`,
    );
    assert.notEqual(other.code, 0, 'a container on another network must not reach it');
    const unknown = await docker(d, 'run', '--rm', '--network', 'back', 'busybox', 'nslookup', 'api');
    assert.notEqual(unknown.code, 0, 'names of another network do not resolve');
    // As with Docker, the resolver is at 127.0.0.11 inside the container, with ndots:0.
    const conf = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'front',
      'busybox',
      'sh',
      '-c',
      'grep -v "^#" /etc/resolv.conf; nslookup svc 127.0.0.11',
    );
    assert.equal(conf.code, 0, conf.stderr);
    assert.match(conf.stdout, /^nameserver 127\.0\.0\.11$/m);
    assert.doesNotMatch(conf.stdout, /^nameserver (?!127\.0\.0\.11$)/m);
    assert.match(conf.stdout, /^options .*ndots:0/m);
    assert.match(conf.stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
  });

  test('connect and disconnect attach a running container to another network', async () => {
    const c = await docker(
      d,
      'run',
      '-d',
      '--name',
      'roamer',
      '--network',
      'back',
      'busybox',
      'sleep',
      '100',
    );
    assert.equal(c.code, 0, c.stderr);
    const con = await docker(d, 'network', 'connect', '--alias', 'wanderer', 'front', 'roamer');
    assert.equal(con.code, 0, con.stderr);
    const r = await docker(d, 'exec', 'roamer', ...resolveAndFetchIn('api'));
    assert.equal(r.code, 0, r.stderr);
    const twice = await docker(d, 'network', 'connect', 'front', 'roamer');
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /endpoint with name roamer already exists in network front/);
    const rm = await docker(d, 'network', 'rm', 'front');
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /has active endpoints/);
    const dis = await docker(d, 'network', 'disconnect', 'front', 'roamer');
    assert.equal(dis.code, 0, dis.stderr);
    const links = await docker(d, 'exec', 'roamer', 'ip', '-o', 'link');
    assert.doesNotMatch(links.stdout, /eth1/);
  });

  test('-p 127.0.0.1:port:80 and -P publish a server reachable from the host; port reports the mapping', async () => {
    const port = 20000 + Math.floor(Math.random() * 10000);
    await server(d, '--name', 'pub', '-p', `127.0.0.1:${port}:80`);
    const res = await httpGet('127.0.0.1', port);
    assert.equal(res.status, 200);
    const p = await docker(d, 'port', 'pub');
    assert.equal(p.stdout.trim(), `80/tcp -> 127.0.0.1:${port}`);
    const clash = await docker(d, 'run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true');
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /port is already allocated/);

    await server(d, '--name', 'puball', '--expose', '80', '-P');
    const mapped = (await docker(d, 'port', 'puball', '80')).stdout.trim().split('\n')[0] ?? '';
    const m = /^0\.0\.0\.0:(\d+)$/.exec(mapped);
    assert.ok(m, mapped);
    assert.equal((await httpGet('127.0.0.1', Number(m[1]))).status, 200);
  });

  test('network create rejects an overlapping subnet and an unknown network is reported', async () => {
    const subnet = await inspect(d, 'front', '{{(index .IPAM.Config 0).Subnet}}');
    const r = await docker(d, 'network', 'create', '--subnet', subnet, 'dup');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Pool overlaps with other one on this address space/);
    const u = await docker(d, 'run', '--rm', '--network', 'nosuchnet', 'busybox', 'true');
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /network nosuchnet not found/);
  });

  test('--ip, --subnet/--gateway/--ip-range and --internal are honoured', async () => {
    const base = (await inspect(d, 'bridge', '{{(index .IPAM.Config 0).Subnet}}'))
      .split('.')
      .slice(0, 2)
      .join('.');
    const subnet = `${base}.200.0/24`;
    const c = await docker(
      d,
      'network',
      'create',
      '--subnet',
      subnet,
      '--gateway',
      `${base}.200.254`,
      '--ip-range',
      `${base}.200.128/25`,
      '--internal',
      'inner',
    );
    assert.equal(c.code, 0, c.stderr);
    const r = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'inner',
      'busybox',
      'ip',
      '-o',
      '-4',
      'addr',
      'show',
      'eth0',
    );
    assert.match(r.stdout, new RegExp(`inet ${base.replace(/\./g, '\\.')}\\.200\\.128/24`));
    const fixed = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'inner',
      '--ip',
      `${base}.200.7`,
      'busybox',
      'ip',
      '-o',
      '-4',
      'addr',
      'show',
      'eth0',
    );
    assert.match(fixed.stdout, new RegExp(`inet ${base.replace(/\./g, '\\.')}\\.200\\.7/24`));
    const route = await docker(d, 'run', '--rm', '--network', 'inner', 'busybox', 'ip', 'route');
    assert.doesNotMatch(route.stdout, /default/);
  });

  test('a container on a bridge reaches a server on a host address the test created, through NAT', async () => {
    // A namespace of the test's own behind a veth pair: traffic to it is forwarded and masqueraded.
    const p = d.netPrefix;
    const ns = `${p}ns`;
    const host = `${p}h`;
    const peer = `${p}p`;
    const addr = '198.18.77';
    const ip = (...args: string[]) => run('ip', args);
    await ip('netns', 'add', ns);
    try {
      await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', ns);
      await ip('addr', 'add', `${addr}.1/24`, 'dev', host);
      await ip('link', 'set', host, 'up');
      await ip('-n', ns, 'addr', 'add', `${addr}.2/24`, 'dev', peer);
      await ip('-n', ns, 'link', 'set', peer, 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      const srv = await run('sh', [
        '-c',
        `ip netns exec ${ns} sh -c 'mkdir -p /tmp/${ns} && echo nat-ok > /tmp/${ns}/x && (busybox httpd -p ${addr}.2:8080 -h /tmp/${ns}) '`,
      ]);
      assert.equal(srv.code, 0, srv.stderr);
      const r = await docker(
        d,
        'run',
        '--rm',
        'busybox',
        'sh',
        '-c',
        `printf 'GET /x HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${addr}.2 8080 | tail -n 1`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'nat-ok');
    } finally {
      await run('sh', ['-c', `ip netns pids ${ns} | xargs -r kill -9; rm -rf /tmp/${ns}`]);
      await ip('link', 'del', host);
      await ip('netns', 'del', ns);
    }
  });

  test('host and none networks: none has only lo, host sees the host interfaces', async () => {
    const none = await docker(d, 'run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link');
    assert.equal(none.stdout.trim().split('\n').length, 1);
    assert.match(none.stdout, /lo:/);
    const hostNet = await docker(d, 'run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link');
    assert.match(hostNet.stdout, new RegExp(`${d.netPrefix}0`));
  });

  test('after berthd is killed and restarted, published ports and names work again', async () => {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const id = await server(d, '--name', 'survivor', '--network', 'front', '-p', `127.0.0.1:${port}:80`);
    assert.equal((await httpGet('127.0.0.1', port)).status, 200);
    await d.kill();
    await d.restart();
    assert.equal((await httpGet('127.0.0.1', port)).status, 200);
    const r = await docker(
      d,
      'run',
      '--rm',
      '--network',
      'front',
      'busybox',
      ...resolveAndFetchIn('survivor'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), id.slice(0, 12));
    await docker(d, 'rm', '-f', 'survivor');
  });

  test('network rm and prune remove the bridge', async () => {
    await docker(d, 'rm', '-f', 'api', 'roamer');
    const id = await inspect(d, 'back', '{{.Id}}');
    const rm = await docker(d, 'network', 'rm', 'back');
    assert.equal(rm.code, 0, rm.stderr);
    const links = await run('ip', ['-o', 'link']);
    assert.doesNotMatch(links.stdout, new RegExp(`${d.netPrefix}b${id.slice(0, 6)}`));
    const pr = await docker(d, 'network', 'prune', '-f');
    assert.equal(pr.code, 0, pr.stderr);
    assert.match(pr.stdout, /front/);
    const ls = await docker(d, 'network', 'ls', '--format', '{{.Name}}');
    assert.doesNotMatch(ls.stdout, /front|inner/);
  });
});
