/**
 * What dockerd discards at create because the host cannot do it (daemon_unix.go
 * verifyPlatformContainerResources, driven by pkg/sysinfo): KernelMemory without kmem accounting
 * (cgroup v2) and for API >= 1.42 (the create route zeroes it), OomKillDisable and
 * MemorySwappiness on cgroup v2, and blkio settings the io controller has no file for. Each discard is reported with Docker's warning text and the
 * stored HostConfig shows the discarded value, as `docker inspect` does with dockerd.
 *
 * Called by the engine on create, after validateCreate (which has already refused bad values).
 */
import type { ContainerCreateRequest, HostConfig } from '../../api/types/index.ts';
import { type BlkioSupport, type HostFacts, apiVersionLessThan } from './validate.ts';

export const WARN_KERNEL_MEMORY =
  'Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.';
export const WARN_OOM_KILL_DISABLE = 'Your kernel does not support OomKillDisable. OomKillDisable discarded.';
/** dockerd's warnings for blkio settings the host's io controller lacks, by HostConfig field. */
const BLKIO_DISCARDS: Array<[keyof BlkioSupport, keyof HostConfig, string]> = [
  [
    'weightDevice',
    'BlkioWeightDevice',
    'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.',
  ],
  [
    'readBps',
    'BlkioDeviceReadBps',
    'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.',
  ],
  [
    'writeBps',
    'BlkioDeviceWriteBps',
    'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.',
  ],
  [
    'readIOps',
    'BlkioDeviceReadIOps',
    'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.',
  ],
  [
    'writeIOps',
    'BlkioDeviceWriteIOps',
    'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.',
  ],
];

export const WARN_BLKIO_WEIGHT =
  'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.';
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
  // dockerd discards an unsupported weight before its range check, so 5 is only a warning here.
  if (hc.BlkioWeight && host.blkio?.weight === false) {
    warnings.push(WARN_BLKIO_WEIGHT);
    hc.BlkioWeight = 0;
  }
  for (const [fact, field, warning] of BLKIO_DISCARDS) {
    const list = hc[field];
    if (Array.isArray(list) && list.length > 0 && host.blkio?.[fact] === false) {
      warnings.push(warning);
      (hc as Record<string, unknown>)[field] = [];
    }
  }
  return { body: { ...body, HostConfig: hc }, warnings };
}
