export * from './atomic-write.ts';
export * from './syscalls.ts';
