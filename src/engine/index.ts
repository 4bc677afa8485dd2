export type * from './engine.ts';
export { createEngine, type EngineConfig } from './create-engine.ts';
export type { ContainerDefaults } from './containers/container-defaults.ts';
export { parseSeccompProfile } from './spec/index.ts';
export { logDetailsPrefix, rfc3339NanoFixed } from './containers/json-log.ts';
export { type BuildCacheGcPolicy, type BuildCacheGcRule, checkGcFilters } from './build/index.ts';
