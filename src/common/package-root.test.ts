import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from './package-root.ts';

test('packageRoot is the directory of berth package.json', () => {
  const root = packageRoot();
  assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name, 'berth');
  assert.ok(existsSync(join(root, 'src', 'compose', 'compose-spec.json')));
});
