// The build context tar lives in client/ so that both the CLI and compose can send it.
export { contextTar } from '../client/index.ts';
