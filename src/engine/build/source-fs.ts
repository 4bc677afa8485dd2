/**
 * The few filesystem reads COPY/ADD source matching and hashing need (lstat, readdir, readlink),
 * behind an interface so they can be answered from the build context's tar index (context.ts)
 * before — or without ever — unpacking it, or from the disk (another stage's root filesystem, a
 * heredoc directory).
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';

export interface SourceStat {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFile(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  mode: number;
  size: number;
}

export interface SourceFs {
  /** The object at `path` itself (a symlink is not followed); undefined when missing. */
  lstat(path: string): SourceStat | undefined;
  /** The names in a directory, in any order. */
  readdir(path: string): string[];
  readlink(path: string): string;
}

export const diskFs: SourceFs = {
  lstat: (path) => lstatSync(path, { throwIfNoEntry: false }),
  readdir: (path) => readdirSync(path),
  readlink: (path) => readlinkSync(path),
};
