/**
 * A container of another runc-compatible runtime is driven through that runtime's own commands,
 * as containerd's runc shim drives runc: `kill [--all]`, `pause`, `resume`, `update -r -`,
 * `ps --format json`, `state` and `delete --force` run here; `exec --detach --process` runs under `berth-shim
 * rtexec`, the subreaper its process is re-parented to (native/runtime/extrt.c).
 */
import { conflict, internal, loadChildProcess } from '../common/index.ts';
import type { LinuxResources } from '../oci/index.ts';

/** A runc-compatible runtime binary (berthd --add-runtime, daemon.json "runtimes"). */
export interface ExternalRuntime {
  path: string;
  /** Global options before the command (runtimeArgs, and its --root). */
  args: string[];
}

/** `<runtime> <args> <command…>` (stdin from `input`); resolves with its stdout, rejects with its stderr. */
export function runExternal(rt: ExternalRuntime, command: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = loadChildProcess().spawn(rt.path, [...rt.args, ...command], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      const msg = runtimeMessage(stderr) || `exit ${code}`;
      // runc's words for a container that has exited or was never started.
      if (
        /container not running|container .* is not running|cannot .* a container that has stopped/.test(msg)
      )
        return reject(conflict('container is not running'));
      reject(internal(`${rt.path} ${command[0]}: ${msg}`));
    });
  });
}

/** The message of a runtime's stderr: the last logrus `msg="…"`, else the last line. */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines.at(-1) ?? '';
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(last);
  if (m) {
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return m[1]!;
    }
  }
  return last;
}

/** `<runtime> state <id>`'s status: created, running, paused or stopped. */
export async function externalStatus(rt: ExternalRuntime, id: string): Promise<string> {
  return (JSON.parse(await runExternal(rt, ['state', id])) as { status: string }).status;
}

/** `<runtime> kill [--all] <id> <signal>`. */
export async function externalKill(
  rt: ExternalRuntime,
  id: string,
  signal: number,
  all = false,
): Promise<void> {
  await runExternal(rt, ['kill', ...(all ? ['--all'] : []), id, String(signal)]);
}

/**
 * `<runtime> update --resources - <id>` with the fields to change in runc's format (the OCI
 * LinuxResources): fields left out stay as they are.
 */
export async function externalUpdate(
  rt: ExternalRuntime,
  id: string,
  resources: LinuxResources,
): Promise<void> {
  await runExternal(rt, ['update', '--resources', '-', id], JSON.stringify(updateResources(resources)));
}

/** What `runc update -r` reads: memory, cpu, blockIO.weight and pids (devices are not updated). */
export function updateResources(r: LinuxResources): LinuxResources {
  const out: LinuxResources = {};
  if (r.memory) out.memory = r.memory;
  if (r.cpu) out.cpu = r.cpu;
  if (r.blockIO?.weight !== undefined) out.blockIO = { weight: r.blockIO.weight };
  if (r.pids) out.pids = r.pids;
  if (r.unified) out.unified = r.unified;
  return out;
}
