import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile, toStages } from '../../dockerfile/index.ts';
import { OrderedOutput, planStages, runStageGraph } from './stages.ts';

const stagesOf = (text: string) => toStages(parseDockerfile(text)).stages;
const plan = (text: string, last?: number) => {
  const all = stagesOf(text);
  return planStages(all, last ?? all.length - 1, (s) => s.from.image);
};

const MULTI = [
  'FROM busybox AS a',
  'RUN false',
  'FROM busybox AS b',
  'RUN echo b',
  'FROM b AS c',
  'COPY --from=1 /x /x',
  'FROM busybox AS d',
  'COPY --from=c /x /x',
  'COPY --from=busybox /bin/sh /sh',
].join('\n');

test('only the stages the last stage reaches through FROM and COPY --from are built', () => {
  const p = plan(MULTI);
  assert.deepEqual(
    p.stages.map((s) => s.name),
    ['b', 'c', 'd'],
  );
  assert.deepEqual(
    p.skipped.map((s) => s.name),
    ['a'],
  );
  assert.deepEqual([...p.deps.get(3)!], [2]);
  assert.deepEqual([...p.deps.get(2)!], [1]);
  assert.deepEqual([...p.deps.get(1)!], []);
});

test('a target stage leaves out the stages after it and those it does not use', () => {
  const p = plan(MULTI, 1);
  assert.deepEqual(
    p.stages.map((s) => s.name),
    ['b'],
  );
  assert.deepEqual(
    p.skipped.map((s) => s.name),
    ['a'],
  );
});

test('a COPY --from with a variable depends on every earlier stage', () => {
  const p = plan('FROM busybox AS a\nFROM busybox AS b\nFROM busybox\nARG S=a\nCOPY --from=$S /x /x');
  assert.deepEqual(
    p.stages.map((s) => s.index),
    [0, 1, 2],
  );
});

test('independent stages run at the same time, dependent ones after, within the limit', async () => {
  const p = plan(
    'FROM busybox AS a\nFROM busybox AS b\nFROM busybox AS c\nFROM busybox\nCOPY --from=a / /\nCOPY --from=b / /\nCOPY --from=c / /',
  );
  const events: string[] = [];
  let running = 0;
  let peak = 0;
  await runStageGraph(
    p,
    2,
    async (s) => {
      events.push(`start ${s.index}`);
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      events.push(`end ${s.index}`);
    },
    () => {},
  );
  assert.equal(peak, 2);
  assert.deepEqual(events.slice(0, 2), ['start 0', 'start 1']);
  assert.equal(events.at(-2), 'start 3');
});

test('the first failure aborts the rest and is the one reported', async () => {
  const p = plan('FROM busybox AS a\nFROM busybox AS b\nFROM busybox\nCOPY --from=a / /\nCOPY --from=b / /');
  const ran: number[] = [];
  let aborted = false;
  await assert.rejects(
    runStageGraph(
      p,
      4,
      async (s) => {
        ran.push(s.index);
        if (s.index === 0) throw new Error('boom');
        await new Promise((r) => setTimeout(r, 10));
      },
      () => {
        aborted = true;
      },
    ),
    /boom/,
  );
  assert.ok(aborted);
  assert.ok(!ran.includes(2));
});

test('output of later stages is held until the earlier ones finish', () => {
  const seen: string[] = [];
  const o = new OrderedOutput([0, 1, 2], (t) => seen.push(t));
  o.writer(1)('b1 ');
  o.writer(0)('a1 ');
  o.writer(2)('c1 ');
  o.finish(1);
  o.writer(0)('a2 ');
  assert.deepEqual(seen, ['a1 ', 'a2 ']);
  o.finish(0);
  assert.deepEqual(seen, ['a1 ', 'a2 ', 'b1 ', 'c1 ']);
  o.writer(2)('c2 ');
  assert.equal(seen.at(-1), 'c2 ');
});
