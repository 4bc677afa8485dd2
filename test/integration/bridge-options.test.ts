/**
 * The daemon's bridge options (dockerd --icc, --ip-masq, --iptables, --ip-forward, --fixed-cidr,
 * --default-gateway, flags and daemon.json) and the bridge driver options of user networks,
 * through the real docker CLI. Every daemon has its own bridge, nftables table and address pool;
 * traffic goes only between containers, to loopback, and to a network namespace the test made
 * (the ip-forward daemons run inside a namespace of their own, whose sysctl they may change).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import {
  BERTHD,
  type TestDaemon,
  apiCall,
  canRunRoot,
  cleanupLeftovers,
  docker,
  isolationArgs,
  makeBusybox,
  networkNames,
  run,
  startDaemon,
  waitFor,
} from '../helpers/daemon.ts';

/** Prints the last line of GET /hostname from `ip`:port (busybox nc; exit 1 when nothing answered). */
function fetchIn(ip: string, port = 80): string[] {
  return [
    'sh',
    '-c',
    `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} ${port} | tail -n 1 | grep . || exit 1`,
  ];
}

/** A detached busybox httpd serving /etc (so /hostname names the container). */
async function server(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await docker(d, 'run', '-d', ...args, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function fmt(d: TestDaemon, ref: string, format: string): Promise<string> {
  const r = await docker(d, 'inspect', '-f', format, ref);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function nftTable(table: string, netns?: string): Promise<{ code: number; stdout: string }> {
  const args = ['list', 'table', 'inet', table];
  return netns ? run('ip', ['netns', 'exec', netns, 'nft', ...args]) : run('nft', args);
}

/** A second octet for 10.x.0.0/16 that no host route uses (the test picks the daemon's --bip). */
async function freeTenNet(): Promise<number> {
  const { stdout } = await run('ip', ['-4', 'route', 'show']);
  const used = new Set([...stdout.matchAll(/^10\.(\d+)\./gm)].map((m) => Number(m[1])));
  for (;;) {
    const x = 100 + Math.floor(Math.random() * 150);
    if (!used.has(x)) return x;
  }
}

/**
 * A namespace of the test's own behind a veth pair (host end <net>.1, namespace end <net>.2),
 * with a busybox httpd on <net>.2:8080 serving /x = "outside".
 */
async function outside(prefix: string): Promise<{ ns: string; net: string; close(): Promise<void> }> {
  const ns = `${prefix}ns`;
  const host = `${prefix}h`;
  const net = `198.18.${100 + Math.floor(Math.random() * 100)}`;
  const ip = async (...args: string[]) => {
    const r = await run('ip', args);
    assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  };
  const close = async () => {
    await run('sh', ['-c', `ip netns pids ${ns} | xargs -r kill -9; rm -rf /tmp/${ns}`]);
    await run('ip', ['link', 'del', host]);
    await run('ip', ['netns', 'del', ns]);
  };
  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', `${prefix}p`, 'netns', ns);
    await ip('addr', 'add', `${net}.1/24`, 'dev', host);
    await ip('link', 'set', host, 'up');
    await ip('-n', ns, 'addr', 'add', `${net}.2/24`, 'dev', `${prefix}p`);
    await ip('-n', ns, 'link', 'set', `${prefix}p`, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    const srv = await run('sh', [
      '-c',
      `mkdir -p /tmp/${ns} && echo outside > /tmp/${ns}/x && ip netns exec ${ns} busybox httpd -p ${net}.2:8080 -h /tmp/${ns}`,
    ]);
    assert.equal(srv.code, 0, srv.stderr);
  } catch (err) {
    await close();
    throw err;
  }
  return { ns, net, close };
}

describe('bridge options', { skip: !canRunRoot() && 'needs root' }, () => {
  describe('--icc=false --ip-masq=false', () => {
    let d: TestDaemon;
    before(async () => {
      d = await startDaemon({ args: ['--icc=false', '--ip-masq=false'] });
      await makeBusybox(d);
    });
    after(async () => {
      await d?.stop();
    });

    test('containers on the default bridge cannot reach each other; a legacy link opens the exposed port', async () => {
      const opts = JSON.parse((await docker(d, 'network', 'inspect', 'bridge')).stdout)[0].Options;
      assert.equal(opts['com.docker.network.bridge.enable_icc'], 'false');
      assert.equal(opts['com.docker.network.bridge.enable_ip_masquerade'], 'false');
      const id = await server(d, '--name', 'web1', '--expose', '80');
      const ip = await fmt(d, 'web1', '{{.NetworkSettings.IPAddress}}');
      // The host still reaches it (not traffic between two bridge ports).
      const fromHost = await run('sh', [
        '-c',
        `for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf -m 2 http://${ip}/hostname && exit 0; sleep 0.2; done; exit 1`,
      ]);
      assert.equal(fromHost.stdout.trim(), id.slice(0, 12), fromHost.stderr);
      const blocked = await docker(d, 'run', '--rm', 'busybox', ...fetchIn(ip));
      assert.notEqual(blocked.code, 0, blocked.stdout);
      const ping = await docker(d, 'run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '1', ip);
      assert.notEqual(ping.code, 0);
      const linked = await docker(d, 'run', '--rm', '--link', 'web1:web', 'busybox', ...fetchIn(ip));
      assert.equal(linked.code, 0, linked.stderr);
      assert.equal(linked.stdout.trim(), id.slice(0, 12));
      // A published port reached from another container goes through the userland proxy.
      const gateway = await fmt(d, 'bridge', '{{(index .IPAM.Config 0).Gateway}}');
      const port = 20000 + Math.floor(Math.random() * 20000);
      const pubId = await server(d, '--name', 'web2', '-p', `${gateway}:${port}:80`);
      const viaHost = await docker(d, 'run', '--rm', 'busybox', ...fetchIn(gateway, port));
      assert.equal(viaHost.code, 0, viaHost.stderr);
      assert.equal(viaHost.stdout.trim(), pubId.slice(0, 12));
      // Only the exposed port is opened by the link.
      const other = await docker(
        d,
        'run',
        '--rm',
        '--link',
        'web1:web',
        'busybox',
        'ping',
        '-c',
        '1',
        '-W',
        '1',
        ip,
      );
      assert.notEqual(other.code, 0);
    });

    test('published ports still work (from another namespace, through DNAT); no masquerade for the bridge subnet', async () => {
      const o = await outside(`${d.netPrefix}o`);
      try {
        const port = 20000 + Math.floor(Math.random() * 20000);
        const id = await server(d, '--name', 'pub', '-p', `${o.net}.1:${port}:80`);
        const r = await run('sh', [
          '-c',
          `for i in 1 2 3 4 5 6 7 8 9 10; do ip netns exec ${o.ns} curl -sf -m 2 http://${o.net}.1:${port}/hostname && exit 0; sleep 0.2; done; exit 1`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), id.slice(0, 12));

        const table = await nftTable(d.netPrefix);
        assert.equal(table.code, 0);
        assert.doesNotMatch(table.stdout, /masquerade/);
        // Without masquerade the namespace sees the container's own address: it answers only
        // once it has a route back to the bridge's subnet.
        const subnet = await fmt(d, 'bridge', '{{(index .IPAM.Config 0).Subnet}}');
        const get = [
          'sh',
          '-c',
          `printf 'GET /x HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${o.net}.2 8080 | tail -n 1 | grep . || exit 1`,
        ];
        const noRoute = await docker(d, 'run', '--rm', 'busybox', ...get);
        assert.notEqual(noRoute.code, 0, noRoute.stdout);
        assert.equal((await run('ip', ['-n', o.ns, 'route', 'add', subnet, 'via', `${o.net}.1`])).code, 0);
        const routed = await docker(d, 'run', '--rm', 'busybox', ...get);
        assert.equal(routed.code, 0, routed.stderr);
        assert.equal(routed.stdout.trim(), 'outside');
      } finally {
        await o.close();
      }
    });

    test('user networks: enable_icc, enable_ip_masquerade, bridge.name, driver.mtu and host_binding_ipv4 options', async () => {
      const name = `${d.netPrefix}u`;
      const c = await docker(
        d,
        'network',
        'create',
        '-o',
        'com.docker.network.bridge.enable_icc=false',
        '-o',
        'com.docker.network.bridge.enable_ip_masquerade=false',
        '-o',
        `com.docker.network.bridge.name=${name}`,
        '-o',
        'com.docker.network.driver.mtu=1400',
        '-o',
        'com.docker.network.bridge.host_binding_ipv4=127.0.0.1',
        'opts',
      );
      assert.equal(c.code, 0, c.stderr);
      assert.equal((await run('ip', ['link', 'show', name])).code, 0);
      await server(d, '--name', 'u1', '--network', 'opts', '-p', '80');
      const ip = await fmt(d, 'u1', '{{.NetworkSettings.Networks.opts.IPAddress}}');
      const blocked = await docker(d, 'run', '--rm', '--network', 'opts', 'busybox', ...fetchIn(ip));
      assert.notEqual(blocked.code, 0);
      const mtu = await docker(
        d,
        'run',
        '--rm',
        '--network',
        'opts',
        'busybox',
        'cat',
        '/sys/class/net/eth0/mtu',
      );
      assert.equal(mtu.stdout.trim(), '1400');
      const port = await docker(d, 'port', 'u1', '80');
      assert.match(port.stdout.trim(), /^127\.0\.0\.1:\d+$/);
      const bad = await docker(
        d,
        'network',
        'create',
        '-o',
        'com.docker.network.bridge.enable_icc=maybe',
        'bad',
      );
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /failed to parse com\.docker\.network\.bridge\.enable_icc value/);
      const table = await nftTable(d.netPrefix);
      assert.match(table.stdout, new RegExp(`iifname "${name}" oifname "${name}" drop`));
      assert.equal((await docker(d, 'rm', '-f', 'u1')).code, 0);
      assert.equal((await docker(d, 'network', 'rm', 'opts')).code, 0);
    });
  });

  describe('daemon.json bip, fixed-cidr and default-gateway', () => {
    let d: TestDaemon;
    let confDir: string;
    let net: string;
    before(async () => {
      confDir = await mkdtemp(join(tmpdir(), 'bt-netcfg-'));
      net = `10.${await freeTenNet()}.250`;
      const conf = join(confDir, 'daemon.json');
      await writeFile(
        conf,
        JSON.stringify({
          bip: `${net}.1/24`,
          'fixed-cidr': `${net}.128/25`,
          'default-gateway': `${net}.254`,
          icc: true,
          'ip-forward': true,
          ip: '127.0.0.1',
        }),
      );
      d = await startDaemon({ args: ['--config-file', conf] });
      await makeBusybox(d);
    });
    after(async () => {
      await d?.stop();
      if (confDir) await rm(confDir, { recursive: true, force: true });
    });

    test('containers on the default bridge get addresses from fixed-cidr and the default gateway as their route', async () => {
      const ipam = JSON.parse((await docker(d, 'network', 'inspect', 'bridge')).stdout)[0].IPAM.Config[0];
      assert.deepEqual(ipam, {
        Subnet: `${net}.0/24`,
        Gateway: `${net}.1`,
        IPRange: `${net}.128/25`,
        AuxiliaryAddresses: { DefaultGatewayIPv4: `${net}.254` },
      });
      const started = await docker(d, 'run', '-d', '--name', 'f1', 'busybox', 'sleep', '60');
      assert.equal(started.code, 0, started.stderr);
      const r = await docker(d, 'exec', 'f1', 'sh', '-c', 'ip -4 -o addr show eth0; ip route');
      assert.equal(r.code, 0, r.stderr);
      const addr = /inet (\S+)/.exec(r.stdout)?.[1] ?? '';
      const [ip, len] = addr.split('/');
      assert.equal(len, '24');
      assert.ok(Number(ip?.split('.')[3]) >= 128, addr);
      assert.match(r.stdout, new RegExp(`default via ${net.replace(/\./g, '\\.')}\\.254 dev eth0`));
      assert.equal(await fmt(d, 'f1', '{{.NetworkSettings.Gateway}}'), `${net}.254`);
      assert.equal((await docker(d, 'rm', '-f', 'f1')).code, 0);
    });

    test('"ip" is where ports published without a host address are bound', async () => {
      const opts = JSON.parse((await docker(d, 'network', 'inspect', 'bridge')).stdout)[0].Options;
      assert.equal(opts['com.docker.network.bridge.host_binding_ipv4'], '127.0.0.1');
      const r = await docker(d, 'run', '-d', '--name', 'bind1', '-p', '80', 'busybox', 'sleep', '60');
      assert.equal(r.code, 0, r.stderr);
      assert.match((await docker(d, 'port', 'bind1', '80')).stdout.trim(), /^127\.0\.0\.1:\d+$/);
      assert.equal((await docker(d, 'rm', '-f', 'bind1')).code, 0);
    });

    test('a user network with enable_ip_masquerade=false gets no masquerade rule; the default bridge keeps its own', async () => {
      const c = await docker(
        d,
        'network',
        'create',
        '-o',
        'com.docker.network.bridge.enable_ip_masquerade=false',
        'nomasq',
      );
      assert.equal(c.code, 0, c.stderr);
      const subnet = await fmt(d, 'nomasq', '{{(index .IPAM.Config 0).Subnet}}');
      const table = (await nftTable(d.netPrefix)).stdout;
      assert.match(
        table,
        new RegExp(`ip saddr ${net.replace(/\./g, '\\.')}\\.0/24 oifname != "${d.netPrefix}0" masquerade`),
      );
      assert.ok(!table.includes(`ip saddr ${subnet} `), table);
      assert.equal((await docker(d, 'network', 'rm', 'nomasq')).code, 0);
    });

    test('a user network with the DefaultGatewayIPv4 auxiliary address routes through it', async () => {
      const base = `10.${await freeTenNet()}.251`;
      const c = await docker(
        d,
        'network',
        'create',
        '--subnet',
        `${base}.0/24`,
        '--aux-address',
        `DefaultGatewayIPv4=${base}.200`,
        'auxgw',
      );
      assert.equal(c.code, 0, c.stderr);
      const r = await docker(d, 'run', '--rm', '--network', 'auxgw', 'busybox', 'ip', 'route');
      assert.match(r.stdout, new RegExp(`default via ${base.replace(/\./g, '\\.')}\\.200 dev eth0`));
      assert.equal((await docker(d, 'network', 'rm', 'auxgw')).code, 0);
    });
  });

  describe('--iptables=false', () => {
    let d: TestDaemon;
    before(async () => {
      d = await startDaemon({ args: ['--iptables=false'] });
      await makeBusybox(d);
    });
    after(async () => {
      await d?.stop();
    });

    test('berthd programs no nftables table; published ports work through the userland proxy', async () => {
      assert.notEqual((await nftTable(d.netPrefix)).code, 0);
      const id = await server(d, '--name', 'pp1', '-p', '127.0.0.1::80');
      const port = (await docker(d, 'port', 'pp1', '80')).stdout.trim().split(':').pop();
      const r = await run('sh', [
        '-c',
        `for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf -m 2 http://127.0.0.1:${port}/hostname && exit 0; sleep 0.2; done; exit 1`,
      ]);
      assert.equal(r.stdout.trim(), id.slice(0, 12), r.stderr);
      const ip = await fmt(d, 'pp1', '{{.NetworkSettings.IPAddress}}');
      const peer = await docker(d, 'run', '--rm', 'busybox', ...fetchIn(ip));
      assert.equal(peer.stdout.trim(), id.slice(0, 12), peer.stderr);
      const opts = JSON.parse((await docker(d, 'network', 'inspect', 'bridge')).stdout)[0].Options;
      assert.equal(opts['com.docker.network.bridge.enable_ip_masquerade'], 'false');
      const icc = await docker(
        d,
        'network',
        'create',
        '-o',
        'com.docker.network.bridge.enable_icc=false',
        'x',
      );
      assert.notEqual(icc.code, 0);
      assert.match(icc.stderr, /--iptables=false/);
      assert.notEqual((await nftTable(d.netPrefix)).code, 0);
    });

    test("--iptables=false with --icc=false stops berthd with dockerd's message", async () => {
      const dir = await mkdtemp(join(tmpdir(), 'bt-'));
      try {
        const r = await run(
          process.execPath,
          [
            BERTHD,
            ...['-H', `unix://${join(dir, 's.sock')}`, '--data-root', join(dir, 'data')],
            ...['--exec-root', join(dir, 'run'), ...(await isolationArgs(dir))],
            '--iptables=false',
            '--icc=false',
          ],
          { timeoutMs: 10_000 },
        );
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /You specified --iptables=false with --icc=false/);
      } finally {
        await cleanupLeftovers(dir);
      }
    });
  });

  describe('--ipv6 --fixed-cidr-v6', () => {
    let d: TestDaemon;
    // A random ULA /64 (the host's own addresses are elsewhere).
    const hex = () => Math.floor(Math.random() * 0xffff).toString(16);
    const prefix = `fd${Math.floor(Math.random() * 0xff)
      .toString(16)
      .padStart(2, '0')}:${hex()}:${hex()}:1`;
    before(async () => {
      // --ip-forward=false: this daemon must not turn the host's IPv6 forwarding on.
      d = await startDaemon({ args: ['--ipv6', '--fixed-cidr-v6', `${prefix}::/64`, '--ip-forward=false'] });
      await makeBusybox(d);
    });
    after(async () => {
      await d?.stop();
    });

    test('the default bridge has the IPv6 subnet; containers get addresses and a route from it and reach each other', async () => {
      const net = JSON.parse((await docker(d, 'network', 'inspect', 'bridge')).stdout)[0];
      assert.equal(net.EnableIPv6, true);
      assert.deepEqual(net.IPAM.Config[1], {
        Subnet: `${prefix}::/64`,
        Gateway: `${prefix}::1`,
        IPRange: `${prefix}::/64`,
      });
      const id = await server(d, '--name', 'six1');
      assert.equal(await fmt(d, 'six1', '{{.NetworkSettings.GlobalIPv6Address}}'), `${prefix}::2`);
      assert.equal(await fmt(d, 'six1', '{{.NetworkSettings.GlobalIPv6PrefixLen}}'), '64');
      assert.equal(await fmt(d, 'six1', '{{.NetworkSettings.IPv6Gateway}}'), `${prefix}::1`);
      const r = await docker(
        d,
        'run',
        '--rm',
        '--hostname',
        'sixer',
        'busybox',
        'sh',
        '-c',
        `ip -6 -o addr show eth0 scope global; ip -6 route show default; grep sixer /etc/hosts; ping -c 1 -W 2 ${prefix}::2 >/dev/null && echo reached`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`inet6 ${prefix}::3/64`));
      assert.match(r.stdout, new RegExp(`default via ${prefix}::1 dev eth0`));
      assert.match(r.stdout, new RegExp(`^${prefix}::3\tsixer`, 'm'));
      assert.match(r.stdout, /^reached$/m);
      // The host reaches the container over the bridge's IPv6 address.
      const fromHost = await run('sh', [
        '-c',
        `for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf -m 2 -g http://[${prefix}::2]/hostname && exit 0; sleep 0.2; done; exit 1`,
      ]);
      assert.equal(fromHost.stdout.trim(), id.slice(0, 12), fromHost.stderr);
      const table = await nftTable(d.netPrefix);
      assert.match(
        table.stdout,
        new RegExp(`ip6 saddr ${prefix}::/64 oifname != "${d.netPrefix}0" masquerade`),
      );
    });

    test('user networks with --ipv6: --ip6, names answered with AAAA records, refusals', async () => {
      const sub = `${prefix.slice(0, prefix.lastIndexOf(':'))}:2`;
      const c = await docker(d, 'network', 'create', '--ipv6', '--subnet', `${sub}::/64`, 'v6net');
      assert.equal(c.code, 0, c.stderr);
      const net = JSON.parse((await docker(d, 'network', 'inspect', 'v6net')).stdout)[0];
      assert.equal(net.EnableIPv6, true);
      assert.deepEqual(net.IPAM.Config[1], { Subnet: `${sub}::/64`, Gateway: `${sub}::1` });
      const s = await docker(
        d,
        'run',
        '-d',
        '--name',
        'v6a',
        '--network',
        'v6net',
        '--ip6',
        `${sub}::10`,
        'busybox',
        'sleep',
        '60',
      );
      assert.equal(s.code, 0, s.stderr);
      assert.equal(
        await fmt(d, 'v6a', '{{.NetworkSettings.Networks.v6net.GlobalIPv6Address}}'),
        `${sub}::10`,
      );
      assert.equal(
        await fmt(d, 'v6a', '{{.NetworkSettings.Networks.v6net.IPAMConfig.IPv6Address}}'),
        `${sub}::10`,
      );
      const r = await docker(
        d,
        'run',
        '--rm',
        '--network',
        'v6net',
        'busybox',
        'sh',
        '-c',
        `nslookup -type=aaaa v6a; ping -c 1 -W 2 ${sub}::10 >/dev/null && echo reached`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Address: ${sub}::10`));
      assert.match(r.stdout, /^reached$/m);
      const bridgeIp6 = await docker(d, 'run', '--rm', '--ip6', `${prefix}::99`, 'busybox', 'true');
      assert.notEqual(bridgeIp6.code, 0);
      assert.match(bridgeIp6.stderr, /user specified IP address is supported on user defined networks only/);
      const noSubnet = await docker(d, 'network', 'create', '--ipv6', 'v6none');
      assert.notEqual(noSubnet.code, 0);
      assert.match(noSubnet.stderr, /give an IPv6 --subnet with --ipv6/);
      const noV4 = await d.api('POST', '/networks/create', { Name: 'v6only', EnableIPv4: false });
      assert.equal(noV4.status, 400, JSON.stringify(noV4.body));
      assert.equal((await docker(d, 'rm', '-f', 'v6a')).code, 0);
      assert.equal((await docker(d, 'network', 'rm', 'v6net')).code, 0);
    });

    test('a port published without a host address is bound on [::] too, with the same host port', async () => {
      const id = await server(d, '--name', 'six2', '-p', '127.0.0.1::80', '-p', '80');
      const ports = (await docker(d, 'port', 'six2', '80')).stdout.trim().split('\n');
      const port = ports
        .find((p) => p.startsWith('[::]:'))
        ?.split(':')
        .pop();
      assert.ok(port, ports.join(' '));
      assert.ok(ports.includes(`0.0.0.0:${port}`), ports.join(' '));
      // A binding with a host address stays IPv4 only.
      assert.equal(ports.length, 3, ports.join(' '));
      assert.ok(ports.some((p) => p.startsWith('127.0.0.1:')));
      const r = await run('sh', [
        '-c',
        `for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf -m 2 -g http://[::1]:${port}/hostname && exit 0; sleep 0.2; done; exit 1`,
      ]);
      assert.equal(r.stdout.trim(), id.slice(0, 12), r.stderr);
      // After berthd is killed and restarted the [::] binding is served again.
      await d.kill();
      await d.restart();
      const again = await run('sh', [
        '-c',
        `for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf -m 2 -g http://[::1]:${port}/hostname && exit 0; sleep 0.2; done; exit 1`,
      ]);
      assert.equal(again.stdout.trim(), id.slice(0, 12), again.stderr);
      assert.equal((await docker(d, 'rm', '-f', 'six2')).code, 0);
    });
  });

  test('after a restart with other flags the default bridge follows them, its old addresses replaced', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bt-'));
    const socket = join(dir, 's.sock');
    const iso = await isolationArgs(dir);
    const bridge = iso[iso.indexOf('--bridge') + 1] as string;
    const net = `10.${await freeTenNet()}`;
    /** Starts berthd with `extra`, returns the default bridge's inspect and addresses, stops it. */
    const startStop = async (extra: string[]) => {
      const child = spawn(
        process.execPath,
        [
          ...[BERTHD, '-H', `unix://${socket}`, '--data-root', join(dir, 'data')],
          ...['--exec-root', join(dir, 'run'), '--ip-forward=false', ...iso, ...extra],
        ],
        { stdio: 'ignore' },
      );
      try {
        await waitFor(
          'berthd',
          async () => {
            try {
              return (await apiCall(socket, 'GET', '/_ping')).status === 200;
            } catch {
              return false;
            }
          },
          20_000,
        );
        // biome-ignore lint/suspicious/noExplicitAny: inspect output read loosely.
        const inspect = (await apiCall(socket, 'GET', '/networks/bridge')).body as any;
        const addrs = (await run('ip', ['-o', 'addr', 'show', 'dev', bridge, 'scope', 'global'])).stdout;
        return { inspect, addrs: [...addrs.matchAll(/inet6? (\S+)/g)].map((m) => m[1]) };
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    };
    try {
      const first = await startStop([
        '--bip',
        `${net}.5.1/24`,
        '--icc=false',
        '--ipv6',
        '--fixed-cidr-v6',
        'fd5e:2::/64',
      ]);
      assert.equal(first.inspect.Options['com.docker.network.bridge.enable_icc'], 'false');
      assert.equal(first.inspect.EnableIPv6, true);
      assert.deepEqual(first.addrs, [`${net}.5.1/24`, 'fd5e:2::1/64']);
      const second = await startStop(['--bip', `${net}.6.1/24`, '--fixed-cidr', `${net}.6.64/26`]);
      assert.equal(second.inspect.Id, first.inspect.Id);
      assert.equal(second.inspect.Options['com.docker.network.bridge.enable_icc'], 'true');
      assert.equal(second.inspect.EnableIPv6, false);
      assert.deepEqual(second.inspect.IPAM.Config, [
        { Subnet: `${net}.6.0/24`, IPRange: `${net}.6.64/26`, Gateway: `${net}.6.1` },
      ]);
      assert.deepEqual(second.addrs, [`${net}.6.1/24`]);
    } finally {
      await cleanupLeftovers(dir);
    }
  });

  describe('--ip-forward (berthd in a network namespace of its own)', () => {
    /** Starts berthd inside `ns` with ip_forward set to 0 there first; returns its forwarding then. */
    async function forwardingAfterStart(
      extra: string[],
    ): Promise<{ forward: string; forward6: string; table: string }> {
      const dir = await mkdtemp(join(tmpdir(), 'bt-'));
      const { prefix } = await networkNames(dir);
      const ns = `${prefix}fw`;
      const socket = join(dir, 's.sock');
      let child: ReturnType<typeof spawn> | undefined;
      try {
        assert.equal((await run('ip', ['netns', 'add', ns])).code, 0);
        await run('ip', [
          'netns',
          'exec',
          ns,
          'sh',
          '-c',
          'echo 0 > /proc/sys/net/ipv4/ip_forward; echo 0 > /proc/sys/net/ipv6/conf/all/forwarding; ip link set lo up',
        ]);
        // nsenter (not `ip netns exec`, which remounts /sys and hides the cgroup tree).
        child = spawn(
          'nsenter',
          [
            ...[`--net=/run/netns/${ns}`, process.execPath, BERTHD, '-H', `unix://${socket}`],
            ...['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'run')],
            ...(await isolationArgs(dir)),
            ...extra,
          ],
          { stdio: 'ignore' },
        );
        await waitFor(
          'berthd in its namespace',
          async () => {
            try {
              return (await apiCall(socket, 'GET', '/_ping')).status === 200;
            } catch {
              return false;
            }
          },
          20_000,
        );
        const forward = await run('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward']);
        const forward6 = await run('ip', [
          'netns',
          'exec',
          ns,
          'cat',
          '/proc/sys/net/ipv6/conf/all/forwarding',
        ]);
        const table = await nftTable(prefix, ns);
        const info = await apiCall(socket, 'GET', '/info');
        assert.equal(
          (info.body as { IPv4Forwarding: boolean }).IPv4Forwarding,
          forward.stdout.trim() === '1',
        );
        return { forward: forward.stdout.trim(), forward6: forward6.stdout.trim(), table: table.stdout };
      } finally {
        if (child && child.exitCode === null) {
          const exited = new Promise((r) => child?.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
        await run('sh', ['-c', `ip netns pids ${ns} | xargs -r kill -9`]);
        await run('ip', ['netns', 'del', ns]);
        await cleanupLeftovers(dir);
      }
    }

    test("berthd turns ip_forward on and then drops forwarded traffic that is not its bridges' (dockerd's FORWARD DROP)", async () => {
      const on = await forwardingAfterStart([]);
      assert.equal(on.forward, '1');
      assert.match(on.table, /hook forward priority filter; policy drop;/);
      assert.equal(on.forward6, '0');
      const off = await forwardingAfterStart([
        '--ip-forward=false',
        '--ipv6',
        '--fixed-cidr-v6',
        'fd5e:1::/64',
      ]);
      assert.equal(off.forward, '0');
      assert.equal(off.forward6, '0');
      assert.match(off.table, /hook forward priority filter; policy accept;/);
      const six = await forwardingAfterStart(['--ipv6', '--fixed-cidr-v6', 'fd5e:1::/64']);
      assert.equal(six.forward6, '1');
    });
  });
});
