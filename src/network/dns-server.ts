/**
 * The embedded DNS server of a user-defined network: UDP and TCP on the network's gateway
 * address, port 53, in the host's namespace (containers get `nameserver <gateway>`). It answers
 * A queries for names the engine knows on this network (container names, aliases, short ids;
 * several addresses for a shared alias, shuffled for round-robin, as Docker does) and forwards
 * everything else to the upstream resolvers the engine names for the asking container.
 *
 * Lifecycle: `start()` when the network's bridge exists, `close()` when the network is removed or
 * berthd stops. Lookups are callbacks, so records change without restarting the server.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from '../common/index.ts';

export interface DnsResolver {
  /** IPv4 addresses for `name` (lowercase, without trailing dot) as `clientIp` sees it, or undefined. */
  lookup(name: string, clientIp: string): string[] | undefined;
  /** Upstream servers (ip or ip:port) for a query from `clientIp`. */
  upstreams(clientIp: string): string[];
}

const TTL = 600;

export class EmbeddedDns {
  readonly #address: string;
  readonly #port: number;
  readonly #resolver: DnsResolver;
  readonly #log: Logger;
  #udp?: dgram.Socket;
  #tcp?: net.Server;

  constructor(options: { address: string; port?: number; resolver: DnsResolver; log: Logger }) {
    this.#address = options.address;
    this.#port = options.port ?? 53;
    this.#resolver = options.resolver;
    this.#log = options.log;
  }

  async start(): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4' });
    udp.on('message', (msg, rinfo) => {
      void this.#answer(msg, rinfo.address, 'udp')
        .then((out) => {
          if (out) udp.send(out, rinfo.port, rinfo.address);
        })
        .catch((err) => this.#log.debug('dns query failed', { err }));
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.#port, this.#address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (err) => this.#log.warn('dns socket error', { err }));
    this.#udp = udp;
    const tcp = net.createServer((sock) => this.#serveTcp(sock));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.#port, this.#address, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.#tcp = tcp;
  }

  async close(): Promise<void> {
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  #serveTcp(sock: net.Socket): void {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => {});
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < len + 2) break;
        const msg = buf.subarray(2, len + 2);
        buf = buf.subarray(len + 2);
        void this.#answer(msg, sock.remoteAddress ?? '', 'tcp')
          .then((out) => {
            if (out && !sock.destroyed) {
              const head = Buffer.alloc(2);
              head.writeUInt16BE(out.length);
              sock.write(Buffer.concat([head, out]));
            }
          })
          .catch(() => sock.destroy());
      }
    });
  }

  async #answer(msg: Buffer, clientIp: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question) return undefined;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const ips = this.#resolver.lookup(name, clientIp.replace(/^::ffff:/, ''));
    if (ips) {
      // A names the IPv4 addresses, AAAA the IPv6 ones (containers on IPv6 networks have both).
      const answers =
        question.type === 'A'
          ? shuffle(ips.filter((ip) => !ip.includes(':'))).map((ip) => ({
              type: 'A' as const,
              name: question.name,
              ttl: TTL,
              data: ip,
            }))
          : question.type === 'AAAA'
            ? shuffle(ips.filter((ip) => ip.includes(':'))).map((ip) => ({
                type: 'AAAA' as const,
                name: question.name,
                ttl: TTL,
                data: ip,
              }))
            : [];
      return dnsPacket.encode({
        type: 'response',
        id: query.id,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER,
        questions: [question],
        answers,
      });
    }
    for (const upstream of this.#resolver.upstreams(clientIp)) {
      const reply = await forward(msg, upstream, transport).catch(() => undefined);
      if (reply) return reply;
    }
    return dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2 /* SERVFAIL */,
      questions: [question],
    });
  }
}

function shuffle<T>(list: T[]): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

function splitHostPort(s: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(s);
  if (m && !s.includes('::')) return { host: m[1] as string, port: Number(m[2]) };
  return { host: s, port: 53 };
}

/** One query to one upstream, with a 2 s timeout (Docker's extDNS timeout is similar). */
function forward(msg: Buffer, upstream: string, transport: 'udp' | 'tcp'): Promise<Buffer> {
  const { host, port } = splitHostPort(upstream);
  const signal = AbortSignal.timeout(2000);
  if (transport === 'tcp') {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port, signal });
      let buf = Buffer.alloc(0);
      sock.on('error', reject);
      sock.on('connect', () => {
        const head = Buffer.alloc(2);
        head.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([head, msg]));
      });
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          resolve(buf.subarray(2, buf.readUInt16BE(0) + 2));
          sock.destroy();
        }
      });
    });
  }
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      sock.close();
    };
    const onAbort = () => {
      done();
      reject(new Error('timeout'));
    };
    signal.addEventListener('abort', onAbort);
    sock.on('error', (err) => {
      done();
      reject(err);
    });
    sock.on('message', (reply) => {
      done();
      resolve(reply);
    });
    sock.send(msg, port, host);
  });
}
