import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogPrinter } from './compose-attach.ts';
import { tabwrite } from './compose-commands.ts';

test('tabwrite pads every column but the last like Go text/tabwriter', () => {
  const out = tabwrite(
    [
      ['SERVICE', '#', 'CMD'],
      ['db', '1', 'sleep 300'],
    ],
    4,
    2,
  );
  assert.equal(out, 'SERVICE  #   CMD\ndb       1   sleep 300\n');
  assert.equal(tabwrite([], 4, 2), '');
});

test('log prefixes are padded to the longest name plus one and coloured in rainbow order', () => {
  let out = '';
  const plain = new LogPrinter(
    (s) => (out += s),
    () => {},
    { color: false, prefix: true },
  );
  plain.register(['web-1', 'redis-1']);
  plain.line('web-1', 'hello');
  plain.status('web-1', 'exited with code 0');
  assert.equal(out, 'web-1    | hello\nweb-1 exited with code 0\n');
  out = '';
  const color = new LogPrinter(
    (s) => (out += s),
    () => {},
    { color: true, prefix: true },
  );
  color.register(['a-1', 'b-1']);
  color.line('b-1', 'x');
  assert.equal(out, '\x1b[33mb-1  | \x1b[0mx\n');
  out = '';
  const bare = new LogPrinter(
    (s) => (out += s),
    () => {},
    { color: false, prefix: false },
  );
  bare.register(['a-1']);
  bare.line('a-1', 'x');
  assert.equal(out, 'x\n');
});
