/**
 * /containers/{id}/checkpoints (moby router/checkpoint): experimental routes. Without
 * --experimental they answer dockerd's "experimental feature is disabled" (501); with it,
 * berth still has no checkpoint/restore (it would need CRIU): 501 saying so.
 */
import { notImplemented } from '../../../common/index.ts';
import type { RequestContext } from '../context.ts';

export async function checkpoints({ engine }: RequestContext): Promise<void> {
  if (!engine.system.version().Experimental) {
    throw notImplemented(
      'This experimental feature is disabled by default. Start the Docker daemon in experimental mode in order to enable it.',
    );
  }
  throw notImplemented('checkpoint and restore are not supported by berth (they need CRIU)');
}
