export * from './canonical.ts';
export * from './container-config.ts';
export * from './hash.ts';
export * from './interpolate.ts';
export * from './load.ts';
export type * from './model.ts';
export * from './normalize.ts';
export * from './runner.ts';
export * from './values.ts';
