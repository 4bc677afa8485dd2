export { type BuildOptions, Builder } from './builder.ts';
export { BuildCache } from './build-cache.ts';
export {
  type BuildCacheGcPolicy,
  type BuildCacheGcRule,
  GC_FILTERS,
  checkGcFilters,
  parseGoDuration,
  selectForGc,
} from './build-cache-gc.ts';
