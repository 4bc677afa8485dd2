import { readdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BerthError,
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
  readCgroupFile,
  readOptional,
  readPidsRecursive,
  removeCgroupDir,
  signalPids,
  writeCgroupFile,
} from './cgroupfs.ts';
import { deviceRuleText, parseLimit, pidsMaxText } from './conversions.ts';
import type { LinuxBlockIO, LinuxCpu, LinuxMemory, LinuxResources } from './resources.ts';
import {
  type CgroupStats,
  nanosecondsPerTick,
  onlineCpus,
  parseBlkioV1,
  readSystemCpuUsage,
} from './stats.ts';

/**
 * cgroup v1: every controller has its own hierarchy (a directory under the root, e.g.
 * /sys/fs/cgroup/memory, or a shared one like cpu,cpuacct), and a container gets the same
 * relative directory in each. Semantics follow runc's libcontainer/cgroups/fs driver and the
 * kernel's Documentation/admin-guide/cgroup-v1/.
 */

/** The v1 hierarchies we join (runc joins all of them, plus the named systemd hierarchy). */
const knownControllers = new Set([
  'blkio',
  'cpu',
  'cpuacct',
  'cpuset',
  'devices',
  'freezer',
  'hugetlb',
  'memory',
  'misc',
  'net_cls',
  'net_prio',
  'perf_event',
  'pids',
  'rdma',
  'systemd', // name=systemd, mounted at <root>/systemd
  // A hybrid host's controller-less cgroup2 at <root>/unified: runc's fs driver joins it too
  // (the "0::/<path>" line of /proc/self/cgroup).
  'unified',
]);

interface Hierarchy {
  /** The hierarchy's mount point (its root cgroup). */
  mount: string;
  controllers: string[];
}

/**
 * Finds the mounted hierarchies under `root` by directory name: "memory", "cpu,cpuacct", and
 * the usual "cpu -> cpu,cpuacct" symlinks (deduplicated by real path).
 */
export function discoverHierarchies(root: string): Hierarchy[] {
  const byReal = new Map<string, Hierarchy>();
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    throw cgroupError('read', root, err);
  }
  for (const name of names.sort()) {
    const controllers = name.split(',');
    if (!controllers.every((c) => knownControllers.has(c))) continue;
    const mount = join(root, name);
    let real: string;
    try {
      if (!statSync(mount).isDirectory()) continue;
      real = realpathSync(mount);
    } catch {
      continue;
    }
    const h = byReal.get(real);
    if (h) {
      for (const c of controllers) if (!h.controllers.includes(c)) h.controllers.push(c);
    } else {
      byReal.set(real, { mount: real, controllers });
    }
  }
  return [...byReal.values()];
}

export class V1CgroupManager implements CgroupManager {
  readonly version = 1 as const;
  readonly #root: string;
  readonly #log: Logger;
  #hierarchies: Hierarchy[] | undefined;

  constructor(root: string, log: Logger) {
    this.#root = root;
    this.#log = log;
  }

  #discover(): Hierarchy[] {
    this.#hierarchies ??= discoverHierarchies(this.#root);
    return this.#hierarchies;
  }

  open(path: string): V1CgroupHandle {
    return new V1CgroupHandle(path, cgroupPathSegments(path), this.#discover(), this.#log);
  }

  async create(path: string, resources?: LinuxResources): Promise<CgroupHandle> {
    const handle = this.open(path);
    if (handle.hierarchies.length === 0) {
      throw unavailable(`no cgroup v1 hierarchy is mounted under ${this.#root}`);
    }
    const undo = new CleanupStack();
    try {
      for (const h of handle.hierarchies) {
        const dir = handle.dirOf(h);
        const existed = await isDirectory(dir);
        if (h.controllers.includes('cpuset')) await ensureCpusetDirs(h.mount, handle.segments);
        else
          await mkdir(dir, { recursive: true }).catch((err) =>
            Promise.reject(cgroupError('mkdir', dir, err)),
          );
        if (!existed) undo.defer(() => removeCgroupDir(dir));
      }
      if (resources) await handle.update(resources);
      undo.commit();
      this.#log.debug('cgroup created', { path, version: 1 });
      return handle;
    } finally {
      await undo.rollback().catch((err: unknown) => this.#log.warn('cgroup rollback failed', { path, err }));
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Creates each level of `segments` in the cpuset hierarchy and copies the parent's cpuset.cpus
 * and cpuset.mems into a level whose own are empty: a new cpuset cgroup starts with none, and a
 * process cannot join it until both are set (runc's cpusetEnsureParent/cpusetCopyIfNeeded).
 */
async function ensureCpusetDirs(mount: string, segments: readonly string[]): Promise<void> {
  let parent = mount;
  for (const segment of segments) {
    const dir = join(parent, segment);
    try {
      await mkdir(dir);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw cgroupError('mkdir', dir, err);
    }
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (((await readOptional(dir, file)) ?? '') !== '') continue;
      const inherited = (await readOptional(parent, file)) ?? '';
      if (inherited !== '') await writeCgroupFile(dir, file, inherited);
    }
    parent = dir;
  }
}

export class V1CgroupHandle implements CgroupHandle {
  readonly path: string;
  readonly segments: readonly string[];
  readonly hierarchies: readonly Hierarchy[];
  readonly #log: Logger;

  constructor(path: string, segments: readonly string[], hierarchies: readonly Hierarchy[], log: Logger) {
    this.path = path;
    this.segments = segments;
    this.hierarchies = hierarchies;
    this.#log = log.child({ cgroup: path });
  }

  dirOf(h: Hierarchy): string {
    return join(h.mount, ...this.segments);
  }

  /** The container's directory and hierarchy root for `controller`, or undefined if it is not mounted. */
  #controller(controller: string): { dir: string; mount: string } | undefined {
    const h = this.hierarchies.find((x) => x.controllers.includes(controller));
    return h && { dir: this.dirOf(h), mount: h.mount };
  }

  #require(controller: string, what: string): { dir: string; mount: string } {
    const c = this.#controller(controller);
    if (!c) throw invalidParameter(`${what}: the ${controller} cgroup controller is not mounted`);
    return c;
  }

  procsFiles(): string[] {
    return this.hierarchies.map((h) => join(this.dirOf(h), 'cgroup.procs'));
  }

  async pids(): Promise<number[]> {
    // Any hierarchy holds the same processes; prefer one every container is in.
    const h =
      this.hierarchies.find((x) => x.controllers.includes('pids')) ??
      this.hierarchies.find((x) => x.controllers.includes('freezer')) ??
      this.hierarchies[0];
    return h ? readPidsRecursive(this.dirOf(h)) : [];
  }

  async update(r: LinuxResources): Promise<void> {
    if (r.unified && Object.keys(r.unified).length > 0) {
      throw invalidParameter('unified cgroup resources need cgroup v2; this host runs cgroup v1');
    }
    if (r.cpu?.cpus || r.cpu?.mems) {
      const c = this.#require('cpuset', 'cpuset');
      if (r.cpu.cpus) await writeCgroupFile(c.dir, 'cpuset.cpus', r.cpu.cpus);
      if (r.cpu.mems) await writeCgroupFile(c.dir, 'cpuset.mems', r.cpu.mems);
    }
    if (r.memory) await this.#setMemory(r.memory);
    if (r.cpu) await this.#setCpu(r.cpu);
    if (r.pids)
      await writeCgroupFile(this.#require('pids', 'pids limit').dir, 'pids.max', pidsMaxText(r.pids.limit));
    if (r.blockIO) await this.#setBlkio(r.blockIO);
    for (const hp of r.hugepageLimits ?? []) {
      if (!/^[1-9][0-9]*[KMG]B$/.test(hp.pageSize))
        throw invalidParameter(`invalid hugepage size "${hp.pageSize}"`);
      const c = this.#require('hugetlb', 'hugepage limits');
      await writeCgroupFile(c.dir, `hugetlb.${hp.pageSize}.limit_in_bytes`, String(hp.limit));
    }
    if (r.devices) await this.#setDevices(r.devices);
  }

  async #setMemory(m: LinuxMemory): Promise<void> {
    const { dir, mount } = this.#require('memory', 'memory limits');
    const memory = m.limit ?? 0;
    let swap = m.swap ?? 0;
    const hasSwap = await hasControlFile(dir, mount, 'memory.memsw.limit_in_bytes');
    // Unlimited memory with no swap given means unlimited swap too (runc setMemoryAndSwap).
    if (memory === -1 && swap === 0 && hasSwap) swap = -1;
    if (swap !== 0 && !hasSwap) {
      // Docker discards --memory-swap on kernels without swap accounting (with a warning).
      this.#log.debug('swap limit ignored: no memory.memsw.limit_in_bytes (swap accounting off)', { swap });
      swap = 0;
    }
    const setMemory = async () => {
      if (memory !== 0) await this.#writeMemoryLimit(dir, memory);
    };
    const setSwap = async () => {
      if (swap !== 0) await writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap));
    };
    // The kernel requires memory <= memsw at every moment, so when raising swap (or making it
    // unlimited) write swap first, otherwise memory first.
    if (memory !== 0 && swap !== 0) {
      const current = parseLimit((await readOptional(dir, 'memory.limit_in_bytes')) ?? 'max');
      if (swap === -1 || (current !== null && current < swap)) {
        await setSwap();
        await setMemory();
      } else {
        await setMemory();
        await setSwap();
      }
    } else {
      await setMemory();
      await setSwap();
    }
    if (m.kernel || m.kernelTCP)
      this.#log.debug('kernel memory limits ignored (deprecated by the kernel, as runc does)');
    if (m.reservation) await writeCgroupFile(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
    if (m.disableOOMKiller) await writeCgroupFile(dir, 'memory.oom_control', '1');
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      if (m.swappiness < 0 || m.swappiness > 100) {
        throw invalidParameter(`invalid memory swappiness ${m.swappiness}: the valid range is 0-100`);
      }
      await writeCgroupFile(dir, 'memory.swappiness', String(m.swappiness));
    }
  }

  /** memory.limit_in_bytes; EBUSY means usage is above the new limit, said as runc says it. */
  async #writeMemoryLimit(dir: string, limit: number): Promise<void> {
    try {
      await writeCgroupFile(dir, 'memory.limit_in_bytes', String(limit));
    } catch (err) {
      if (errnoCode((err as BerthError).cause) !== 'EBUSY') throw err;
      const usage = await readOptional(dir, 'memory.usage_in_bytes');
      const peak = await readOptional(dir, 'memory.max_usage_in_bytes');
      throw invalidParameter(
        `unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${peak}): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #setCpu(c: LinuxCpu): Promise<void> {
    const needsCpu = c.shares || c.quota || c.period || c.realtimePeriod || c.realtimeRuntime;
    if (!needsCpu) return;
    const { dir } = this.#require('cpu', 'cpu limits');
    if (c.shares) {
      await writeCgroupFile(dir, 'cpu.shares', String(c.shares));
      // The kernel clamps out-of-range shares silently; report it as Docker does.
      const actual = Number(await readCgroupFile(dir, 'cpu.shares'));
      if (c.shares > actual) throw invalidParameter(`The maximum allowed cpu-shares is ${actual}`);
      if (c.shares < actual) throw invalidParameter(`The minimum allowed cpu-shares is ${actual}`);
    }
    // cfs_period_us before cfs_quota_us; if the new period is refused because it does not fit
    // the old quota, write the quota first (runc's order).
    let periodPending = false;
    if (c.period) {
      try {
        await writeCgroupFile(dir, 'cpu.cfs_period_us', String(c.period));
      } catch (err) {
        if (!c.quota || errnoCode((err as BerthError).cause) !== 'EINVAL') throw err;
        periodPending = true;
      }
    }
    if (c.quota) await writeCgroupFile(dir, 'cpu.cfs_quota_us', String(c.quota));
    if (periodPending) await writeCgroupFile(dir, 'cpu.cfs_period_us', String(c.period));
    if (c.realtimePeriod) await writeCgroupFile(dir, 'cpu.rt_period_us', String(c.realtimePeriod));
    if (c.realtimeRuntime) await writeCgroupFile(dir, 'cpu.rt_runtime_us', String(c.realtimeRuntime));
  }

  async #setBlkio(b: LinuxBlockIO): Promise<void> {
    const { dir, mount } = this.#require('blkio', 'block IO limits');
    // blkio.weight exists with the CFQ scheduler; with BFQ the knobs are blkio.bfq.* (runc).
    const weightFile = async (plain: string, bfq: string) =>
      (await hasControlFile(dir, mount, plain))
        ? plain
        : (await hasControlFile(dir, mount, bfq))
          ? bfq
          : undefined;
    if (b.weight) {
      const file = await weightFile('blkio.weight', 'blkio.bfq.weight');
      if (!file) throw invalidParameter('block IO weight is not supported: the kernel has no blkio.weight');
      await writeCgroupFile(dir, file, String(b.weight));
    }
    if (b.leafWeight) await writeCgroupFile(dir, 'blkio.leaf_weight', String(b.leafWeight));
    for (const wd of b.weightDevice ?? []) {
      if (wd.weight) {
        const file = await weightFile('blkio.weight_device', 'blkio.bfq.weight_device');
        if (!file)
          throw invalidParameter(
            'block IO device weight is not supported: the kernel has no blkio.weight_device',
          );
        await writeCgroupFile(dir, file, `${wd.major}:${wd.minor} ${wd.weight}`);
      }
      if (wd.leafWeight) {
        await writeCgroupFile(dir, 'blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`);
      }
    }
    const throttles = [
      ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
      ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
      ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
      ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
    ] as const;
    for (const [file, list] of throttles) {
      for (const t of list ?? []) await writeCgroupFile(dir, file, `${t.major}:${t.minor} ${t.rate}`);
    }
  }

  /**
   * OCI device rules are applied in order on top of "deny everything", as runc does: write "a"
   * to devices.deny (empties the allow list, default deny), then each rule to devices.allow or
   * devices.deny. A later "a" allow switches to default-allow, matching the kernel semantics.
   */
  async #setDevices(rules: NonNullable<LinuxResources['devices']>): Promise<void> {
    const c = this.#controller('devices');
    if (!c)
      throw notImplemented('device cgroup rules need the devices cgroup controller, which is not mounted');
    const lines = rules.map((r) => ({
      file: r.allow ? 'devices.allow' : 'devices.deny',
      text: deviceRuleText(r),
    }));
    await writeCgroupFile(c.dir, 'devices.deny', 'a');
    for (const { file, text } of lines) await writeCgroupFile(c.dir, file, text);
  }

  async stats(): Promise<CgroupStats> {
    const s: CgroupStats = {
      memory: {
        usage: 0,
        maxUsage: null,
        limit: null,
        failcnt: 0,
        swapUsage: null,
        swapLimit: null,
        stats: {},
      },
      cpu: {
        totalUsage: 0,
        perCpuUsage: [],
        usageInKernelmode: 0,
        usageInUsermode: 0,
        systemUsage: await readSystemCpuUsage(),
        onlineCpus: onlineCpus(),
        throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 },
      },
      pids: { current: 0, limit: null },
      blkio: { ioServiceBytesRecursive: [], ioServicedRecursive: [] },
    };
    const num = async (dir: string, file: string) => Number((await readOptional(dir, file)) ?? 0);
    const mem = this.#controller('memory');
    if (mem) {
      s.memory.usage = await num(mem.dir, 'memory.usage_in_bytes');
      s.memory.maxUsage = await num(mem.dir, 'memory.max_usage_in_bytes');
      s.memory.failcnt = await num(mem.dir, 'memory.failcnt');
      s.memory.limit = parseLimit((await readOptional(mem.dir, 'memory.limit_in_bytes')) ?? 'max');
      const swapUsage = await readOptional(mem.dir, 'memory.memsw.usage_in_bytes');
      if (swapUsage !== undefined) {
        s.memory.swapUsage = Number(swapUsage);
        s.memory.swapLimit = parseLimit(
          (await readOptional(mem.dir, 'memory.memsw.limit_in_bytes')) ?? 'max',
        );
      }
      s.memory.stats = parseFlatKeyed((await readOptional(mem.dir, 'memory.stat')) ?? '');
    }
    const acct = this.#controller('cpuacct');
    if (acct) {
      s.cpu.totalUsage = await num(acct.dir, 'cpuacct.usage');
      const percpu = (await readOptional(acct.dir, 'cpuacct.usage_percpu')) ?? '';
      s.cpu.perCpuUsage = percpu.split(/\s+/).filter(Boolean).map(Number);
      const ticks = parseFlatKeyed((await readOptional(acct.dir, 'cpuacct.stat')) ?? '');
      s.cpu.usageInUsermode = (ticks.user ?? 0) * nanosecondsPerTick;
      s.cpu.usageInKernelmode = (ticks.system ?? 0) * nanosecondsPerTick;
    }
    const cpu = this.#controller('cpu');
    if (cpu) {
      const st = parseFlatKeyed((await readOptional(cpu.dir, 'cpu.stat')) ?? '');
      s.cpu.throttling = {
        periods: st.nr_periods ?? 0,
        throttledPeriods: st.nr_throttled ?? 0,
        throttledTime: st.throttled_time ?? 0,
      };
    }
    const pids = this.#controller('pids');
    if (pids) {
      s.pids.current = await num(pids.dir, 'pids.current');
      s.pids.limit = parseLimit((await readOptional(pids.dir, 'pids.max')) ?? 'max');
    }
    const blkio = this.#controller('blkio');
    if (blkio) {
      // The first of these that has entries, as runc reads them (CFQ, then BFQ, then throttle).
      const first = async (files: string[]) => {
        for (const f of files) {
          const entries = parseBlkioV1((await readOptional(blkio.dir, f)) ?? '');
          if (entries.length > 0) return entries;
        }
        return [];
      };
      s.blkio.ioServiceBytesRecursive = await first([
        'blkio.io_service_bytes_recursive',
        'blkio.bfq.io_service_bytes_recursive',
        'blkio.throttle.io_service_bytes_recursive',
        'blkio.throttle.io_service_bytes',
      ]);
      s.blkio.ioServicedRecursive = await first([
        'blkio.io_serviced_recursive',
        'blkio.bfq.io_serviced_recursive',
        'blkio.throttle.io_serviced_recursive',
        'blkio.throttle.io_serviced',
      ]);
    }
    return s;
  }

  /**
   * Writes FROZEN to freezer.state until it reads FROZEN (it passes through FREEZING while tasks
   * are being stopped). Every 50 tries it thaws and starts over, which unsticks a freeze racing
   * with a fork, as runc does; gives up (and thaws) after about 2 seconds.
   */
  async freeze(): Promise<void> {
    const { dir } = this.#require('freezer', 'freeze');
    const deadline = Date.now() + 2000;
    for (let i = 0; Date.now() < deadline; i++) {
      if (i % 50 === 49) {
        await writeCgroupFile(dir, 'freezer.state', 'THAWED');
        await sleep(10);
      }
      await writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      const state = await readCgroupFile(dir, 'freezer.state');
      if (state === 'FROZEN') return;
      await sleep(Math.min(1 + i, 10));
    }
    await writeCgroupFile(dir, 'freezer.state', 'THAWED');
    throw unavailable(`freeze ${this.path}: timed out waiting for freezer.state FROZEN`);
  }

  async frozen(): Promise<boolean> {
    const c = this.#controller('freezer');
    return c ? (await readOptional(c.dir, 'freezer.state')) === 'FROZEN' : false;
  }

  async thaw(): Promise<void> {
    const { dir } = this.#require('freezer', 'thaw');
    await writeCgroupFile(dir, 'freezer.state', 'THAWED');
  }

  /**
   * Freezes the cgroup (when the freezer is mounted) so no process can fork a new one past the
   * signal, signals every process, then thaws so the signal is delivered (runc's
   * signalAllProcesses). A cgroup that was already frozen (a paused container) stays frozen,
   * except after SIGKILL: frozen v1 tasks only die once thawed.
   */
  async killAll(signal: number): Promise<void> {
    const freezer = this.#controller('freezer');
    const wasFrozen = freezer ? (await readOptional(freezer.dir, 'freezer.state')) === 'FROZEN' : false;
    const frozen =
      wasFrozen ||
      (freezer
        ? await this.freeze().then(
            () => true,
            (err: unknown) => {
              this.#log.warn('freeze before kill failed; signalling anyway', { err });
              return false;
            },
          )
        : false);
    try {
      signalPids(await this.pids(), signal);
    } finally {
      if (frozen && (!wasFrozen || signal === 9)) await this.thaw();
    }
  }

  async remove(): Promise<void> {
    let first: unknown;
    for (const h of this.hierarchies) {
      try {
        await removeCgroupDir(this.dirOf(h));
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
    this.#log.debug('cgroup removed');
  }

  /** memory.oom_control's oom_kill counter (kernel 4.13+), or under_oom when the killer is off. */
  async oomKilled(): Promise<boolean> {
    const mem = this.#controller('memory');
    if (!mem) return false;
    const oom = parseFlatKeyed((await readOptional(mem.dir, 'memory.oom_control')) ?? '');
    return (oom.oom_kill ?? 0) > 0 || oom.under_oom === 1;
  }
}
