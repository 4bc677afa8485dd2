import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CleanupStack,
  errnoCode,
  invalidParameter,
  type Logger,
  notImplemented,
  unavailable,
} from '../../common/index.ts';
import type { CgroupHandle, CgroupManager } from './cgroup-manager.ts';
import {
  cgroupError,
  cgroupPathSegments,
  hasControlFile,
  parseFlatKeyed,
  pathExists,
  readCgroupFile,
  readOptional,
  readPidsRecursive,
  removeCgroupDir,
  signalPids,
  writeCgroupFile,
} from './cgroupfs.ts';
import {
  blkioWeightToIoWeight,
  cpuMaxText,
  cpuSharesToWeight,
  memorySwapToV2,
  parseLimit,
  pidsMaxText,
  v2LimitText,
} from './conversions.ts';
import { isDefaultDeviceRuleSet } from './devices.ts';
import type { LinuxBlockIO, LinuxMemory, LinuxResources } from './resources.ts';
import { type CgroupStats, onlineCpus, parseIoStatV2, readSystemCpuUsage } from './stats.ts';

/**
 * cgroup v2: one unified tree; a container is one directory, and the controllers it uses must
 * be enabled in every ancestor's cgroup.subtree_control. Semantics follow runc's fs2 driver and
 * the kernel's Documentation/admin-guide/cgroup-v2.rst.
 */
export class V2CgroupManager implements CgroupManager {
  readonly version = 2 as const;
  readonly #root: string;
  readonly #log: Logger;

  constructor(root: string, log: Logger) {
    this.#root = root;
    this.#log = log;
  }

  open(path: string): V2CgroupHandle {
    const segments = cgroupPathSegments(path);
    return new V2CgroupHandle(path, join(this.#root, ...segments), this.#root, this.#log);
  }

  async create(path: string, resources?: LinuxResources): Promise<CgroupHandle> {
    const segments = cgroupPathSegments(path);
    const handle = this.open(path);
    const undo = new CleanupStack();
    try {
      const available = (await readCgroupFile(this.#root, 'cgroup.controllers')).split(/\s+/).filter(Boolean);
      let parent = this.#root;
      for (const [i, segment] of segments.entries()) {
        await this.#enableControllers(parent, available);
        const dir = join(parent, segment);
        try {
          await mkdir(dir);
          if (i === segments.length - 1) undo.defer(() => removeCgroupDir(dir));
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw cgroupError('mkdir', dir, err);
        }
        parent = dir;
      }
      if (resources) await handle.update(resources);
      undo.commit();
      this.#log.debug('cgroup created', { path, version: 2 });
      return handle;
    } finally {
      await undo.rollback().catch((err: unknown) => this.#log.warn('cgroup rollback failed', { path, err }));
    }
  }

  /**
   * Enables in `dir`'s cgroup.subtree_control every controller `dir` has (its cgroup.controllers;
   * the root's list where a fake tree has none), so its children get the control files. All in
   * one write first; if the kernel refuses that, one by one, skipping the ones it refuses (runc).
   */
  async #enableControllers(dir: string, rootControllers: string[]): Promise<void> {
    const own = await readOptional(dir, 'cgroup.controllers');
    const controllers = own === undefined ? rootControllers : own.split(/\s+/).filter(Boolean);
    if (controllers.length === 0) return;
    const enabled = ((await readOptional(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    const missing = controllers.filter((c) => !enabled.includes(c));
    if (missing.length === 0) return;
    try {
      await writeCgroupFile(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    } catch {
      for (const c of missing) {
        await writeCgroupFile(dir, 'cgroup.subtree_control', `+${c}`).catch((err: unknown) =>
          this.#log.debug('controller not enabled', { dir, controller: c, err }),
        );
      }
    }
  }
}

export class V2CgroupHandle implements CgroupHandle {
  readonly path: string;
  readonly #dir: string;
  readonly #root: string;
  readonly #log: Logger;

  constructor(path: string, dir: string, root: string, log: Logger) {
    this.path = path;
    this.#dir = dir;
    this.#root = root;
    this.#log = log.child({ cgroup: path });
  }

  procsFiles(): string[] {
    return [join(this.#dir, 'cgroup.procs')];
  }

  pids(): Promise<number[]> {
    return readPidsRecursive(this.#dir);
  }

  async update(r: LinuxResources): Promise<void> {
    const dir = this.#dir;
    if (r.devices && !isDefaultDeviceRuleSet(r.devices)) {
      throw notImplemented('device cgroup rules beyond the default set are not supported on cgroup v2 yet');
    }
    // cgroup v2 enforces device rules only through an eBPF program attached to the cgroup, which
    // berth does not load yet. The default rule set (Docker's base list plus runc's additions) and
    // "allow everything" are accepted without enforcement: logged at debug, not refused.
    if (r.devices && r.devices.length > 0) this.#log.debug('device cgroup rules not enforced on cgroup v2');
    if (r.cpu?.cpus) await writeCgroupFile(dir, 'cpuset.cpus', r.cpu.cpus);
    if (r.cpu?.mems) await writeCgroupFile(dir, 'cpuset.mems', r.cpu.mems);
    if (r.memory) await this.#setMemory(r.memory);
    if (r.cpu) {
      if (r.cpu.realtimePeriod || r.cpu.realtimeRuntime) {
        throw notImplemented(
          'realtime CPU limits (cpu-rt-period, cpu-rt-runtime) are not supported on cgroup v2',
        );
      }
      const weight = cpuSharesToWeight(r.cpu.shares ?? 0);
      if (weight !== 0) await writeCgroupFile(dir, 'cpu.weight', String(weight));
      const max = cpuMaxText(r.cpu.quota, r.cpu.period);
      if (max !== undefined) await writeCgroupFile(dir, 'cpu.max', max);
    }
    if (r.pids) await writeCgroupFile(dir, 'pids.max', pidsMaxText(r.pids.limit));
    if (r.blockIO) await this.#setIo(r.blockIO);
    for (const hp of r.hugepageLimits ?? []) {
      if (!/^[1-9][0-9]*[KMG]B$/.test(hp.pageSize))
        throw invalidParameter(`invalid hugepage size "${hp.pageSize}"`);
      await writeCgroupFile(dir, `hugetlb.${hp.pageSize}.max`, String(hp.limit));
    }
    for (const [file, value] of Object.entries(r.unified ?? {})) {
      if (file.includes('/') || !file.includes('.'))
        throw invalidParameter(`invalid unified cgroup file "${file}"`);
      await writeCgroupFile(dir, file, value);
    }
  }

  async #setMemory(m: LinuxMemory): Promise<void> {
    const dir = this.#dir;
    const memory = m.limit ?? 0;
    const swap = m.swap ?? 0;
    if (memory !== 0 || swap !== 0 || m.reservation) {
      const swapV2 = memorySwapToV2(swap, memory);
      // memory == swap means "no swap": write 0 explicitly (v2LimitText would skip it).
      const swapText = swapV2 === 0 && swap > 0 ? '0' : v2LimitText(swapV2);
      if (swapText !== '') {
        if (await hasControlFile(dir, this.#root, 'memory.swap.max')) {
          await writeCgroupFile(dir, 'memory.swap.max', swapText);
        } else {
          this.#log.debug('swap limit ignored: no memory.swap.max (swap accounting off)', { swap });
        }
      }
      const maxText = v2LimitText(memory);
      if (maxText !== '') await writeCgroupFile(dir, 'memory.max', maxText);
      const lowText = v2LimitText(m.reservation ?? 0);
      if (lowText !== '') await writeCgroupFile(dir, 'memory.low', lowText);
    }
    if (m.kernel || m.kernelTCP) this.#log.debug('kernel memory limits ignored (no cgroup v2 equivalent)');
    // No v2 equivalents; runc ignores them too.
    if (m.disableOOMKiller) this.#log.debug('disableOOMKiller ignored on cgroup v2');
    if (m.swappiness !== undefined && m.swappiness !== -1) this.#log.debug('swappiness ignored on cgroup v2');
  }

  async #setIo(b: LinuxBlockIO): Promise<void> {
    const dir = this.#dir;
    // io.bfq.weight takes blkio's 1-1000 range as is; without BFQ, io.weight needs conversion.
    const bfq = await hasControlFile(dir, this.#root, 'io.bfq.weight');
    if (b.weight) {
      if (bfq) await writeCgroupFile(dir, 'io.bfq.weight', String(b.weight));
      else await writeCgroupFile(dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)));
    }
    for (const wd of b.weightDevice ?? []) {
      if (!wd.weight) continue;
      const dev = `${wd.major}:${wd.minor}`;
      if (bfq) await writeCgroupFile(dir, 'io.bfq.weight', `${dev} ${wd.weight}`);
      else await writeCgroupFile(dir, 'io.weight', `${dev} ${blkioWeightToIoWeight(wd.weight)}`);
    }
    const throttles = [
      ['rbps', b.throttleReadBpsDevice],
      ['wbps', b.throttleWriteBpsDevice],
      ['riops', b.throttleReadIOPSDevice],
      ['wiops', b.throttleWriteIOPSDevice],
    ] as const;
    for (const [key, list] of throttles) {
      for (const t of list ?? [])
        await writeCgroupFile(dir, 'io.max', `${t.major}:${t.minor} ${key}=${t.rate}`);
    }
  }

  async stats(): Promise<CgroupStats> {
    const dir = this.#dir;
    const num = async (file: string) => Number((await readOptional(dir, file)) ?? 0);
    const cpuStat = parseFlatKeyed((await readOptional(dir, 'cpu.stat')) ?? '');
    const events = parseFlatKeyed((await readOptional(dir, 'memory.events')) ?? '');
    const usage = await num('memory.current');
    const peak = await readOptional(dir, 'memory.peak');
    const limit = parseLimit((await readOptional(dir, 'memory.max')) ?? 'max');
    const swapCurrent = await readOptional(dir, 'memory.swap.current');
    const swapMax = parseLimit((await readOptional(dir, 'memory.swap.max')) ?? 'max');
    return {
      memory: {
        usage,
        maxUsage: peak === undefined ? null : Number(peak),
        limit,
        failcnt: events.max ?? 0,
        oomEvents: events.oom ?? 0,
        // v1 reported memory+swap; keep that meaning (runc does the same).
        swapUsage: swapCurrent === undefined ? null : Number(swapCurrent) + usage,
        swapLimit: swapCurrent === undefined || swapMax === null || limit === null ? null : swapMax + limit,
        stats: parseFlatKeyed((await readOptional(dir, 'memory.stat')) ?? ''),
      },
      cpu: {
        totalUsage: (cpuStat.usage_usec ?? 0) * 1000,
        perCpuUsage: [],
        usageInKernelmode: (cpuStat.system_usec ?? 0) * 1000,
        usageInUsermode: (cpuStat.user_usec ?? 0) * 1000,
        systemUsage: await readSystemCpuUsage(),
        onlineCpus: onlineCpus(),
        throttling: {
          periods: cpuStat.nr_periods ?? 0,
          throttledPeriods: cpuStat.nr_throttled ?? 0,
          throttledTime: (cpuStat.throttled_usec ?? 0) * 1000,
        },
      },
      pids: {
        current: await num('pids.current'),
        limit: parseLimit((await readOptional(dir, 'pids.max')) ?? 'max'),
      },
      blkio: parseIoStatV2((await readOptional(dir, 'io.stat')) ?? ''),
    };
  }

  /** Writes cgroup.freeze and waits until cgroup.events reports "frozen <want>" (about 2 s at most). */
  async #setFrozen(want: 0 | 1): Promise<void> {
    await writeCgroupFile(this.#dir, 'cgroup.freeze', String(want));
    const deadline = Date.now() + 2000;
    for (let i = 0; ; i++) {
      const events = await readOptional(this.#dir, 'cgroup.events');
      if (events === undefined) return; // a kernel (or fake tree) without cgroup.events: nothing to wait for
      if (parseFlatKeyed(events).frozen === want) return;
      if (Date.now() >= deadline) break;
      await sleep(Math.min(1 + i, 10));
    }
    if (want === 1) await writeCgroupFile(this.#dir, 'cgroup.freeze', '0');
    throw unavailable(
      `${want ? 'freeze' : 'thaw'} ${this.path}: timed out waiting for cgroup.events frozen ${want}`,
    );
  }

  freeze(): Promise<void> {
    return this.#setFrozen(1);
  }

  async frozen(): Promise<boolean> {
    return (await readOptional(this.#dir, 'cgroup.freeze')) === '1';
  }

  thaw(): Promise<void> {
    return this.#setFrozen(0);
  }

  /**
   * SIGKILL goes through cgroup.kill (Linux 5.14+), which kills every process including ones
   * forked meanwhile. Other signals (or older kernels): freeze, signal each process, thaw.
   */
  async killAll(signal: number): Promise<void> {
    if (signal === 9 && (await pathExists(join(this.#dir, 'cgroup.kill')))) {
      await writeCgroupFile(this.#dir, 'cgroup.kill', '1');
      return;
    }
    // A paused container stays paused (v2 frozen tasks still take fatal signals).
    const wasFrozen = (await readOptional(this.#dir, 'cgroup.freeze')) === '1';
    const frozen =
      wasFrozen ||
      (await this.freeze().then(
        () => true,
        (err: unknown) => {
          this.#log.warn('freeze before kill failed; signalling anyway', { err });
          return false;
        },
      ));
    try {
      signalPids(await this.pids(), signal);
    } finally {
      if (frozen && !wasFrozen) await this.thaw();
    }
  }

  async remove(): Promise<void> {
    await removeCgroupDir(this.#dir);
    this.#log.debug('cgroup removed');
  }

  /** memory.events "oom_kill" counts processes the OOM killer killed in this cgroup (and below). */
  async oomKilled(): Promise<boolean> {
    const events = parseFlatKeyed((await readOptional(this.#dir, 'memory.events')) ?? '');
    return (events.oom_kill ?? 0) > 0;
  }
}
