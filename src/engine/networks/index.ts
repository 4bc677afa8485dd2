export * from './network-service.ts';
export * from './network-view.ts';
