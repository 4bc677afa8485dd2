// formatTable against the real docker CLI 28.2.2: every expected output below was
// printed by `docker context ls --format FORMAT` for its single "default" context.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable, isTableFormat, TemplateError, templateTextOf } from './index.ts';

const context = {
  Current: true,
  Description: 'Current DOCKER_HOST based configuration',
  DockerEndpoint: 'unix:///var/run/docker.sock',
  Error: '',
  Name: 'default',
};
// docker/cli's context list headers; it has none for .Current, so that column shows <no value>.
const headers = {
  Name: 'NAME',
  Description: 'DESCRIPTION',
  DockerEndpoint: 'DOCKER ENDPOINT',
  Error: 'ERROR',
};

// Formats are written as a user types them in single quotes: `\t` is a backslash and a t.
const rows: [format: string, output: string][] = [
  [
    'table {{.Name}}\\t{{.Current}}\\t{{.DockerEndpoint}}',
    'NAME      <no value>   DOCKER ENDPOINT\ndefault   true         unix:///var/run/docker.sock\n',
  ],
  [
    'table {{.Name}}\\t{{.Description}}',
    'NAME      DESCRIPTION\ndefault   Current DOCKER_HOST based configuration\n',
  ],
  [
    'table {{upper .Name}}\\t{{json .Current}}|{{lower .Description}}',
    'NAME      \nDEFAULT   true|current docker_host based configuration\n',
  ],
  [
    'table {{pad .Name 2 2}}|{{truncate .Description 4}}\\t{{.Error}}x',
    '  NAME  |DESCRIPTION   ERRORx\n  default  |Curr       x\n',
  ],
  [
    'table {{.Name}}\\n{{.Description}}',
    'NAME\nDESCRIPTION\ndefault\nCurrent DOCKER_HOST based configuration\n',
  ],
  ['{{.Name}}\\t{{.Current}}', 'default\ttrue\n'],
  [
    'json',
    '{"Current":true,"Description":"Current DOCKER_HOST based configuration","DockerEndpoint":"unix:///var/run/docker.sock","Error":"","Name":"default"}\n',
  ],
  [
    'table {{json .}}',
    '\n{"Current":true,"Description":"Current DOCKER_HOST based configuration","DockerEndpoint":"unix:///var/run/docker.sock","Error":"","Name":"default"}\n',
  ],
  ['  {{.Name}}  ', 'default\n'],
  [
    'table {{title .Name}}\\t{{split .DockerEndpoint ":"}}\\t{{join (split .DockerEndpoint ":") "-"}}',
    'NAME      DOCKER ENDPOINT                 DOCKER ENDPOINT\nDefault   [unix ///var/run/docker.sock]   unix-///var/run/docker.sock\n',
  ],
  ['tablex{{.Name}}', 'xNAME\nxdefault\n'],
];

for (const [format, output] of rows) {
  test(`--format ${JSON.stringify(format)} prints what docker prints`, () => {
    assert.equal(formatTable(format, [context], headers), output);
  });
}

test('a table with several rows aligns every column to its widest cell', () => {
  const ps = [
    { ID: '4c01db0b339c', Image: 'busybox', Names: 'web' },
    { ID: 'd7886598dbe2', Image: 'registry.local/app:1.2.3', Names: 'db' },
  ];
  const out = formatTable('table {{.ID}}\\t{{.Image}}\\t{{.Names}}', ps, {
    ID: 'CONTAINER ID',
    Image: 'IMAGE',
    Names: 'NAMES',
  });
  assert.equal(
    out,
    'CONTAINER ID   IMAGE                      NAMES\n' +
      '4c01db0b339c   busybox                    web\n' +
      'd7886598dbe2   registry.local/app:1.2.3   db\n',
  );
});

test('a table with no rows still prints its header', () => {
  assert.equal(
    formatTable('table {{.ID}}\\t{{.Names}}', [], { ID: 'CONTAINER ID', Names: 'NAMES' }),
    'CONTAINER ID   NAMES\n',
  );
});

test('a plain format with no rows prints nothing', () => {
  assert.equal(formatTable('{{.ID}}', [], {}), '');
});

test('a parse error is reported with docker\'s "template parsing error" prefix', () => {
  assert.throws(
    () => formatTable('{{.Name', [context], headers),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.phase === 'parse' &&
      e.message === 'template parsing error: template: :1: unclosed action',
  );
});

test('an execution error is reported with the same prefix and phase exec', () => {
  assert.throws(
    () => formatTable('{{.Name.X}}', [context], headers),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.phase === 'exec' &&
      e.message ===
        'template parsing error: template: :1:7: executing "" at <.Name.X>: can\'t evaluate field X in type interface {}',
  );
});

test('isTableFormat checks only the "table" prefix, as docker does', () => {
  assert.equal(isTableFormat('table {{.ID}}'), true);
  assert.equal(isTableFormat('tablex'), true);
  assert.equal(isTableFormat('{{.ID}} table'), false);
});

test('templateTextOf strips "table", trims spaces and expands \\t and \\n', () => {
  assert.equal(templateTextOf('table  {{.A}}\\t{{.B}}\\n '), '{{.A}}\t{{.B}}\n');
  assert.equal(templateTextOf('json'), '{{json .}}');
  assert.equal(templateTextOf('\t{{.A}}'), '\t{{.A}}');
});

test('extra functions passed in options run for the header row too', () => {
  const out = formatTable('table {{exclaim .Name}}', [context], headers, {
    funcs: { exclaim: (s) => `${String(s)}!` },
  });
  assert.equal(out, 'NAME!\ndefault!\n');
});
