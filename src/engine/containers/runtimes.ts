/**
 * The OCI runtimes a berthd knows, by name (dockerd's --add-runtime, daemon.json "runtimes",
 * --default-runtime; HostConfig.Runtime picks one per container).
 *
 * Names: `berth` is our own runtime (berth-shim doing the container set-up itself) and the
 * default. `runc` is predefined when a `runc` binary is on PATH, as dockerd predefines it.
 * Docker's own default is named `runc`; berth's default is named `berth` so that `--runtime runc`
 * means the real runc. Any other runtime is a runc-compatible binary (create/start/delete with
 * --bundle, --pid-file, --console-socket) that our shim runs as its child: the shim still holds the
 * container's stdio, log and exit status and outlives berthd, as containerd-shim does for dockerd.
 * exec, kill, pause/unpause, update and top of such a container are that runtime's own exec, kill,
 * pause/resume, update and ps commands (runtime/external.ts); stats read its cgroup (as
 * containerd does).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { invalidParameter } from '../../common/index.ts';
import type { ExternalRuntime } from '../../runtime/index.ts';

export const BERTH_RUNTIME = 'berth';

export interface RuntimeEntry {
  path: string;
  runtimeArgs?: string[];
}

export interface RuntimeTable {
  defaultRuntime: string;
  /** Every runtime by name, berth's own included (docker info's Runtimes). */
  runtimes: Record<string, RuntimeEntry>;
}

/** The first executable `name` on PATH (a path with a slash is taken as it is). */
export function lookPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Builds the table from the daemon's settings. `added` are --add-runtime / daemon.json runtimes;
 * their names may not be `berth` or `runc` (dockerd: "runtime name 'runc' is reserved").
 */
export function runtimeTable(opts: {
  shimPath: string;
  added?: Record<string, RuntimeEntry>;
  defaultRuntime?: string;
  runcPath?: string | undefined;
}): RuntimeTable {
  const runtimes: Record<string, RuntimeEntry> = { [BERTH_RUNTIME]: { path: opts.shimPath } };
  const runc = 'runcPath' in opts ? opts.runcPath : lookPath('runc');
  if (runc) runtimes.runc = { path: runc };
  for (const [name, entry] of Object.entries(opts.added ?? {})) {
    if (name === BERTH_RUNTIME || name === 'runc')
      throw invalidParameter(`runtime name '${name}' is reserved`);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidParameter(`invalid runtime name: ${name}`);
    if (!entry.path) throw invalidParameter(`runtime ${name}: a path is required`);
    runtimes[name] = {
      path: entry.path,
      ...(entry.runtimeArgs?.length ? { runtimeArgs: entry.runtimeArgs } : {}),
    };
  }
  const defaultRuntime = opts.defaultRuntime || BERTH_RUNTIME;
  if (!runtimes[defaultRuntime])
    throw invalidParameter(`specified default runtime '${defaultRuntime}' does not exist`);
  return { defaultRuntime, runtimes };
}

/**
 * How the runtime named `name` runs a container: undefined for berth's own, else the binary and
 * its global options, with a --root of its own under the exec root (dockerd uses
 * <exec-root>/runtime-<name>).
 */
export function externalRuntime(
  table: RuntimeTable,
  name: string,
  execRoot: string,
): ExternalRuntime | undefined {
  if (!name || name === BERTH_RUNTIME) return undefined;
  const entry = table.runtimes[name];
  if (!entry) throw invalidParameter(`Unknown runtime specified ${name}`);
  const path = lookPath(entry.path);
  if (!path) throw invalidParameter(`runtime ${name}: ${entry.path}: executable file not found in $PATH`);
  return { path, args: [...(entry.runtimeArgs ?? []), '--root', join(execRoot, `runtime-${name}`)] };
}
