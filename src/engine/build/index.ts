export { type BuildOptions, Builder } from './builder.ts';
export { BuildCache } from './build-cache.ts';
