export * from './atomic-write.ts';
export * from './syscalls.ts';
export * from './helper-plan.ts';
