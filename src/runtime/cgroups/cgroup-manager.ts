import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/index.ts';
import type { LinuxResources } from './resources.ts';
import type { CgroupStats } from './stats.ts';
import { V1CgroupManager } from './v1.ts';
import { V2CgroupManager } from './v2.ts';

/**
 * Creates and drives the cgroups of containers, on cgroup v1 (one directory per controller
 * hierarchy) or v2 (one directory in the unified tree).
 *
 * Lifecycle, as the runtime uses it:
 *   const cg = await manager.create('/berth/<id>', spec.linux.resources); // dirs + limits, or nothing on failure
 *   ... write the container's init pid into every file of cg.procsFiles() before it execs ...
 *   await cg.update(resources) / cg.stats() / cg.freeze() / cg.thaw() / cg.oomKilled()
 *   await cg.killAll(9); await cg.remove();   // when the container is deleted
 * After a berthd restart, `manager.open(path)` gives the handle of a cgroup that already exists.
 */
export interface CgroupManager {
  readonly version: 1 | 2;
  /**
   * Creates the cgroup (in every v1 controller hierarchy, or one v2 directory with the
   * controllers enabled in the parents' cgroup.subtree_control) and writes the limits. Parent
   * directories ("/berth") are created on demand and kept. On failure the directories this call
   * created are removed again and the error is thrown. An existing cgroup is reused.
   * `path` is OCI's spec.linux.cgroupsPath, e.g. "/berth/<id>".
   */
  create(path: string, resources?: LinuxResources): Promise<CgroupHandle>;
  /** A handle on an existing cgroup (nothing is checked or created). */
  open(path: string): CgroupHandle;
}

export interface CgroupHandle {
  readonly path: string;
  /** The cgroup.procs files a new process must be written into: one per v1 hierarchy, one on v2. */
  procsFiles(): string[];
  /** Every process in the cgroup and its sub-cgroups. */
  pids(): Promise<number[]>;
  /** Writes the given limits (docker update); absent fields are left as they are. */
  update(resources: LinuxResources): Promise<void>;
  stats(): Promise<CgroupStats>;
  /** Freezes every process; resolves once the kernel reports the cgroup frozen. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Whether the cgroup is frozen (paused); false without a freezer. */
  frozen(): Promise<boolean>;
  /** Sends `signal` to every process (v2 with SIGKILL: cgroup.kill). Does not wait for exits. */
  killAll(signal: number): Promise<void>;
  /** Removes the cgroup's directories everywhere (not the parents). Idempotent; retries EBUSY briefly. */
  remove(): Promise<void>;
  /** Whether the kernel's OOM killer has killed a process of this cgroup. */
  oomKilled(): Promise<boolean>;
}

export interface CgroupManagerOptions {
  /** Where cgroupfs is mounted; default /sys/fs/cgroup. Unit tests pass a fake tree. */
  root?: string;
  log: Logger;
}

/**
 * 2 when `root` is a unified cgroup2 mount (it has cgroup.controllers). A hybrid host (v1
 * controllers plus a controller-less cgroup2 at root/unified, like Debian with
 * systemd.unified_cgroup_hierarchy=0) is 1, as runc and Docker treat it.
 */
export function detectCgroupVersion(root = '/sys/fs/cgroup'): 1 | 2 {
  return existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
}

export function createCgroupManager(options: CgroupManagerOptions): CgroupManager {
  const root = options.root ?? '/sys/fs/cgroup';
  const log = options.log.child({ component: 'cgroups' });
  return detectCgroupVersion(root) === 2 ? new V2CgroupManager(root, log) : new V1CgroupManager(root, log);
}
