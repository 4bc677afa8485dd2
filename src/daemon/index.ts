export { main } from './daemon.ts';
export { registryMain } from './registry-main.ts';
