/**
 * The compose file corpus (test/fixtures/compose/<case>/): each case's files load and normalise
 * to `expected.yaml`, the model `docker compose config` (Compose v2.40 / compose-go v2.9.1) prints
 * for them. The expected files were written from the compose-spec rules and compose-go's loader
 * (transform/, loader/normalize.go, types/ marshalling) and reviewed case by case; `/CASE_DIR` stands
 * for the case's absolute directory. A case may carry `case.json`: {files, env, profiles,
 * projectName}. Regenerate a case's actual output with BERTH_CORPUS_WRITE=1 only to diff it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatConfig, loadProject } from './load.ts';

// dist/src/compose/corpus.test.js -> test/fixtures/compose at the package root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'compose');

interface CaseOptions {
  files?: string[];
  env?: Record<string, string>;
  profiles?: string[];
  projectName?: string;
}

const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('the corpus has at least 20 compose files', () => {
  assert.ok(cases.length >= 20, `${cases.length} cases`);
});

for (const name of cases) {
  test(`corpus: ${name} normalises to its expected model`, () => {
    const dir = join(root, name);
    const optsFile = join(dir, 'case.json');
    const opts: CaseOptions = existsSync(optsFile) ? JSON.parse(readFileSync(optsFile, 'utf8')) : {};
    const project = loadProject({
      cwd: dir,
      env: opts.env ?? {},
      ...(opts.files ? { files: opts.files } : {}),
      ...(opts.profiles ? { profiles: opts.profiles } : {}),
      ...(opts.projectName ? { projectName: opts.projectName } : {}),
    });
    const actual = formatConfig(project).replaceAll(dir, '/CASE_DIR');
    const expectedFile = join(dir, 'expected.yaml');
    if (process.env.BERTH_CORPUS_WRITE) writeFileSync(expectedFile, actual);
    assert.equal(actual, readFileSync(expectedFile, 'utf8'));
  });
}
