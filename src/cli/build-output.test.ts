import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildOutput, colorLine, useColor } from './build-output.ts';

const STREAM = [
  'Step 1/3 : FROM busybox\n',
  ' ---> 4dd21f0a6ecd\n',
  'Step 2/3 : RUN echo hi\n',
  ' ---> Using cache\n',
  ' ---> 1236ca7cbd32\n',
  'Step 3/3 : RUN echo there\n',
  ' ---> Running in c0c3066af7fd\n',
  'there\n',
  'Removing intermediate container c0c3066af7fd\n',
  ' ---> e760f26c199d\n',
  'Successfully built e760f26c199d\n',
  'Successfully tagged app:1\n',
];

const capture = (isTTY: boolean) => {
  let text = '';
  return { isTTY, write: (s: string) => (text += s), text: () => text };
};

test('without a terminal the stream is written as it came, with no summary', () => {
  const out = capture(false);
  const b = new BuildOutput(out, { color: useColor(out, {}) });
  for (const s of STREAM) b.stream(s);
  b.finish('sha256:e760f26c199d0000');
  assert.equal(out.text(), STREAM.join(''));
});

test('on a terminal the builder lines are coloured, RUN output is not, and a summary ends it', () => {
  const out = capture(true);
  const b = new BuildOutput(out, { color: useColor(out, {}) });
  for (const s of STREAM) b.stream(s);
  b.finish('sha256:e760f26c199d0000');
  const text = out.text();
  assert.match(text, /\x1b\[1m\x1b\[36mStep 2\/3\x1b\[39m\x1b\[22m : \x1b\[1mRUN echo hi\x1b\[22m\n/);
  assert.match(text, /\x1b\[32mUsing cache\x1b\[39m/);
  assert.match(text, /\nthere\n/);
  assert.match(
    text,
    /Built e760f26c199d\x1b\[39m\x1b\[22m in \d+\.\ds: 3 steps, 1 from cache, tagged app:1\n$/,
  );
  // Without the colours, the lines are Docker's.
  const plain = text.replace(/\x1b\[\d+m/g, '');
  assert.ok(plain.startsWith(STREAM.join('')));
});

test('NO_COLOR and TERM=dumb keep a terminal plain', () => {
  assert.equal(useColor({ isTTY: true, write: () => {} }, { NO_COLOR: '' }), false);
  assert.equal(useColor({ isTTY: true, write: () => {} }, { TERM: 'dumb' }), false);
  assert.equal(useColor({ isTTY: true, write: () => {} }, { TERM: 'xterm' }), true);
});

test('a line that is not the builder’s is left alone', () => {
  assert.equal(colorLine('Step one of my script\n'), 'Step one of my script\n');
  assert.equal(colorLine('partial Step 1/2 : x'), 'partial Step 1/2 : x');
});
