export type { ApiServer, ApiServerOptions, ListenAddress } from './server.ts';
export { createApiServer } from './server.ts';
