export * from './client.ts';
export * from './progress.ts';
export * from './pull.ts';
export * from './push.ts';
export * from './server/index.ts';
export * from './search.ts';
