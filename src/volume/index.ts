export { ANONYMOUS_LABEL, type VolumeRecord, VolumeStore } from './volume-store.ts';
export { parseMountOptions } from './mount-options.ts';
