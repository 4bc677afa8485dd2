/**
 * What a command runs with: the process's streams, the environment, the global flags, and a
 * client that is created (and so connects) only when a command first asks for it.
 */
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../client/index.ts';

export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
}

export interface GlobalFlags {
  host?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  debug?: boolean;
  logLevel?: string;
}

export interface CliContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  globals: GlobalFlags;
  /** The Engine API client (created on first use). */
  client(): Promise<EngineClient>;
  /** The client if a command asked for one (to close it at the end). */
  clientIfCreated(): Promise<EngineClient> | undefined;
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
}

export function createContext(io: CliIo, env: NodeJS.ProcessEnv, globals: GlobalFlags): CliContext {
  let client: Promise<EngineClient> | undefined;
  return {
    io,
    env,
    globals,
    client() {
      client ??= import('../client/index.ts').then(
        async ({ EngineClient, resolveHost, resolveClientTls }) => {
          const tls = await resolveClientTls(globals, env);
          return new EngineClient({ host: resolveHost(globals.host, env), ...(tls ? { tls } : {}) });
        },
      );
      return client;
    },
    clientIfCreated() {
      return client;
    },
    out(line) {
      io.stdout.write(`${line}\n`);
    },
    err(line) {
      io.stderr.write(`${line}\n`);
    },
  };
}
