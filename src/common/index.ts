export * from './cleanup-stack.ts';
export * from './digest.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './log.ts';
export * from './package-root.ts';
export * from './stdcopy.ts';
export * from './tar/index.ts';
