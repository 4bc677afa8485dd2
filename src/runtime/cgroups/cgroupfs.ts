import type { Dirent } from 'node:fs';
import { access, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, type ErrorKind, errnoCode, invalidParameter } from '../../common/index.ts';

/**
 * File access to a cgroupfs directory (v1 or v2), with kernel errors turned into BerthErrors
 * that name the file: `write memory.limit_in_bytes: Device or resource busy`.
 */

const strerror: Record<string, string> = {
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  ENOENT: 'No such file or directory',
  ENOSPC: 'No space left on device',
  ENOTEMPTY: 'Directory not empty',
  EOPNOTSUPP: 'Operation not supported',
  EPERM: 'Operation not permitted',
  ERANGE: 'Numerical result out of range',
  EROFS: 'Read-only file system',
  ESRCH: 'No such process',
};

/** A kernel refusing a value (EINVAL, EBUSY, ERANGE) is the caller's bad parameter; the rest is ours. */
function kindFor(code: string | undefined): ErrorKind {
  return code === 'EINVAL' || code === 'EBUSY' || code === 'ERANGE' ? 'InvalidParameter' : 'Internal';
}

export function cgroupError(op: string, file: string, err: unknown): BerthError {
  const code = errnoCode(err);
  const text = (code && strerror[code]) ?? (err instanceof Error ? err.message : String(err));
  return new BerthError(kindFor(code), `${op} ${file}: ${text}`, { cause: err });
}

/**
 * Writes `value` to `dir/file` in one write(2), as cgroupfs wants. The file is created if it is
 * missing only on a plain directory (the fake trees of unit tests); cgroupfs refuses creation
 * with EACCES, which surfaces as an error naming the file.
 */
export async function writeCgroupFile(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (err) {
    throw cgroupError('write', file, err);
  }
}

/** Reads `dir/file` trimmed. */
export async function readCgroupFile(dir: string, file: string): Promise<string> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch (err) {
    throw cgroupError('read', file, err);
  }
}

/** Reads `dir/file` trimmed, or undefined when it does not exist. */
export async function readOptional(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw cgroupError('read', file, err);
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a control file is available: present in the cgroup itself (what the kernel creates
 * with the directory), or, for fake trees, in the hierarchy root.
 */
export async function hasControlFile(dir: string, root: string, file: string): Promise<boolean> {
  return (await pathExists(join(dir, file))) || (await pathExists(join(root, file)));
}

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events, …) into numbers. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** Process ids in `dir`'s cgroup.procs and in every sub-cgroup below it. */
export async function readPidsRecursive(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const walk = async (d: string): Promise<void> => {
    let text: string | undefined;
    try {
      text = await readFile(join(d, 'cgroup.procs'), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw cgroupError('read', 'cgroup.procs', err);
    }
    for (const line of text.split('\n')) if (line.trim()) pids.push(Number(line));
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(d, entry.name));
    }
  };
  await walk(dir);
  return pids;
}

/**
 * Removes a cgroup directory and its sub-cgroups (deepest first); a missing one is fine.
 * EBUSY (processes still exiting) is retried with backoff for about a second, as runc does.
 */
export async function removeCgroupDir(dir: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw cgroupError('read', dir, err);
  }
  for (const entry of entries) if (entry.isDirectory()) await removeCgroupDir(join(dir, entry.name));
  let delay = 5;
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 8) throw cgroupError('rmdir', dir, err);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/**
 * Validates an OCI cgroupsPath ("/berth/<id>"; a relative one is taken from the root as well)
 * and returns its segments.
 */
export function cgroupPathSegments(path: string): string[] {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw invalidParameter(`invalid cgroup path "${path}": the root cgroup`);
  for (const s of segments) {
    if (s === '.' || s === '..' || s !== basename(s)) {
      throw invalidParameter(`invalid cgroup path "${path}"`);
    }
  }
  return segments;
}

/** Sends `signal` to each pid; processes that are already gone (ESRCH) are skipped. */
export function signalPids(pids: readonly number[], signal: number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw cgroupError('kill', String(pid), err);
    }
  }
}
