// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the inputs are Dockerfile words, not templates
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envLookup, processWord, processWords, ShellLexError } from './shell-lex.ts';

const env = envLookup(['A=a', 'EMPTY=', 'PATHV=/usr/local/bin:/usr/bin', 'SP=x y']);

test('processWord expands variables with BuildKit rules', () => {
  const table: Array<[string, string]> = [
    ['$A', 'a'],
    ['${A}', 'a'],
    ['$A$A', 'aa'],
    ['${A}b', 'ab'],
    ['$UNSET', ''],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${A:+x}', 'x'],
    ['${EMPTY:+x}', ''],
    ['${EMPTY+x}', 'x'],
    ['${UNSET+x}', ''],
    ['${UNSET:-$A}', 'a'],
    ['${UNSET:-"q q"}', 'q q'],
    ["'$A'", '$A'],
    ['"$A"', 'a'],
    ['"\\$A"', '$A'],
    ['\\$A', '$A'],
    ['a\\ b', 'a b'],
    ['"a\\b"', 'a\\b'],
    ['$', '$'],
    ['$1', ''],
    ['${PATHV#*:}', '/usr/bin'],
    ['${PATHV##*/}', 'bin'],
    ['${PATHV%:*}', '/usr/local/bin'],
    ['${PATHV%%/*}', ''],
    ['${PATHV/usr/opt}', '/opt/local/bin:/usr/bin'],
    ['${PATHV//usr/opt}', '/opt/local/bin:/opt/bin'],
    ['x${SP}y', 'xx yy'],
  ];
  for (const [input, want] of table) assert.equal(processWord(input, env), want, input);
});

test('processWord with the backtick escape', () => {
  assert.equal(processWord('a`$A', env, '`'), 'a$A');
  assert.equal(processWord('c:\\dir', env, '`'), 'c:\\dir');
});

test('processWords splits unquoted whitespace, including in expansions', () => {
  assert.deepEqual(processWords('a b  "c d" \'\' $SP', env), ['a', 'b', 'c d', '', 'x', 'y']);
  assert.deepEqual(processWords('"$SP"', env), ['x y']);
});

test('lexer errors are Docker’s', () => {
  const table: Array<[string, RegExp]> = [
    ["'abc", /matching single-quote/],
    ['"abc', /matching double-quote/],
    ['${A', /missing '}'/],
    ['${A:x}', /unsupported modifier \(x\)/],
    ['${UNSET:?must be set}', /UNSET: must be set/],
    ['${}', /bad substitution/],
  ];
  for (const [input, re] of table)
    assert.throws(
      () => processWord(input, env),
      (e) => e instanceof ShellLexError && re.test(e.message),
      input,
    );
});
