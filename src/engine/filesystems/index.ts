export { ContainerFs } from './container-fs.ts';
