/**
 * What dockerd discards at create because the host cannot do it (daemon_unix.go
 * verifyPlatformContainerResources, driven by pkg/sysinfo): KernelMemory without kmem accounting
 * (cgroup v2) and for API >= 1.42 (the create route zeroes it), OomKillDisable and
 * MemorySwappiness on cgroup v2. Each discard is reported with Docker's warning text and the
 * stored HostConfig shows the discarded value, as `docker inspect` does with dockerd.
 *
 * Called by the engine on create, after validateCreate (which has already refused bad values).
 */
import type { ContainerCreateRequest, HostConfig } from '../../api/types/index.ts';
import { type HostFacts, apiVersionLessThan } from './validate.ts';

export const WARN_KERNEL_MEMORY =
  'Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.';
export const WARN_OOM_KILL_DISABLE = 'Your kernel does not support OomKillDisable. OomKillDisable discarded.';
export const WARN_SWAPPINESS =
  'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.';

/** Returns the body with unsupported settings discarded, and Docker's warnings for them. */
export function discardUnsupported(
  body: ContainerCreateRequest,
  host: HostFacts,
  apiVersion: string,
): { body: ContainerCreateRequest; warnings: string[] } {
  const warnings: string[] = [];
  const hc: HostConfig = { ...(body.HostConfig ?? {}) };
  if (hc.KernelMemory) {
    // API 1.42 removed the field: the create route silently zeroes it.
    if (!apiVersionLessThan(apiVersion, '1.42')) hc.KernelMemory = 0;
    else if (host.kernelMemory === false) {
      warnings.push(WARN_KERNEL_MEMORY);
      hc.KernelMemory = 0;
    }
  }
  if (hc.OomKillDisable !== undefined && hc.OomKillDisable !== null && host.oomKillDisable === false) {
    // Only warn when the caller asked to disable the killer; "enabled" is what they get anyway.
    if (hc.OomKillDisable) warnings.push(WARN_OOM_KILL_DISABLE);
    hc.OomKillDisable = false;
  }
  if (
    hc.MemorySwappiness !== undefined &&
    hc.MemorySwappiness !== null &&
    hc.MemorySwappiness !== -1 &&
    host.memorySwappiness === false
  ) {
    warnings.push(WARN_SWAPPINESS);
    hc.MemorySwappiness = null;
  }
  return { body: { ...body, HostConfig: hc }, warnings };
}
