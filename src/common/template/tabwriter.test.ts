// TabWriter: expected outputs produced by Go 1.19's text/tabwriter with the same input and settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlignRight, Debug, FilterHTML, stringWidth, TabIndent, TabWriter } from './index.ts';

// Docker's settings: minwidth 10, tabwidth 1, padding 3, padchar ' ', no flags.
const dockerRows: [input: string, output: string][] = [
  ['', ''],
  ['a', 'a'],
  ['a\n', 'a\n'],
  ['a\tb\n', 'a         b\n'],
  ['a\tb\tc\n', 'a         b         c\n'],
  [
    'CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tweb\nabcdef012345\tx\tdb\n',
    'CONTAINER ID   IMAGE     NAMES\nabc            busybox   web\nabcdef012345   x         db\n',
  ],
  ['a\tb\naaaa\tbbbbbbbbbbbbbb\tc\n', 'a         b\naaaa      bbbbbbbbbbbbbb   c\n'],
  ['x\n\ty\n\t\tz\n', 'x\n          y\n                    z\n'],
  ['a\t\tb\n\t\t\n', 'a                   b\n                    \n'],
  [
    'aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n',
    'aaaa      bbb       d\naa        b         dd\na         \naa        cccc      eee\n',
  ],
  ['no newline at end\tx', 'no newline at end   x'],
  ['one\ttwo\n\nthree\tfour\n', 'one       two\n\nthree     four\n'],
  ['a\fb\tc\nd\te\n', 'a\nb         c\nd         e\n'],
  ['a\u000bb\tc\n', 'a         b         c\n'],
  ['verylongcellvalue\tx\nshort\ty\n', 'verylongcellvalue   x\nshort               y\n'],
  ['héllo\tx\nab\ty\n', 'héllo     x\nab        y\n'],
  ['a\tb\tc\n1\t2\n', 'a         b         c\n1         2\n'],
];

for (const [input, output] of dockerRows) {
  test(`docker tabwriter aligns ${JSON.stringify(input)} as Go does`, () => {
    const tw = new TabWriter(10, 1, 3, ' ', 0);
    tw.write(input);
    assert.equal(tw.flush(), output);
  });
}

const D = Debug;
const flagRows: [input: string, params: [number, number, number, number, number], output: string][] = [
  [
    'a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n',
    [8, 0, 1, 46, 0],
    'a.......b.......c\naa......bbb.....cccc\naaa.....bbbb\n',
  ],
  [
    'a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n',
    [8, 0, 1, 32, AlignRight],
    '       a       bc\n      aa     bbbcccc\n     aaabbbb\n',
  ],
  ['a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n', [0, 0, 1, 32, D], 'a   |b   |c\naa  |bbb |cccc\naaa |bbbb\n'],
  ['a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n', [0, 8, 1, 9, 0], 'a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n'],
  ['\ta\n\t\tb\n', [0, 8, 1, 32, TabIndent], '\ta\n\t\tb\n'],
  ['a\vb\vc\n\v\vd\n', [0, 0, 1, 95, 8], 'a_b_c\n____d\n'],
  ['a\t<b>x</b>\tc\n&amp;\tdd\t\n', [0, 0, 1, 46, FilterHTML], 'a.<b>x</b>..c\n&amp;.dd.\n'],
  ['1\t2\t3\n\f4\t5\n', [0, 0, 1, 46, D], '1.|2.|3\n\n---\n4.|5\n'],
];

for (const [input, [minwidth, tabwidth, padding, padchar, flags], output] of flagRows) {
  test(`tabwriter(${minwidth},${tabwidth},${padding},${JSON.stringify(String.fromCharCode(padchar))},${flags}) formats ${JSON.stringify(input)} as Go does`, () => {
    const tw = new TabWriter(minwidth, tabwidth, padding, String.fromCharCode(padchar), flags);
    tw.write(input);
    assert.equal(tw.flush(), output);
  });
}

test('text split across writes aligns the same as one write', () => {
  const tw = new TabWriter(10, 1, 3, ' ', 0);
  for (const part of ['NAME\tIM', 'AGE\nweb\tbusy', 'box:latest\n']) tw.write(part);
  assert.equal(tw.flush(), 'NAME      IMAGE\nweb       busybox:latest\n');
});

test('a flushed writer starts afresh', () => {
  const tw = new TabWriter(0, 0, 1, ' ', 0);
  tw.write('aaaa\tb\n');
  assert.equal(tw.flush(), 'aaaa b\n');
  tw.write('a\tb\n');
  assert.equal(tw.flush(), 'a b\n');
});

test('east asian wide characters count two columns, as go-runewidth does in docker', () => {
  assert.equal(stringWidth('日本語'), 6);
  assert.equal(stringWidth('héllo'), 5);
  assert.equal(stringWidth('e\u0301'), 1);
  const tw = new TabWriter(0, 1, 1, ' ', 0);
  tw.write('日本\tx\nab\ty\n');
  assert.equal(tw.flush(), '日本 x\nab   y\n');
});

test('negative sizes are rejected', () => {
  assert.throws(() => new TabWriter(-1, 0, 0, ' ', 0), RangeError);
});
