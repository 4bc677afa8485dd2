export * from './image-spec.ts';
export type * from './runtime-spec.ts';
export * from './capabilities.ts';
