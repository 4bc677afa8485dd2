/**
 * The `berth` executable: runs the CLI on process.argv and exits with its status once stdout
 * and stderr are flushed (a pending attach or keep-alive socket must not hold the process).
 */
import { runCli } from '../cli/index.ts';

// `berth ps | head -1`: a closed pipe ends the CLI quietly, as it does for Go programs.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const status = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(status);
