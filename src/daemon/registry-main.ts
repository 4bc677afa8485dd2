/**
 * `berth-registry` (and `berth registry …`): runs berth's registry server, or collects its
 * garbage.
 *
 *   berth-registry serve [--addr 127.0.0.1:5000] [--root DIR] [--htpasswd FILE [--token-auth]]
 *                        [--tls-cert FILE --tls-key FILE] [--delete] [--log-level LEVEL]
 *   berth-registry garbage-collect --root DIR [--dry-run]
 *
 * `serve` prints `listening on <addr>` once it accepts connections and stops on SIGTERM/SIGINT.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { parseArgs } from 'node:util';
import { createLogger, type LogLevel } from '../common/index.ts';
import {
  createRegistryHandler,
  garbageCollect,
  HtpasswdAuthenticator,
  RegistryStorage,
  TokenAuthenticator,
} from '../registry/index.ts';

const USAGE = `Usage: berth registry serve [--addr HOST:PORT] [--root DIR] [--htpasswd FILE [--token-auth]] [--tls-cert FILE --tls-key FILE] [--delete]
       berth registry garbage-collect --root DIR [--dry-run]`;

export async function registryMain(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      addr: { type: 'string', default: '127.0.0.1:5000' },
      root: { type: 'string', default: '/var/lib/berth-registry' },
      htpasswd: { type: 'string' },
      'token-auth': { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      delete: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const log = createLogger(values['log-level'] as LogLevel);
  const storage = new RegistryStorage(values.root!);
  if (verb === 'garbage-collect') {
    await storage.init();
    const removed = await garbageCollect(storage, { dryRun: values['dry-run'] });
    for (const d of removed)
      process.stdout.write(`${values['dry-run'] ? 'would delete' : 'deleted'} blob ${d}\n`);
    process.stdout.write(
      `${removed.length} blobs ${values['dry-run'] ? 'eligible for deletion' : 'deleted'}\n`,
    );
    return 0;
  }
  if (verb !== 'serve') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  await storage.init();
  const users = values.htpasswd ? await HtpasswdAuthenticator.fromFile(values.htpasswd) : undefined;
  if (values['token-auth'] && !users)
    throw new Error('--token-auth needs --htpasswd (the users it issues tokens to)');
  const auth = users && values['token-auth'] ? new TokenAuthenticator(users) : users;
  const handler = createRegistryHandler({
    storage,
    log,
    deleteEnabled: values.delete,
    ...(auth ? { auth } : {}),
  });
  let server: Server;
  if (values['tls-cert'] || values['tls-key']) {
    if (!values['tls-cert'] || !values['tls-key']) throw new Error('--tls-cert and --tls-key go together');
    server = createHttpsServer(
      { cert: await readFile(values['tls-cert']), key: await readFile(values['tls-key']) },
      handler,
    ) as unknown as Server;
  } else server = createHttpServer(handler);
  server.requestTimeout = 0;
  const at = values.addr!.lastIndexOf(':');
  const host = values.addr!.slice(0, at).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(values.addr!.slice(at + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const shown =
    typeof addr === 'object' && addr
      ? `${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`
      : values.addr;
  process.stdout.write(`listening on ${shown}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
