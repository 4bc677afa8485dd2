/**
 * `berth registry serve|garbage-collect …`: runs berth's registry server as its own program
 * (src/bin/berth-registry.ts). It is a server, not an Engine API client, so the CLI only starts
 * it, with the same arguments and stdio, and exits with its status.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../common/package-root.ts';
import type { CliContext } from '../context.ts';

export async function registryCommand(
  _ctx: CliContext,
  _opts: Record<string, unknown>,
  args: string[],
): Promise<number> {
  const child = spawn(
    process.execPath,
    [join(packageRoot(), 'dist', 'src', 'bin', 'berth-registry.js'), ...args],
    { stdio: 'inherit' },
  );
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}
