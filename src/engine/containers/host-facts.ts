/**
 * The host facts create-time validation needs (engine/spec HostFacts), probed once at daemon
 * start as dockerd's pkg/sysinfo does: online CPUs, and which memory-controller files exist
 * (cgroup v1's kmem.limit_in_bytes, memsw.limit_in_bytes, oom_control and swappiness; cgroup v2
 * has none of them and limits swap with memory.swap.max).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BlkioSupport, HostFacts } from '../spec/index.ts';

export function probeHostFacts(cgroupVersion: 1 | 2, cgroupRoot = '/sys/fs/cgroup'): HostFacts {
  const memory = join(cgroupRoot, 'memory');
  const has = (file: string) => cgroupVersion === 1 && existsSync(join(memory, file));
  return {
    cpuCount: availableParallelism(),
    kernelMemory: has('memory.kmem.limit_in_bytes'),
    oomKillDisable: has('memory.oom_control'),
    memorySwappiness: has('memory.swappiness'),
    swapLimit: cgroupVersion === 2 || has('memory.memsw.limit_in_bytes'),
    cgroupV2: cgroupVersion === 2,
    seccomp: /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8')),
    ...(cgroupVersion === 1 ? { blkio: probeBlkioV1(join(cgroupRoot, 'blkio')) } : {}),
  };
}

/**
 * pkg/sysinfo's v1 blkio probe: the weight files of CFQ (blkio.weight) or BFQ (blkio.bfq.weight)
 * and the throttle files. cgroup v2's io controller has all of them.
 */
function probeBlkioV1(dir: string): BlkioSupport {
  const any = (...files: string[]) => files.some((f) => existsSync(join(dir, f)));
  return {
    weight: any('blkio.weight', 'blkio.bfq.weight'),
    weightDevice: any('blkio.weight_device', 'blkio.bfq.weight_device'),
    readBps: any('blkio.throttle.read_bps_device'),
    writeBps: any('blkio.throttle.write_bps_device'),
    readIOps: any('blkio.throttle.read_iops_device'),
    writeIOps: any('blkio.throttle.write_iops_device'),
  };
}
