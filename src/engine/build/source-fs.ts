/**
 * The few filesystem reads COPY/ADD need (lstat, readdir, readlink, a file's bytes), behind an
 * interface so they can be answered from the build context's tar (context.ts: an index for the
 * metadata, byte ranges of the spooled tar for the contents) without ever unpacking it, or from
 * the disk (another stage's root filesystem, a heredoc directory, a download).
 */
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface SourceStat {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFile(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  mode: number;
  size: number;
  mtimeMs: number;
}

export interface SourceFs {
  /** The object at `path` itself (a symlink is not followed); undefined when missing. */
  lstat(path: string): SourceStat | undefined;
  /** The names in a directory, in any order. */
  readdir(path: string): string[];
  readlink(path: string): string;
  /** The bytes of the regular file at `path`. */
  read(path: string): Readable;
}

export const diskFs: SourceFs = {
  lstat: (path) => lstatSync(path, { throwIfNoEntry: false }),
  readdir: (path) => readdirSync(path),
  readlink: (path) => readlinkSync(path),
  read: (path) => createReadStream(path),
};
