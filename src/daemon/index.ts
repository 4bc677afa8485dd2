export { main } from './daemon.ts';
