/**
 * The local terminal and signals during attach-like commands: keeping the daemon's TTY size in
 * step with ours (docker/cli tty.go MonitorTtySize) and forwarding signals to the container
 * (docker/cli signals.go ForwardAllSignals).
 */
import type { EngineClient } from '../client/index.ts';
import type { CliContext } from './context.ts';

/** Sends the terminal size now and on every SIGWINCH; returns the function that stops it. */
export function monitorTtySize(
  ctx: CliContext,
  resize: (height: number, width: number) => Promise<void>,
): () => void {
  const send = () => {
    const { rows, columns } = ctx.io.stdout;
    if (!rows || !columns) return;
    resize(rows, columns).catch(() => {
      // docker retries the first resize and ignores later failures (the process may have exited).
    });
  };
  send();
  process.on('SIGWINCH', send);
  return () => {
    process.off('SIGWINCH', send);
  };
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/**
 * While installed, the signals a user sends to the CLI go to the container through
 * POST /containers/{id}/kill instead of ending the CLI. Returns the uninstaller.
 */
export function forwardSignals(client: EngineClient, id: string): () => void {
  const handlers = FORWARDED.map((sig) => {
    const handler = () => {
      client.containerKill(id, sig).catch(() => {
        // docker logs at debug level: the container may already be gone.
      });
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}
