/**
 * The executables as users run them (bin/berth, bin/berth-runtime, bin/berthd), so the tests
 * exercise the bundles that bin/ loads (scripts/bundle.mjs). bin/<name> falls back to tsc's dist/src when its
 * bundle is older (a bare `npx tsc`); ensureBundles() rebuilds the bundle then, so the tests never
 * run the fallback or a stale bundle.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/helpers/). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BERTH = join(REPO_ROOT, 'bin', 'berth');
export const BERTH_RUNTIME = join(REPO_ROOT, 'bin', 'berth-runtime');
export const BERTHD = join(REPO_ROOT, 'bin', 'berthd');

/** Whether bin/<name> loads its bundle: the rule of bin/<name> and scripts/bundle.mjs. */
export function bundleIsFresh(name: string): boolean {
  const bundle = statSync(join(REPO_ROOT, 'dist', 'bundle', `${name}.mjs`), { throwIfNoEntry: false });
  const built = statSync(join(REPO_ROOT, 'dist', 'src', 'bin', `${name}.js`), { throwIfNoEntry: false });
  return bundle !== undefined && (built === undefined || bundle.mtimeMs >= built.mtimeMs);
}

/** Builds dist/bundle unless every bin/ executable already loads a fresh bundle. */
export function ensureBundles(): void {
  if (['berth', 'berth-runtime', 'berthd'].every(bundleIsFresh)) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'bundle.mjs'), '--if-stale'], {
    stdio: 'inherit',
  });
}
