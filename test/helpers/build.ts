/** Helpers for build tests: the docker CLI with the classic builder, and build contexts from files. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestDaemon, run } from './daemon.ts';

/** `docker` against the test daemon with DOCKER_BUILDKIT=0 (the classic /build API). */
export function classicDocker(d: TestDaemon) {
  return (...args: string[]) =>
    run('docker', ['-H', d.host, ...args], {
      env: { DOCKER_CONFIG: join(d.dir, 'docker-config'), DOCKER_BUILDKIT: '0' },
    });
}

/** Makes numbered context directories under `root()` from { relative path: content }. */
export function contextMaker(root: () => string) {
  let n = 0;
  return async (files: Record<string, string>): Promise<string> => {
    const dir = join(root(), String(n++));
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    return dir;
  };
}
