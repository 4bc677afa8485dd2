import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGitUrl } from './remote-context.ts';
import { checkChecksumFlag, downloadName } from './remote-source.ts';

test('a download is named by the URL path, then Content-Disposition, else not at all', () => {
  assert.equal(downloadName(new URL('http://h/a/b%20c.txt?x=1'), null), 'b c.txt');
  assert.equal(downloadName(new URL('http://h/dir/'), 'attachment; filename="f.tgz"'), 'f.tgz');
  assert.equal(downloadName(new URL('http://h/dir/'), 'attachment; filename=plain.txt'), 'plain.txt');
  assert.equal(downloadName(new URL('http://h/'), 'attachment; filename="sub/"'), '');
  assert.equal(downloadName(new URL('http://h'), null), '');
});

test('--checksum is checked as BuildKit does', () => {
  const sum = `sha256:${'a'.repeat(64)}`;
  checkChecksumFlag(sum, 'ADD', ['http://h/f']);
  assert.throws(() => checkChecksumFlag(sum, 'COPY', ['http://h/f']), /checksum can't be specified for COPY/);
  assert.throws(() => checkChecksumFlag(sum, 'ADD', ['http://h/f', 'x']), /for multiple sources/);
  assert.throws(() => checkChecksumFlag(sum, 'ADD', ['f']), /checksum requires HTTP\(S\) or Git sources/);
  assert.throws(() => checkChecksumFlag('abc', 'ADD', ['http://h/f']), /invalid checksum digest format/);
  assert.throws(() => checkChecksumFlag('md5:abc', 'ADD', ['http://h/f']), /unsupported digest algorithm/);
  assert.throws(
    () => checkChecksumFlag('sha256:abc', 'ADD', ['http://h/f']),
    /invalid checksum digest length/,
  );
});

test('git contexts are recognised as moby urlutil.IsGitURL does', () => {
  for (const u of [
    'git://h/r',
    'git@github.com:a/b.git',
    'github.com/a/b',
    'https://h/r.git',
    'https://h/r.git#main:sub',
  ])
    assert.equal(isGitUrl(u), true, u);
  for (const u of ['https://h/r', 'http://h/ctx.tar', 'file:///r.git', 'r.git'])
    assert.equal(isGitUrl(u), false, u);
});
