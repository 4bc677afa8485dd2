export {
  type ExtractEntry,
  type ExtractOptions,
  type ExtractSummary,
  extractEntries,
  extractTar,
  WHITEOUT_META_PREFIX,
  WHITEOUT_OPAQUE_DIR,
  WHITEOUT_PREFIX,
} from './extract.ts';
export { type PackOptions, packDir } from './pack.ts';
export { cleanEntryPath, linkStaysInside, RootResolver } from './root-path.ts';
export { type IdMap, type IdMapping, toContainer, toHost } from './id-map.ts';
export { type InRootRequest, type PathStat, getInRoot, putInRoot, statInRoot } from './in-root.ts';
