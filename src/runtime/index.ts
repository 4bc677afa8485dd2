export * from './plan-from-spec.ts';
export * from './runtime.ts';
export * from './cgroups/index.ts';
