export * from './atomic-write.ts';
export * from './syscalls.ts';
export * from './archive/index.ts';
export * from './helper-plan.ts';
export * from './compression.ts';
export * from './userns-remap.ts';
export * from './dir-size.ts';
export * from './sysctl.ts';
