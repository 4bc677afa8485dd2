import { loadCrypto } from './lazy-builtins.ts';

/** Ids are opaque branded strings so a ContainerId cannot be passed where an ImageId is wanted. */
export type ContainerId = string & { readonly brand: 'ContainerId' };
export type ExecId = string & { readonly brand: 'ExecId' };

/** A new 64-hex-digit id, as Docker generates for containers and execs. */
export function newId(): string {
  return loadCrypto().randomBytes(32).toString('hex');
}

/** Docker's short form of an id: its first 12 characters. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
