import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The directory holding berth's package.json, found by walking up from this module. It does not
 * depend on where the module sits below it (dist/src/common/ when run from tsc's output,
 * dist/bundle/ or dist/bundle/chunks/ in a bundle), so files the package ships are found by their
 * place in the package: `join(packageRoot(), 'native', 'build')`.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'berth') {
          root = dir;
          return dir;
        }
      } catch {
        // not ours: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the berth package root (package.json)');
    dir = up;
  }
}
