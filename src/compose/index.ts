export * from './container-config.ts';
export * from './interpolate.ts';
export * from './load.ts';
export type * from './model.ts';
export * from './normalize.ts';
export * from './runner.ts';
export * from './images.ts';
export * from './one-off.ts';
export * from './orphans.ts';
