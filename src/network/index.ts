export * from './container-resolver.ts';
export * from './dns-server.ts';
export * from './ip-command.ts';
export * from './ipam.ts';
export * from './links.ts';
export * from './network-store.ts';
export * from './nft-ruleset.ts';
export * from './port-proxy.ts';
