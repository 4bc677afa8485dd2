/**
 * docker update, pause and unpause (moby daemon/update.go, container/container_unix.go
 * UpdateContainer, daemon/pause.go, daemon/unpause.go).
 *
 * update: the request's resources are validated as at create, merged into the stored HostConfig
 *   and ContainerSpec (non-zero fields replace, Docker's conflict rules apply), saved, and — when
 *   the container is running or paused — only the fields the request set are written into its
 *   cgroup (toContainerdResources: zero means "leave as it is"). A stopped container gets them
 *   at its next start.
 * pause/unpause: freeze/thaw the container's cgroup; the state becomes paused/running and the
 *   `pause`/`unpause` events are published.
 */
import type { ContainerUpdateRequest, HostConfig, Resources } from '../../api/types/index.ts';
import { conflict, invalidParameter } from '../../common/index.ts';
import type { LinuxResources } from '../../oci/index.ts';
import type { Runtime } from '../../runtime/index.ts';
import type { EventBus } from '../events.ts';
import { validateResources } from '../spec/index.ts';
import type { ContainerStore, Container } from './container-store.ts';
import { eventAttributes } from './container-lifecycle.ts';
import { isRunning } from './state.ts';

export interface UpdateDeps {
  store: ContainerStore;
  runtime: Runtime;
  events: EventBus;
  stateDir: (id: string) => string;
}

/** POST /containers/{id}/update body. */
export type UpdateRequest = ContainerUpdateRequest;

/** Fields of the update body that Docker cannot change on an existing container. */
const NOT_UPDATABLE: (keyof Resources)[] = [
  'Devices',
  'DeviceCgroupRules',
  'DeviceRequests',
  'Ulimits',
  'CgroupParent',
];

export async function updateContainer(
  d: UpdateDeps,
  c: Container,
  body: UpdateRequest,
  apiVersion: string,
): Promise<{ Warnings: string[] }> {
  for (const k of NOT_UPDATABLE) {
    const v = body[k];
    if (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) {
      throw invalidParameter(`${k} cannot be updated on an existing container`);
    }
  }
  const warnings: string[] = [];
  const update: UpdateRequest = { ...body };
  if (update.KernelMemory) {
    // API 1.42 removed KernelMemory (ignored); before that dockerd warns and discards it where
    // the kernel has no kmem accounting (cgroup v2, or v1 since kernel 5.4 deprecated it).
    if (!apiBefore(apiVersion, '1.42')) update.KernelMemory = 0;
    else {
      warnings.push(
        'Specifying a kernel memory limit is deprecated and will be removed in a future release.',
      );
      warnings.push(
        'Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
      );
      update.KernelMemory = 0;
    }
  }
  const current = c.record.hostConfig;
  // Validate the request as dockerd does (verifyContainerResources on the update's resources).
  // (with update=true: a swap change alone is judged against the current memory limit).
  warnings.push(
    ...validateResources({ ...update, Memory: update.Memory || current.Memory || 0 } as HostConfig),
  );

  const merged = mergeResources(current, update, c.record.hostConfig.AutoRemove ?? false);
  if (isRunning(c.state)) {
    await d.runtime.update(d.stateDir(c.record.id), toLinuxResources(update));
  }
  c.record.hostConfig = merged;
  applyToSpec(c, merged);
  await d.store.saveRecord(c);
  d.events.publish('container', 'update', c.record.id, eventAttributes(c));
  return { Warnings: warnings };
}

function apiBefore(a: string, b: string): boolean {
  const [x = 0, y = 0] = a.split('.').map(Number);
  const [p = 0, q = 0] = b.split('.').map(Number);
  return x < p || (x === p && y < q);
}

/** container_unix.go UpdateContainer: non-zero fields replace, with Docker's conflict errors. */
export function mergeResources(current: HostConfig, u: UpdateRequest, autoRemove: boolean): HostConfig {
  const out: HostConfig = { ...current };
  const has = (v: number | undefined) => (v ?? 0) !== 0;
  const pos = (v: number | undefined) => (v ?? 0) > 0;
  if (pos(u.NanoCpus) && pos(current.CpuPeriod)) {
    throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  }
  if (pos(u.NanoCpus) && pos(current.CpuQuota)) {
    throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  }
  if (pos(u.CpuPeriod) && pos(current.NanoCpus)) {
    throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  }
  if (pos(u.CpuQuota) && pos(current.NanoCpus)) {
    throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  }
  if (has(u.BlkioWeight)) out.BlkioWeight = u.BlkioWeight;
  if (has(u.CpuShares)) out.CpuShares = u.CpuShares;
  if (has(u.NanoCpus)) out.NanoCpus = u.NanoCpus;
  if (has(u.CpuPeriod)) out.CpuPeriod = u.CpuPeriod;
  if (has(u.CpuQuota)) out.CpuQuota = u.CpuQuota;
  if (u.CpusetCpus) out.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) out.CpusetMems = u.CpusetMems;
  if (has(u.Memory)) {
    const swap = current.MemorySwap ?? 0;
    if ((u.Memory ?? 0) > 0 && swap > 0 && (u.Memory ?? 0) > swap && !has(u.MemorySwap)) {
      throw conflict(
        'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
      );
    }
    out.Memory = u.Memory;
  }
  if (has(u.MemorySwap)) out.MemorySwap = u.MemorySwap;
  if (has(u.MemoryReservation)) out.MemoryReservation = u.MemoryReservation;
  if (has(u.CpuRealtimePeriod)) out.CpuRealtimePeriod = u.CpuRealtimePeriod;
  if (has(u.CpuRealtimeRuntime)) out.CpuRealtimeRuntime = u.CpuRealtimeRuntime;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) out.PidsLimit = u.PidsLimit;
  if (u.RestartPolicy?.Name) {
    if (autoRemove && u.RestartPolicy.Name !== 'no') {
      throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    out.RestartPolicy = { ...u.RestartPolicy };
  }
  return out;
}

/** The stored ContainerSpec follows the HostConfig, so the next start uses the new limits. */
function applyToSpec(c: Container, hc: HostConfig): void {
  const r = c.record.spec.resources;
  r.memory = hc.Memory ?? 0;
  r.memorySwap = hc.MemorySwap ?? 0;
  r.memoryReservation = hc.MemoryReservation ?? 0;
  r.cpuShares = hc.CpuShares ?? 0;
  r.nanoCpus = hc.NanoCpus ?? 0;
  r.cpuPeriod = hc.CpuPeriod ?? 0;
  r.cpuQuota = hc.CpuQuota ?? 0;
  r.cpusetCpus = hc.CpusetCpus ?? '';
  r.cpusetMems = hc.CpusetMems ?? '';
  r.cpuRealtimePeriod = hc.CpuRealtimePeriod ?? 0;
  r.cpuRealtimeRuntime = hc.CpuRealtimeRuntime ?? 0;
  r.blkioWeight = hc.BlkioWeight ?? 0;
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null) r.pidsLimit = hc.PidsLimit;
  if (hc.RestartPolicy) {
    c.record.spec.restartPolicy = {
      name: (hc.RestartPolicy.Name || 'no') as typeof c.record.spec.restartPolicy.name,
      maximumRetryCount: hc.RestartPolicy.MaximumRetryCount ?? 0,
    };
  }
}

/** update_linux.go toContainerdResources: only the fields the request set. */
export function toLinuxResources(u: Resources): LinuxResources {
  const out: LinuxResources = {};
  if (u.BlkioWeight) out.blockIO = { weight: u.BlkioWeight };
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (u.CpuShares) cpu.shares = u.CpuShares;
  let period = 0;
  let quota = 0;
  if (u.NanoCpus) {
    period = 100000;
    quota = Math.trunc((u.NanoCpus * period) / 1e9);
  }
  if (quota === 0 && u.CpuQuota) quota = u.CpuQuota;
  if (period === 0 && u.CpuPeriod) period = u.CpuPeriod;
  if (period) cpu.period = period;
  if (quota) cpu.quota = quota;
  if (u.CpusetCpus) cpu.cpus = u.CpusetCpus;
  if (u.CpusetMems) cpu.mems = u.CpusetMems;
  if (u.CpuRealtimePeriod) cpu.realtimePeriod = u.CpuRealtimePeriod;
  if (u.CpuRealtimeRuntime) cpu.realtimeRuntime = u.CpuRealtimeRuntime;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (u.Memory) memory.limit = u.Memory;
  if (u.MemorySwap) memory.swap = u.MemorySwap;
  if (u.MemoryReservation) memory.reservation = u.MemoryReservation;
  if (Object.keys(memory).length > 0) out.memory = memory;
  // getPidsLimit: 0 or negative means unlimited.
  if (u.PidsLimit !== undefined && u.PidsLimit !== null)
    out.pids = { limit: u.PidsLimit > 0 ? u.PidsLimit : -1 };
  return out;
}

/** daemon/pause.go: freeze the cgroup; 409 when not running or already paused. */
export async function pauseContainer(d: UpdateDeps, c: Container): Promise<void> {
  const id = c.record.id;
  if (c.state.status === 'paused') throw conflict(`Container ${id} is already paused`);
  if (!isRunning(c.state)) throw conflict(`Container ${id} is not running`);
  await d.runtime.pause(d.stateDir(id));
  await d.store.setState(c, { ...c.state, status: 'paused' });
  d.events.publish('container', 'pause', id, eventAttributes(c));
}

/** daemon/unpause.go: thaw; 409 when not paused. */
export async function unpauseContainer(d: UpdateDeps, c: Container): Promise<void> {
  const id = c.record.id;
  if (c.state.status !== 'paused') throw conflict(`Container ${id} is not paused`);
  await d.runtime.resume(d.stateDir(id));
  await d.store.setState(c, { ...c.state, status: 'running' });
  d.events.publish('container', 'unpause', id, eventAttributes(c));
}
