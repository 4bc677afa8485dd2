export * from './auth.ts';
export * from './server.ts';
export * from './storage.ts';
