/**
 * Which sysctls a container may set: only those of a namespace it has to itself, as runc's
 * config validator decides (libcontainer/configs/validate). A sysctl of a namespace shared with
 * the host would change the host, so it is refused with runc's words before anything starts.
 */
import { statSync } from 'node:fs';
import { invalidParameter } from '../common/index.ts';
import type { OciNamespace } from '../oci/index.ts';

/** The IPC namespace's sysctls besides fs.mqueue.* (runc's validSysctlMap). */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** True when `path` names the network namespace this process is in ("host" means current). */
function isCurrentNetNs(path: string, self = '/proc/self/ns/net'): boolean {
  try {
    const a = statSync(path);
    const b = statSync(self);
    return a.dev === b.dev && a.ino === b.ino;
  } catch (err) {
    throw invalidParameter(`invalid netns path: ${(err as Error).message}`);
  }
}

export function validateSysctls(
  sysctl: Record<string, string> | undefined,
  namespaces: readonly OciNamespace[],
  currentNetNs = isCurrentNetNs,
): void {
  const has = (type: OciNamespace['type']) => namespaces.find((n) => n.type === type);
  for (const key of Object.keys(sysctl ?? {})) {
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (has('ipc')) continue;
      throw invalidParameter(`sysctl "${key}" is not allowed in the hosts ipc namespace`);
    }
    if (key.startsWith('net.')) {
      const net = has('network');
      if (!net || (net.path && currentNetNs(net.path))) {
        throw invalidParameter(`sysctl "${key}" not allowed in host network namespace`);
      }
      continue;
    }
    if (has('uts')) {
      if (key === 'kernel.domainname') continue;
      if (key === 'kernel.hostname') {
        throw invalidParameter(
          `sysctl "${key}" is not allowed as it conflicts with the OCI "hostname" field`,
        );
      }
    }
    throw invalidParameter(`sysctl "${key}" is not in a separate kernel namespace`);
  }
}
