/**
 * TLS settings of a client, as the docker CLI takes them: `--tlsverify` (or DOCKER_TLS_VERIFY)
 * verifies the daemon against the CA and presents the client certificate; `--tls` (or
 * DOCKER_TLS) encrypts without verifying the daemon. Files default to DOCKER_CERT_PATH (else
 * ~/.docker) ca.pem, cert.pem, key.pem; a default client certificate that does not exist is
 * simply not sent.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClientTls {
  /** Verify the daemon's certificate (against `ca`) and its name. */
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** undefined when neither flags nor environment ask for TLS. */
export async function resolveClientTls(
  flags: TlsFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ClientTls | undefined> {
  const verify = flags.tlsverify ?? !!env.DOCKER_TLS_VERIFY;
  const tls = verify || (flags.tls ?? !!env.DOCKER_TLS);
  if (!tls) return undefined;
  const dir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const read = async (given: string | undefined, name: string, required: boolean) => {
    const path = given ?? join(dir, name);
    try {
      return await readFile(path);
    } catch (err) {
      if (!required && given === undefined) return undefined;
      throw new Error(`could not read TLS file ${path}: ${(err as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(flags.tlscacert, 'ca.pem', verify),
    read(flags.tlscert, 'cert.pem', flags.tlscert !== undefined),
    read(flags.tlskey, 'key.pem', flags.tlskey !== undefined),
  ]);
  return { verify, ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}
