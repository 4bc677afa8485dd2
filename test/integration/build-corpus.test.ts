/**
 * The Dockerfile corpus (test/fixtures/dockerfiles/): every case is built by berthd with the real
 * docker CLI (DOCKER_BUILDKIT=0) and its image config, author, layers, history and filesystem
 * (what differs from busybox) must equal the facts recorded from Docker's classic builder (history
 * `created_by` lines included, content hashes masked), or
 * the build must fail with Docker's error line. Cases marked `differs` in build.json are ones
 * where berth deliberately does more than the classic builder (BuildKit's behaviour); they must
 * build. Re-record with test/fixtures/record-dockerfiles.sh.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, canRunRoot, makeBusybox, startDaemon } from '../helpers/daemon.ts';
import {
  buildFacts,
  caseOptions,
  expectedFacts,
  fsListing,
  listCases,
  maskHistory,
} from '../helpers/dockerfile-corpus.ts';

const cases = await listCases();

describe('Dockerfile corpus matches Docker’s classic builder', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  let d: TestDaemon;
  let cfg: string;
  let base: Map<string, string>;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
    cfg = join(d.dir, 'docker-config');
    base = await fsListing(d.host, cfg, 'busybox:latest');
  });
  after(async () => {
    await d?.stop();
  });

  test('the corpus has at least 30 recorded Dockerfiles', async () => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
  });

  for (const name of cases) {
    test(name, async () => {
      const expected = await expectedFacts(name);
      assert.ok(expected, `${name} has no expected.json: run test/fixtures/record-dockerfiles.sh`);
      const got = await buildFacts(d.host, cfg, name, base);
      const o = (await caseOptions(name)) as { differs?: string };
      if (o.differs) {
        assert.equal(got.error, undefined, `${name}: ${got.error}`);
        return;
      }
      // History lines are compared with content hashes and ids masked on both sides (the
      // recordings keep them).
      const { recordedWith: _, ...want } = expected as Record<string, unknown> & { history?: string[] };
      if (want.history) want.history = want.history.map(maskHistory);
      const have = { ...got };
      // Docker 28 says `parse error on line N`, the recording dockerd 20.10 `parse error line N`.
      if (have.error) have.error = have.error.replace('parse error on line', 'parse error line');
      assert.deepEqual(have, want);
    });
  }
});
