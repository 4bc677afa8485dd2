/**
 * `berth -v`: `berth version 0.1.0, build <sha>`, like docker's `Docker version 28.2.2, build
 * e6534b4`. The build is the checkout's git commit when it can be read cheaply from .git (no
 * child process), else `dev`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BERTH_VERSION } from '../api/types/version.ts';

export function gitCommit(start: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const gitDir = join(dir, '.git');
      const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
      if (!head.startsWith('ref: ')) return head.slice(0, 7);
      const ref = head.slice(5);
      try {
        return readFileSync(join(gitDir, ref), 'utf8').trim().slice(0, 7);
      } catch {
        const packed = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
        const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
        return line?.slice(0, 7);
      }
    } catch {
      if (dirname(dir) === dir) return undefined;
    }
  }
}

export function berthVersionLine(): string {
  return `berth version ${BERTH_VERSION}, build ${gitCommit() ?? 'dev'}`;
}
