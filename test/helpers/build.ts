/** Helpers for build tests: the docker CLI with the classic builder, and build contexts from files. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { makeBusybox, run, startDaemon, type TestDaemon } from './daemon.ts';

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

/**
 * A build suite's daemon (with busybox) and context root, made in `before` and removed in
 * `after` of the enclosing describe; `docker` is the classic-builder CLI against it.
 */
export interface BuildTestBed {
  d: TestDaemon;
  ctxRoot: string;
  docker: (...args: string[]) => ReturnType<typeof run>;
  context: (files: Record<string, string>) => Promise<string>;
}

export function buildTestBed(prefix: string): BuildTestBed {
  const bed: BuildTestBed = {
    d: undefined as unknown as TestDaemon,
    ctxRoot: '',
    docker: (...args: string[]) => classicDocker(bed.d)(...args),
    context: contextMaker(() => bed.ctxRoot),
  };
  before(async () => {
    bed.d = await startDaemon();
    await makeBusybox(bed.d);
    bed.ctxRoot = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await bed.d?.stop();
    if (bed.ctxRoot) await rm(bed.ctxRoot, { recursive: true, force: true });
  });
  return bed;
}
