import { readFile } from 'node:fs/promises';
import { errnoCode, type Logger } from '../common/index.ts';

/** A JSON state file, or undefined when it is absent or unreadable (the latter is logged). */
export async function readJsonFile<T>(path: string, log: Logger): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') log.warn('unreadable state file; ignored', { path, err });
    return undefined;
  }
}
