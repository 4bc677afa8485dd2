export {
  type CgroupHandle,
  type CgroupManager,
  type CgroupManagerOptions,
  createCgroupManager,
  detectCgroupVersion,
} from './cgroup-manager.ts';
export {
  blkioWeightToIoWeight,
  cpuMaxText,
  cpuSharesToWeight,
  deviceRuleText,
  memorySwapToV2,
  pidsMaxText,
} from './conversions.ts';
export { isDefaultDeviceRuleSet } from './devices.ts';
export type * from './resources.ts';
export type { BlkioStatEntry, CgroupStats } from './stats.ts';
