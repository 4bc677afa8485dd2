export * from './cgroups/index.ts';
export * from './plan-from-spec.ts';
export * from './runtime.ts';
