import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BLOCK_SIZE, decodeHeaderBlock, parseNumeric, TarFormatError } from './header.ts';
import { formatPaxRecord, formatPaxRecords, formatPaxTime, parsePaxRecords } from './pax.ts';
import { readEntryBody, readTar, TarTruncatedError } from './read.ts';
import { encodeHeader, packTar, splitUstarPath, type TarWriteEntry } from './write.ts';

async function collect(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
  const out: { name: string; type: string; body: Buffer; header: Awaited<ReturnType<typeof first>> }[] = [];
  const src = (async function* () {
    for await (const c of chunks) yield c;
  })();
  for await (const e of readTar(src))
    out.push({ name: e.header.name, type: e.header.type, body: await readEntryBody(e), header: e.header });
  return out;
}
async function first() {
  for await (const e of readTar([Buffer.alloc(0)])) return e.header;
  throw new Error('none');
}

async function bytes(entries: TarWriteEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of packTar(entries)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Splits a buffer into chunks of `n` bytes, to exercise chunk boundaries. */
function* chunked(b: Buffer, n: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
}

describe('numeric fields', () => {
  const table: [string, number[] | string, number][] = [
    ['octal with NUL', '0000644\0', 0o644],
    ['octal with spaces', '  644 \0', 0o644],
    ['empty is zero', '\0\0\0\0\0\0\0\0', 0],
    ['full-width octal', '77777777777', 0o77777777777],
    ['base-256 positive', [0x80, 0, 0, 0, 0, 0, 0x01, 0x00], 256],
    ['base-256 large size', [0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0], 2 ** 33],
    ['base-256 negative', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -1],
  ];
  for (const [what, input, want] of table) {
    test(`${what} parses to ${want}`, () => {
      const b = typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input);
      assert.equal(parseNumeric(b), want);
    });
  }
  test('a non-octal digit is a format error', () => {
    assert.throws(() => parseNumeric(Buffer.from('0000899\0')), TarFormatError);
  });
});

describe('pax records', () => {
  test('record lengths count themselves across digit boundaries', () => {
    for (let n = 0; n < 2000; n += 7) {
      const rec = formatPaxRecord('k', 'v'.repeat(n));
      assert.equal(Number(rec.toString('latin1').split(' ')[0]), rec.length);
    }
  });
  test('binary values with newlines, "=" and invalid UTF-8 round-trip', () => {
    const value = Buffer.from([0x80, 0xff, 0x0a, 0x3d, 0x00, 0x20, 0xc3]);
    const parsed = parsePaxRecords(formatPaxRecords(new Map([['SCHILY.xattr.security.capability', value]])));
    assert.deepEqual(parsed.get('SCHILY.xattr.security.capability'), value);
  });
  test('a record whose length points past the data is a format error', () => {
    assert.throws(() => parsePaxRecords(Buffer.from('30 path=abc\n')), TarFormatError);
  });
  const times: [number, string][] = [
    [1700000000, '1700000000'],
    [1700000000.5, '1700000000.5'],
    [1.000000001, '1.000000001'],
    [-1.5, '-1.5'],
  ];
  for (const [t, s] of times) test(`time ${t} formats as ${s}`, () => assert.equal(formatPaxTime(t), s));
});

describe('header encoding', () => {
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
  const table: [string, Parameters<typeof encodeHeader>[0], { blocks: number; pax?: string[] }][] = [
    ['a short ASCII name is a single ustar block', { name: 'a/b', type: 'file', size: 3 }, { blocks: 1 }],
    ['a long splittable name uses the ustar prefix', { name: long, type: 'file' }, { blocks: 1 }],
    [
      'a long unsplittable name gets a pax path',
      { name: 'x'.repeat(150), type: 'file' },
      { blocks: 3, pax: ['path'] },
    ],
    ['a non-ASCII name gets a pax path', { name: 'héllo', type: 'file' }, { blocks: 3, pax: ['path'] }],
    [
      'a long link target gets a pax linkpath',
      { name: 'l', type: 'symlink', linkname: 't'.repeat(101) },
      { blocks: 3, pax: ['linkpath'] },
    ],
    [
      'an uid above 2097151 gets a pax uid',
      { name: 'u', type: 'file', uid: 2097152 },
      { blocks: 3, pax: ['uid'] },
    ],
    [
      'sub-second mtime gets a pax mtime',
      { name: 'm', type: 'file', mtime: 1.5 },
      { blocks: 3, pax: ['mtime'] },
    ],
    [
      'xattrs become SCHILY.xattr records',
      { name: 'x', type: 'file', xattrs: { 'user.a': Buffer.from('1') } },
      { blocks: 3, pax: ['SCHILY.xattr.user.a'] },
    ],
    [
      'an over-long name with xattrs puts both in pax',
      { name: long, type: 'file', xattrs: { 'user.a': Buffer.from('1') } },
      { blocks: 3, pax: ['SCHILY.xattr.user.a', 'path'] },
    ],
  ];
  for (const [what, h, want] of table) {
    test(what, () => {
      const b = encodeHeader(h);
      assert.equal(b.length, want.blocks * BLOCK_SIZE);
      if (want.pax) {
        const px = decodeHeaderBlock(b.subarray(0, BLOCK_SIZE));
        assert.equal(px.typeflag, 'x');
        const recs = parsePaxRecords(b.subarray(BLOCK_SIZE, BLOCK_SIZE + px.size));
        assert.deepEqual([...recs.keys()], want.pax);
      }
      const main = decodeHeaderBlock(b.subarray(b.length - BLOCK_SIZE));
      if (!want.pax?.includes('path')) assert.equal(main.name, h.name);
    });
  }
  test('splitUstarPath follows Go: no split when the last part is over 100 bytes', () => {
    assert.deepEqual(splitUstarPath(`a/${'b'.repeat(100)}`), ['a', 'b'.repeat(100)]);
    assert.equal(splitUstarPath(`a/${'b'.repeat(101)}`), undefined);
    assert.equal(splitUstarPath('short'), undefined);
  });
  test('the checksum field is six octal digits, NUL, space (as Go writes it)', () => {
    const b = encodeHeader({ name: 'a', type: 'file' });
    assert.match(b.toString('latin1', 148, 156), /^[0-7]{6}\0 $/);
    assert.equal(b.toString('latin1', 257, 265), 'ustar\x0000');
  });
});

describe('round trip through packTar and readTar', () => {
  const xattr = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff]);
  const entries: TarWriteEntry[] = [
    { header: { name: 'dir/', type: 'directory', mode: 0o1755, uid: 1, gid: 2, mtime: 1700000000 } },
    {
      header: { name: 'dir/file', type: 'file', mode: 0o4755, uname: 'root', gname: 'wheel' },
      body: 'hello world',
    },
    { header: { name: `dir/${'n'.repeat(200)}`, type: 'file', size: 0 } },
    { header: { name: 'dir/link', type: 'symlink', linkname: '../target' } },
    { header: { name: 'dir/hard', type: 'hardlink', linkname: 'dir/file' } },
    { header: { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 } },
    { header: { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 } },
    { header: { name: 'fifo', type: 'fifo' } },
    {
      header: {
        name: 'caps',
        type: 'file',
        xattrs: { 'security.capability': xattr, 'user.empty': Buffer.alloc(0) },
      },
      body: Buffer.alloc(1000, 7),
    },
    {
      header: { name: 'big-uid', type: 'file', uid: 5_000_000, gid: 3_000_000, mtime: 1700000000.25 },
      body: 'x',
    },
    { header: { name: 'ünïcödé/ファイル', type: 'file' }, body: Buffer.alloc(512, 1) },
  ];

  for (const chunk of [1, 7, 512, 100_000]) {
    test(`entries and bodies survive when read in ${chunk}-byte chunks`, async () => {
      const got = await collect(chunked(await bytes(entries), chunk));
      assert.deepEqual(
        got.map((e) => e.name),
        entries.map((e) => e.header.name),
      );
      const byName = new Map(got.map((e) => [e.name, e]));
      assert.equal(byName.get('dir/file')!.body.toString(), 'hello world');
      assert.equal(byName.get('dir/file')!.header.mode, 0o4755);
      assert.equal(byName.get('dir/file')!.header.uname, 'root');
      assert.equal(byName.get('dir/')!.header.mode, 0o1755);
      assert.equal(byName.get('dir/')!.header.type, 'directory');
      assert.equal(byName.get('dir/link')!.header.linkname, '../target');
      assert.equal(byName.get('dir/hard')!.header.type, 'hardlink');
      assert.equal(byName.get('dev/null')!.header.devminor, 3);
      assert.equal(byName.get('dev/sda')!.header.type, 'block');
      assert.equal(byName.get('fifo')!.header.type, 'fifo');
      assert.deepEqual(byName.get('caps')!.header.xattrs.get('security.capability'), xattr);
      assert.deepEqual(
        byName.get('caps')!.header.xattrs.get('user.empty'),
        undefined,
        'an empty pax value means unset',
      );
      assert.deepEqual(byName.get('caps')!.body, Buffer.alloc(1000, 7));
      assert.equal(byName.get('big-uid')!.header.uid, 5_000_000);
      assert.equal(byName.get('big-uid')!.header.gid, 3_000_000);
      assert.equal(byName.get('big-uid')!.header.mtime, 1700000000.25);
      assert.deepEqual(byName.get('ünïcödé/ファイル')!.body, Buffer.alloc(512, 1));
    });
  }

  test('identical entries give identical bytes', async () => {
    assert.deepEqual(await bytes(entries), await bytes(entries));
  });

  test('bodies left unread are skipped', async () => {
    const names: string[] = [];
    for await (const e of readTar(chunked(await bytes(entries), 300))) names.push(e.header.name);
    assert.equal(names.length, entries.length);
  });

  test('a body read halfway is skipped correctly and then destroyed', async () => {
    const data = await bytes([
      { header: { name: 'a', type: 'file' }, body: Buffer.alloc(300_000, 1) },
      { header: { name: 'b', type: 'file' }, body: 'b' },
    ]);
    const seen: string[] = [];
    for await (const e of readTar(chunked(data, 4096))) {
      seen.push(e.header.name);
      if (e.header.name === 'a') {
        for await (const _ of e.body) break;
        assert.ok(e.body.destroyed);
      } else assert.equal((await readEntryBody(e)).toString(), 'b');
    }
    assert.deepEqual(seen, ['a', 'b']);
  });

  test('a body longer than its header size is an error', async () => {
    await assert.rejects(bytes([{ header: { name: 'a', type: 'file', size: 1 }, body: 'ab' }]), /longer/);
  });
  test('a body shorter than its header size is an error', async () => {
    await assert.rejects(
      bytes([{ header: { name: 'a', type: 'file', size: 3 }, body: 'ab' }]),
      /header says 3/,
    );
  });
});

describe('archive ends and damage', () => {
  const one = () => bytes([{ header: { name: 'a', type: 'file' }, body: 'abc' }]);

  test('end of input on a header boundary ends the archive (as Go does)', async () => {
    const b = await one();
    assert.equal((await collect([b.subarray(0, 1024)])).length, 1);
    assert.equal((await collect([b.subarray(0, 1024 + 512)])).length, 1);
  });
  for (const cut of [10, 512 + 1, 600, 1024 + 100]) {
    test(`end of input after ${cut} bytes is a truncation error`, async () => {
      const b = await one();
      await assert.rejects(collect([b.subarray(0, cut)]), TarTruncatedError);
    });
  }
  test('a corrupted header fails its checksum', async () => {
    const b = Buffer.from(await one());
    b[0] = 0x41;
    await assert.rejects(collect([b]), /checksum/);
  });
  test('data after the end marker is drained, not parsed', async () => {
    const b = Buffer.concat([await one(), Buffer.from('garbage'.repeat(1000))]);
    assert.equal((await collect([b])).length, 1);
  });
});

describe('extensions', () => {
  const block = (name: string, typeflag: string, size: number) =>
    encodeHeader({ name, type: 'unknown', typeflag, size, mode: 0 });
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

  test("GNU 'L' and 'K' entries name the next entry", async () => {
    const name = `${'a'.repeat(300)}\0`;
    const link = `${'b'.repeat(200)}\0`;
    const data = Buffer.concat([
      block('././@LongLink', 'L', name.length),
      pad(Buffer.from(name)),
      block('././@LongLink', 'K', link.length),
      pad(Buffer.from(link)),
      encodeHeader({ name: 'short', type: 'symlink', linkname: 'short' }),
      Buffer.alloc(1024),
    ]);
    const [e] = await collect([data]);
    assert.equal(e!.name, 'a'.repeat(300));
    assert.equal(e!.header.linkname, 'b'.repeat(200));
  });

  test("a global 'g' header applies to every later entry and 'x' overrides it", async () => {
    const g = formatPaxRecords(
      new Map([
        ['uname', 'global'],
        ['SCHILY.xattr.user.g', 'G'],
      ]),
    );
    const x = formatPaxRecords(new Map([['uname', 'local']]));
    const data = Buffer.concat([
      block('pax_global_header', 'g', g.length),
      pad(g),
      block('PaxHeaders/a', 'x', x.length),
      pad(x),
      encodeHeader({ name: 'a', type: 'file' }),
      encodeHeader({ name: 'b', type: 'file' }),
      Buffer.alloc(1024),
    ]);
    const [a, b] = await collect([data]);
    assert.equal(a!.header.uname, 'local');
    assert.equal(b!.header.uname, 'global');
    assert.deepEqual(b!.header.xattrs.get('user.g'), Buffer.from('G'));
  });

  test('a V7 regular entry whose name ends in / is a directory', async () => {
    const h = Buffer.from(encodeHeader({ name: 'd/', type: 'unknown', typeflag: '\0' }));
    h.fill(0, 257, 265); // no magic: V7
    let sum = 0;
    h.fill(0x20, 148, 156);
    for (const c of h) sum += c;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const [e] = await collect([Buffer.concat([h, Buffer.alloc(1024)])]);
    assert.equal(e!.type, 'directory');
  });
});
