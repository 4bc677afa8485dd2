// Behaviour of the public API beyond the Go conformance table: Go features newer
// than the oracle (range over int, else with), JS-specific data (methods, null),
// options and error objects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goJson, parseTemplate, TemplateError } from './index.ts';

const render = (text: string, data?: unknown) => parseTemplate(text).execute(data);

test('a syntax error throws a TemplateError with phase parse and Go text', () => {
  assert.throws(
    () => parseTemplate('{{foo}}'),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.phase === 'parse' &&
      e.message === 'template: :1: function "foo" not defined',
  );
});

test('an execution error throws a TemplateError with phase exec and the failing node', () => {
  const t = parseTemplate('ok {{index .A 5}}');
  assert.throws(
    () => t.execute({ A: [1] }),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.phase === 'exec' &&
      e.message ===
        'template: :1:5: executing "" at <index .A 5>: error calling index: index out of range: 5',
  );
});

test('executePartial keeps the output written before an error', () => {
  const r = parseTemplate('a{{.X}}b{{len 1}}c').executePartial({ X: 1 });
  assert.equal(r.output, 'a1b');
  assert.equal(r.error?.phase, 'exec');
});

test('the template name option appears in messages', () => {
  assert.throws(() => parseTemplate('{{end}}', { name: 'ps' }), {
    message: 'template: ps:1: unexpected {{end}}',
  });
});

test('a function-valued property is called like a Go method, with arguments', () => {
  const row = { Labels: { a: '1', b: '2' }, Label: (k: unknown) => (k === 'a' ? 'one' : '') };
  assert.equal(render('{{.Label "a"}}|{{.Label "b"}}', row), 'one|');
});

test('methods on a class prototype are callable; Object.prototype members are not fields', () => {
  class Ctx {
    readonly name = 'web';
    Names(): string {
      return `/${this.name}`;
    }
    Fail(): string {
      throw new Error('boom');
    }
  }
  assert.equal(render('{{.Names}} {{.name}} {{.toString}}', new Ctx()), '/web web <no value>');
  assert.throws(() => render('{{.Fail}}', new Ctx()), {
    message: 'template: :1:2: executing "" at <.Fail>: error calling Fail: boom',
  });
});

test('extra functions receive evaluated arguments and may override builtins', () => {
  const t = parseTemplate('{{add 1 .N}} {{len "x"}}', {
    funcs: { add: (a, b) => (a as number) + (b as number), len: () => 'mine' },
  });
  assert.equal(t.execute({ N: 2 }), '3 mine');
});

test('a function named break turns the keyword into a call', () => {
  assert.equal(parseTemplate('{{break}}', { funcs: { break: () => 'b' } }).execute({}), 'b');
});

test('missingKey error reports the missing map key', () => {
  const t = parseTemplate('{{.A}}', { missingKey: 'error' });
  assert.throws(() => t.execute({}), {
    message: 'template: :1:2: executing "" at <.A>: map has no entry for key "A"',
  });
});

test('null and undefined data print <no value>', () => {
  assert.equal(render('{{.}}|{{.X}}', null), '<no value>|<no value>');
  assert.equal(render('{{.}}'), '<no value>');
});

test('range over an integer counts from zero (Go 1.22)', () => {
  assert.equal(
    render('{{range 3}}{{.}}{{end}}|{{range $i := 2}}{{$i}}{{end}}|{{range 0}}x{{else}}none{{end}}'),
    '012|01|none',
  );
});

test('else with chains like else if (Go 1.23)', () => {
  assert.equal(render('{{with .A}}a{{else with .B}}b{{.}}{{else}}c{{end}}', { B: 'x' }), 'bx');
  assert.equal(render('{{with .A}}a{{else with .B}}b{{else}}c{{end}}', {}), 'c');
});

test('executeTemplate runs a defined template and definedTemplates lists the set', () => {
  const t = parseTemplate('top{{define "row"}}[{{.}}]{{end}}{{block "b" .}}B{{end}}');
  assert.equal(t.executeTemplate('row', 7), '[7]');
  assert.deepEqual(t.definedTemplates(), ['', 'b', 'row']);
  assert.throws(() => t.executeTemplate('nope', 1), {
    message: 'template: nope: "nope" is an incomplete or empty template',
  });
});

test("unbounded template recursion fails with Go's depth message instead of crashing", () => {
  const t = parseTemplate('{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}');
  assert.throws(
    () => t.execute(1),
    (e: unknown) => e instanceof TemplateError && /exceeded maximum template depth/.test(e.message),
  );
});

test('json prints undefined as null and keeps <, > and & unescaped like docker', () => {
  assert.equal(render('{{json .Missing}} {{json .}}', { a: '<&>' }), 'null {"a":"<&>"}');
});

test('a template is reusable across many rows', () => {
  const t = parseTemplate('{{.ID}}\t{{join .Names ","}}');
  const out = Array.from({ length: 1000 }, (_, i) => t.execute({ ID: i, Names: [`n${i}`, 'x'] }));
  assert.equal(out[999], '999\tn999,x');
});

test('numbers print like Go: ints without decimals, floats with %v', () => {
  assert.equal(
    render('{{.A}} {{.B}} {{.C}} {{.D}} {{.E}}', { A: 3, B: 0.5, C: 1e21, D: 1.5e-7, E: -0 }),
    '3 0.5 1e+21 1.5e-07 0',
  );
});

test('goJson escapes <, > and & only when asked, like json.Marshal for inspect --format json', () => {
  assert.equal(goJson({ a: '<IN MEMORY>&' }), '{"a":"<IN MEMORY>&"}');
  assert.equal(goJson({ a: '<IN MEMORY>&' }, true), '{"a":"\\u003cIN MEMORY\\u003e\\u0026"}');
  assert.equal(goJson('\u2028'), '"\\u2028"');
});
