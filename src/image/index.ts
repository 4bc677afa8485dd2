export * from './content-store.ts';
export * from './image-store.ts';
export * from './reference.ts';
export * from './snapshots.ts';
export * from './archive-export.ts';
export * from './blob-sources.ts';
export { fanOut } from './fan-out.ts';
