// Parser tests ported from Go's text/template/parse/parse_test.go: parse trees
// printed back with Node.String() (text shown quoted), and syntax errors whose
// exact messages were produced by Go 1.19.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TemplateError } from './errors.ts';
import { nodeString } from './nodes.ts';
import { parseTrees } from './parse.ts';

const funcs = new Set(['printf', 'print', 'len', 'index']);
const parse = (text: string) => parseTrees('', text, { hasFunction: (n) => funcs.has(n) });

const roundTrips: [input: string, tree: string][] = [
  ['', ''],
  ['{{/*\n\n\n*/}}', ''],
  [' \t\n', '" \\t\\n"'],
  ['some text', '"some text"'],
  ['{{.X}}', '{{.X}}'],
  ['{{printf}}', '{{printf}}'],
  ['{{$}}', '{{$}}'],
  ['{{with $x := 3}}{{$x 23}}{{end}}', '{{with $x := 3}}{{$x 23}}{{end}}'],
  ['{{$.I}}', '{{$.I}}'],
  ['{{printf `%d` 23}}', '{{printf `%d` 23}}'],
  ['{{.X|.Y}}', '{{.X | .Y}}'],
  ['{{$x := .X|.Y}}', '{{$x := .X | .Y}}'],
  ['{{.X (.Y .Z) (.A | .B .C) (.E)}}', '{{.X (.Y .Z) (.A | .B .C) (.E)}}'],
  ['{{(.Y .Z).Field}}', '{{(.Y .Z).Field}}'],
  ['{{if .X}}hello{{end}}', '{{if .X}}"hello"{{end}}'],
  ['{{if .X}}true{{else}}false{{end}}', '{{if .X}}"true"{{else}}"false"{{end}}'],
  ['{{if .X}}true{{else if .Y}}false{{end}}', '{{if .X}}"true"{{else}}{{if .Y}}"false"{{end}}{{end}}'],
  [
    '+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+',
    '"+"{{if .X}}"X"{{else}}{{if .Y}}"Y"{{else}}{{if .Z}}"Z"{{end}}{{end}}{{end}}"+"',
  ],
  ['{{range .X}}hello{{end}}', '{{range .X}}"hello"{{end}}'],
  ['{{range .X.Y.Z}}hello{{end}}', '{{range .X.Y.Z}}"hello"{{end}}'],
  [
    '{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}',
    '{{range .X}}"hello"{{range .Y}}"goodbye"{{end}}{{end}}',
  ],
  ['{{range .X}}true{{else}}false{{end}}', '{{range .X}}"true"{{else}}"false"{{end}}'],
  ['{{range .X|.M}}true{{else}}false{{end}}', '{{range .X | .M}}"true"{{else}}"false"{{end}}'],
  ['{{range .SI}}{{.}}{{end}}', '{{range .SI}}{{.}}{{end}}'],
  ['{{range $x := .SI}}{{.}}{{end}}', '{{range $x := .SI}}{{.}}{{end}}'],
  ['{{range $x, $y := .SI}}{{.}}{{end}}', '{{range $x, $y := .SI}}{{.}}{{end}}'],
  ['{{range .SI}}{{.}}{{break}}{{end}}', '{{range .SI}}{{.}}{{break}}{{end}}'],
  ['{{range .SI}}{{.}}{{continue}}{{end}}', '{{range .SI}}{{.}}{{continue}}{{end}}'],
  ["{{range .SI 1 -3.2 true false 'a' nil}}{{end}}", "{{range .SI 1 -3.2 true false 'a' nil}}{{end}}"],
  ['{{template `x`}}', '{{template "x"}}'],
  ['{{template `x` .Y}}', '{{template "x" .Y}}'],
  ['{{with .X}}hello{{end}}', '{{with .X}}"hello"{{end}}'],
  ['{{with .X}}hello{{else}}goodbye{{end}}', '{{with .X}}"hello"{{else}}"goodbye"{{end}}'],
  [
    '{{with .X}}hello{{else with .Y}}goodbye{{end}}',
    '{{with .X}}"hello"{{else}}{{with .Y}}"goodbye"{{end}}{{end}}',
  ],
  [
    '{{with .X}}X{{else with .Y}}Y{{else with .Z}}Z{{end}}',
    '{{with .X}}"X"{{else}}{{with .Y}}"Y"{{else}}{{with .Z}}"Z"{{end}}{{end}}{{end}}',
  ],
  ['x \r\n\t{{- 3}}', '"x"{{3}}'],
  ['{{3 -}}\n\n\ty', '{{3}}"y"'],
  ['x \r\n\t{{- 3 -}}\n\n\ty', '"x"{{3}}"y"'],
  ['x\n{{-  3   -}}\ny', '"x"{{3}}"y"'],
  ['x \r\n\t{{- /* hi */}}', '"x"'],
  ['{{/* hi */ -}}\n\n\ty', '"y"'],
  ['x \r\n\t{{- /* */ -}}\n\n\ty', '"x""y"'],
  ['{{block "foo" .}}hello{{end}}', '{{template "foo" .}}'],
  ['{{ $x \n := \n 1 \n }}', '{{$x := 1}}'],
  ['{{\n"x"\n|\nprintf\n}}', '{{"x" | printf}}'],
  ['{{/*\nhello\n*/}}', ''],
  ['{{-\n/*\nhello\n*/\n-}}', ''],
  ['{{range .SI}}{{.}}{{ continue }}{{end}}', '{{range .SI}}{{.}}{{continue}}{{end}}'],
  ['{{range .SI}}{{.}}{{ break }}{{end}}', '{{range .SI}}{{.}}{{break}}{{end}}'],
  ['{{$x := 0}}{{$x}}', '{{$x := 0}}{{$x}}'],
  ['{{$x:=.}}{{$x +2}}', '{{$x := .}}{{$x +2}}'],
  ['{{range $x := 0}}{{$x}}{{end}}', '{{range $x := 0}}{{$x}}{{end}}'],
  ['{{range $x = 0}}{{$x}}{{end}}', '{{range $x = 0}}{{$x}}{{end}}'],
  ['{{ (( 1 )) }}', '{{((1))}}'],
  ['{{ ((( 1 ))) | printf }}', '{{(((1))) | printf}}'],
  ['{{ if ((( true ))) }}YES{{ end }}', '{{if (((true)))}}"YES"{{end}}'],
  [
    '{{if .X}}{{with .Y}}{{range .Z}}x{{end}}{{end}}{{end}}',
    '{{if .X}}{{with .Y}}{{range .Z}}"x"{{end}}{{end}}{{end}}',
  ],
];

for (const [input, tree] of roundTrips) {
  test(`${JSON.stringify(input)} parses to ${tree}`, () => {
    assert.equal(nodeString(parse(input).get('')!.root), tree);
  });
}

const errors: [input: string, message: string][] = [
  ['hello{{range', 'template: :1: unclosed action'],
  ['{{end}}', 'template: :1: unexpected {{end}}'],
  ['{{else}}', 'template: :1: unexpected {{else}}'],
  ['{{if .X}}hello{{end}}{{else}}', 'template: :1: unexpected {{else}}'],
  ['{{if .X}}1{{else}}2{{else}}3{{end}}', 'template: :1: expected end; found {{else}}'],
  ['hello{{range .x}}', 'template: :1: unexpected EOF'],
  ['hello{{range .x}}{{else}}', 'template: :1: unexpected EOF'],
  ['hello{{undefined}}', 'template: :1: function "undefined" not defined'],
  ['{{$x}}', 'template: :1: undefined variable "$x"'],
  ['{{with $x := 4}}{{end}}{{$x}}', 'template: :1: undefined variable "$x"'],
  ['{{template $v}}', 'template: :1: unexpected "$v" in template clause'],
  ['{{with $x.Y := 4}}{{end}}', 'template: :1: undefined variable "$x"'],
  ['{{template .X}}', 'template: :1: unexpected ".X" in template clause'],
  ['{{printf 3, 4}}', 'template: :1: unexpected "," in operand'],
  ['{{with $v, $u := 3}}{{end}}', 'template: :1: too many declarations in with'],
  ['{{range $u, $v, $w := 3}}{{end}}', 'template: :1: too many declarations in range'],
  ['{{printf (printf .).}}', 'template: :1: unexpected <.> in operand'],
  ['{{printf 3`x`}}', 'template: :1: unexpected "`x`" in operand'],
  ['{{printf `x`.}}', 'template: :1: unexpected <.> in operand'],
  ['{{if .X}}a{{else if .Y}}b{{end}}{{end}}', 'template: :1: unexpected {{end}}'],
  ['{{range .}}{{end}} {{break}}', 'template: :1: {{break}} outside {{range}}'],
  ['{{range .}}{{end}} {{continue}}', 'template: :1: {{continue}} outside {{range}}'],
  ['{{range .}}{{else}}{{break}}{{end}}', 'template: :1: {{break}} outside {{range}}'],
  ['{{range .}}{{else}}{{continue}}{{end}}', 'template: :1: {{continue}} outside {{range}}'],
  ['{{$x += 1}}{{$x}}', 'template: :1: undefined variable "$x"'],
  ['{{$x ! 2}}{{$x}}', 'template: :1: undefined variable "$x"'],
  ['{{$x % 3}}{{$x}}', 'template: :1: undefined variable "$x"'],
  ['{{range $x := $y := 3}}{{end}}', 'template: :1: undefined variable "$y"'],
  ['{{$x:=.}}{{$x!2}}', "template: :1: bad character U+0021 '!'"],
  ['{{$x:=.}}{{$x+2}}', "template: :1: bad character U+002B '+'"],
  ['{{1.E}}', 'template: :1: illegal number syntax: "1.E"'],
  ['{{0.1.E}}', 'template: :1: unexpected . after term "0.1"'],
  ['{{true.E}}', 'template: :1: unexpected . after term "true"'],
  ["{{'a'.any}}", 'template: :1: unexpected . after term "\'a\'"'],
  ['{{"hello".guys}}', 'template: :1: unexpected . after term "\\"hello\\""'],
  ['{{..E}}', 'template: :1: unexpected . after term "."'],
  ['{{nil.E}}', 'template: :1: unexpected . after term "nil"'],
  ['{{12|.}}', 'template: :1: non executable command in pipeline stage 2'],
  ['{{.|12|printf}}', 'template: :1: non executable command in pipeline stage 2'],
  ['{{.|printf|"error"}}', 'template: :1: non executable command in pipeline stage 3'],
  ["{{12|printf|'e'}}", 'template: :1: non executable command in pipeline stage 3'],
  ['{{.|true}}', 'template: :1: non executable command in pipeline stage 2'],
  ["{{'c'|nil}}", 'template: :1: non executable command in pipeline stage 2'],
  ['{{printf "%d" ( ) }}', 'template: :1: missing value for parenthesized pipeline'],
  ['{{block "foo"}}hello{{end}}', 'template: :1: missing value for block clause'],
  ['{{\n}}', 'template: :2: missing value for command'],
  ['{{}}', 'template: :1: missing value for command'],
  ['{{range .X}}{{break 20}}{{end}}', 'template: :1: unexpected "20" in {{break}}'],
  ['{{.X}}\n{{.Y\n', 'template: :3: unclosed action started at :2'],
  ['a\n{{if .X}}\nb', 'template: :3: unexpected EOF'],
  ['{{"\\z"}}', 'template: :1: invalid syntax'],
  ["{{'\\400'}}", 'template: :1: invalid syntax'],
  ['{{1 2 3 | 4}}', 'template: :1: non executable command in pipeline stage 2'],
  ['{{(.X).}}', 'template: :1: unexpected <.> in operand'],
  ['{{.X.Y.}}', 'template: :1: unexpected <.> in operand'],
  ['{{$.}}', 'template: :1: unexpected <.> in operand'],
  ['{{$x.}}', 'template: :1: undefined variable "$x"'],
];

for (const [input, message] of errors) {
  test(`${JSON.stringify(input)} is a syntax error: ${message}`, () => {
    assert.throws(
      () => parse(input),
      (e: unknown) => e instanceof TemplateError && e.phase === 'parse' && e.message === message,
    );
  });
}

test('redefining an empty template is allowed and the later body wins', () => {
  const trees = parse('{{define "x"}}{{end}}{{define "x"}}y{{end}}');
  assert.equal(nodeString(trees.get('x')!.root), '"y"');
});

test('defining the same template twice in one text is an error', () => {
  assert.throws(() => parse('{{define "x"}}a{{end}}{{define "x"}}b{{end}}'), {
    message: 'template: :1: template: multiple definition of template "x"',
  });
});

test('break is an identifier when a function of that name exists', () => {
  const trees = parseTrees('', '{{range .X}}{{break 20}}{{end}}', { hasFunction: (n) => n === 'break' });
  assert.equal(nodeString(trees.get('')!.root), '{{range .X}}{{break 20}}{{end}}');
});
