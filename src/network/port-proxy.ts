/**
 * The userland proxy of a published port (Docker's docker-proxy): it binds the host port (which
 * also reserves it, so a port in use is reported at start) and relays connections (TCP) or
 * datagrams (UDP) to the container. Traffic to loopback reaches the container only through it;
 * other traffic is DNATed by the kernel before it gets here.
 *
 * Lifecycle: `openProxy()` at container start (rejects with the bind error), `close()` when the
 * container stops. berthd restarts re-open the proxies of running containers.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface ProxySpec {
  proto: 'tcp' | 'udp';
  /** '' = every IPv4 address; '::' = every IPv6 address (only). */
  hostIp: string;
  /** 0 = pick an ephemeral port. */
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface PortProxy {
  /** The bound host port (the ephemeral one when 0 was asked). */
  readonly hostPort: number;
  close(): Promise<void>;
}

export async function openProxy(spec: ProxySpec): Promise<PortProxy> {
  const host = spec.hostIp && spec.hostIp !== '0.0.0.0' ? spec.hostIp : '0.0.0.0';
  return spec.proto === 'tcp' ? openTcp(spec, host) : openUdp(spec, host);
}

async function openTcp(spec: ProxySpec, host: string): Promise<PortProxy> {
  const sockets = new Set<net.Socket>();
  // Half-closes pass through (docker-proxy's CloseWrite): a client that sends its request and
  // then shuts down its sending side (nc, HTTP/1.0 tools) still gets the whole answer.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: spec.containerIp, port: spec.containerPort, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    const abort = () => {
      client.destroy();
      upstream.destroy();
      forget();
    };
    client.on('error', abort);
    upstream.on('error', abort);
    // pipe() ends the other side when one side ends; a side that closed takes the other with it
    // once that one has flushed what it was given.
    client.on('close', () => {
      upstream.end();
      forget();
    });
    upstream.on('close', () => {
      client.end();
      forget();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: spec.hostPort, exclusive: true, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    hostPort: port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function openUdp(spec: ProxySpec, host: string): Promise<PortProxy> {
  const sock = dgram.createSocket({
    type: host.includes(':') ? 'udp6' : 'udp4',
    ipv6Only: host.includes(':'),
  });
  /** One upstream socket per client address, closed after 90 s idle (docker-proxy's timeout). */
  const flows = new Map<string, { up: dgram.Socket; timer: NodeJS.Timeout }>();
  sock.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const up = dgram.createSocket(spec.containerIp.includes(':') ? 'udp6' : 'udp4');
      up.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
      up.on('error', () => {});
      flow = { up, timer: setTimeout(() => {}, 0) };
      flows.set(key, flow);
    }
    clearTimeout(flow.timer);
    const f = flow;
    f.timer = setTimeout(() => {
      f.up.close();
      flows.delete(key);
    }, 90_000);
    f.timer.unref();
    f.up.send(msg, spec.containerPort, spec.containerIp);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: host, port: spec.hostPort, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.on('error', () => {});
  return {
    hostPort: sock.address().port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of flows.values()) {
          clearTimeout(f.timer);
          f.up.close();
        }
        flows.clear();
        sock.close(() => resolve());
      }),
  };
}
