export * from './client.ts';
export * from './errors.ts';
export * from './host.ts';
export * from './streams.ts';
export { encodeQuery, type QueryValue, type RequestOptions } from './transport.ts';
export * from './tls.ts';
export * from './build-context.ts';
