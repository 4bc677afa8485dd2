export type { ApiServer, ApiServerOptions, ListenAddress, TlsListenOptions } from './server.ts';
export { createApiServer } from './server.ts';
