import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerfileParseError, parseDockerfile } from './parse.ts';
import { toStages } from './instructions.ts';

test('directives, comments, continuations and original text', () => {
  const p = parseDockerfile(
    '# syntax=docker/dockerfile:1\n# escape=`\n\n# a comment\nFROM busybox\nRUN echo a `\n  # inside\n    b\n',
  );
  assert.equal(p.directives.escape, '`');
  assert.equal(p.directives.syntax, 'docker/dockerfile:1');
  assert.equal(p.nodes.length, 2);
  assert.equal(p.nodes[1]!.original, 'RUN echo a     b');
  assert.equal(p.nodes[1]!.startLine, 6);
  assert.equal(p.nodes[1]!.endLine, 8);
});

test('a directive after a comment is a comment', () => {
  const p = parseDockerfile('# hello\n# escape=`\nFROM x\n');
  assert.equal(p.directives.escape, '\\');
});

test('empty continuation lines are dropped with a warning', () => {
  const p = parseDockerfile('FROM x\nRUN a \\\n\n b\n');
  assert.equal(p.nodes[1]!.original, 'RUN a  b');
  assert.equal(p.warnings.length, 1);
});

test('heredocs: bodies, <<- tab stripping, quoted delimiters', () => {
  const p = parseDockerfile(
    'FROM x\nRUN <<EOF\necho $A\nEOF\nCOPY <<-"F1" <<G /d/\n\tone\n\tF1\ntwo\nG\nENV a=b\n',
  );
  assert.equal(p.nodes.length, 4);
  assert.deepEqual(p.nodes[1]!.heredocs, [{ name: 'EOF', content: 'echo $A\n', expand: true }]);
  assert.deepEqual(p.nodes[2]!.heredocs, [
    { name: 'F1', content: 'one\n', expand: false },
    { name: 'G', content: 'two\n', expand: true },
  ]);
  assert.equal(p.nodes[3]!.startLine, 10);
});

test('flags are split from the arguments', () => {
  const p = parseDockerfile('FROM x\nCOPY --from=a --chown=1:2 src /dst\n');
  assert.deepEqual(p.nodes[1]!.flags, ['--from=a', '--chown=1:2']);
  assert.equal(p.nodes[1]!.rest, 'src /dst');
});

const stagesOf = (text: string) => toStages(parseDockerfile(text));

test('instructions: forms and arguments', () => {
  const d = stagesOf(
    'ARG V=1\nFROM busybox:$V AS Build\nRUN ["echo","x"]\nRUN echo x\nENV A=1 B="2 3"\nENV LEGACY value with spaces\nLABEL "k k"=v\nARG X Y=2\nCOPY --chown=1 a b /d/\nEXPOSE 80/tcp 53/udp\nVOLUME ["/v"]\nHEALTHCHECK --interval=5s CMD true\nHEALTHCHECK NONE\nSHELL ["/bin/bash","-c"]\nONBUILD RUN x\nSTOPSIGNAL SIGTERM\nFROM scratch\n',
  );
  assert.equal(d.metaArgs.length, 1);
  assert.equal(d.stages.length, 2);
  const s = d.stages[0]!;
  assert.equal(s.name, 'build');
  assert.equal(s.from.image, 'busybox:$V');
  const kinds = s.instructions.map((i) => i.kind);
  assert.deepEqual(kinds, [
    'run',
    'run',
    'env',
    'env',
    'label',
    'arg',
    'copy',
    'expose',
    'volume',
    'healthcheck',
    'healthcheck',
    'shell',
    'onbuild',
    'stopsignal',
  ]);
  // biome-ignore lint/suspicious/noExplicitAny: a test reads fields of several kinds
  const [r1, r2, env1, env2, label, arg, copy] = s.instructions as any[];
  assert.deepEqual(r1.command, { form: 'exec', args: ['echo', 'x'] });
  assert.deepEqual(r2.command, { form: 'shell', text: 'echo x' });
  assert.deepEqual(env1.pairs, [
    { key: 'A', value: '1' },
    { key: 'B', value: '"2 3"' },
  ]);
  assert.deepEqual(env2.pairs, [{ key: 'LEGACY', value: 'value with spaces' }]);
  assert.deepEqual(label.pairs, [{ key: '"k k"', value: 'v' }]);
  assert.deepEqual(arg.args, [{ key: 'X' }, { key: 'Y', value: '2' }]);
  assert.deepEqual([copy.sources, copy.dest, copy.chown], [['a', 'b'], '/d/', '1']);
});

test('parse errors name the line, as Docker', () => {
  const table: Array<[string, string]> = [
    ['FROM x\nFOO bar\n', 'dockerfile parse error on line 2: unknown instruction: FOO'],
    ['RUN x\n', 'dockerfile parse error on line 1: no build stage in current context'],
    ['FROM a b\n', 'dockerfile parse error on line 1: FROM requires either one or three arguments'],
    [
      'FROM x\nCOPY a\n',
      'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined.',
    ],
    [
      'FROM x\nSHELL /bin/sh\n',
      'dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form',
    ],
    ['FROM x\nRUN --security=insecure true\n', 'dockerfile parse error on line 2: unknown flag: --security'],
    ['FROM x\nCOPY --parents a b\n', 'dockerfile parse error on line 2: unknown flag: --parents'],
    ['FROM x\nCOPY --exclude=*.md a b\n', 'dockerfile parse error on line 2: unknown flag: --exclude'],
    [
      'FROM x\nCOPY --chmo=755 a b\n',
      'dockerfile parse error on line 2: unknown flag: --chmo (did you mean chmod?)',
    ],
    [
      'FROM x\nCOPY --link --link a b\n',
      'dockerfile parse error on line 2: duplicate flag specified: --link',
    ],
    [
      'FROM x\nCOPY --link=maybe a b\n',
      'dockerfile parse error on line 2: expecting boolean value for flag --link, not: maybe',
    ],
    ['FROM x\nCOPY --bogus=1 a b\n', 'dockerfile parse error on line 2: unknown flag: --bogus'],
    ['FROM x\nENV =x\n', 'dockerfile parse error on line 2: ENV names can not be blank'],
    ['FROM x\nRUN <<EOF\nnever ends\n', 'dockerfile parse error on line 2: unterminated heredoc EOF'],
    [
      'FROM x\nONBUILD ONBUILD RUN x\n',
      "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    ],
    ['FROM a AS x\nFROM b AS x\n', 'dockerfile parse error on line 2: duplicate stage name "x"'],
    ['', 'the Dockerfile (Dockerfile) cannot be empty'],
  ];
  for (const [text, msg] of table) {
    assert.throws(
      () => stagesOf(text),
      (e) => e instanceof DockerfileParseError && e.message === msg,
      msg,
    );
  }
});
