export type * from './engine.ts';
export { createEngine, type EngineConfig } from './create-engine.ts';
