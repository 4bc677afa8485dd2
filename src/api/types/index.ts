export type * from './container.ts';
export type * from './image.ts';
export type * from './network.ts';
export type * from './system.ts';
export type * from './volume.ts';
export * from './version.ts';
export type * from './stats.ts';
