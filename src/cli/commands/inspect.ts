/**
 * `berth inspect` and `container inspect` / `image inspect` (docker/cli inspect.go and
 * cli/command/inspect): without --format, a JSON array indented with four spaces like docker's
 * json.Indent; with --format, the template once per object. Objects that are not found are
 * reported after the output, and the status is 1.
 */
import type { EngineClient } from '../../client/index.ts';
import { isDaemonError } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { renderObject } from '../output.ts';

type Kind = 'container' | 'image';

async function lookup(client: EngineClient, kind: Kind, ref: string, size: boolean): Promise<unknown> {
  return kind === 'container' ? client.containerInspect(ref, { size }) : client.imageInspect(ref);
}

/** Docker's inspect output for objects: a 4-space indented JSON array (`[]` when empty). */
export function formatInspectJson(objects: unknown[]): string {
  if (objects.length === 0) return '[]\n';
  return `${JSON.stringify(objects, null, 4)}\n`;
}

export async function inspectCommand(
  ctx: CliContext,
  opts: Record<string, unknown>,
  args: string[],
): Promise<number> {
  const type = opts.type as string | undefined;
  if (type !== undefined && type !== 'container' && type !== 'image') {
    throw new ExitError(1, `"${type}" is not a valid value for --type`);
  }
  const kinds: Kind[] = type ? [type] : ['container', 'image'];
  const size = !!opts.size;
  const client = await ctx.client();
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of args) {
    let obj: unknown;
    let lastError: unknown;
    for (const kind of kinds) {
      try {
        obj = await lookup(client, kind, ref, size);
        break;
      } catch (err) {
        lastError = err;
        if (!(isDaemonError(err) && err.kind === 'NotFound')) break;
      }
    }
    if (obj !== undefined) {
      found.push(obj);
      continue;
    }
    if (isDaemonError(lastError) && lastError.kind === 'NotFound') {
      errors.push(type ? `Error: No such ${type}: ${ref}` : `Error: No such object: ${ref}`);
    } else if (isDaemonError(lastError)) {
      errors.push(`Error response from daemon: ${lastError.message}`);
    } else {
      throw lastError;
    }
  }
  const format = opts.format as string | undefined;
  if (format) {
    for (const obj of found) ctx.io.stdout.write(await renderObject(format, obj));
  } else {
    ctx.io.stdout.write(formatInspectJson(found));
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
  return 0;
}
