import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildRemap,
  createIdMap,
  nextRangeStart,
  parseAccounts,
  parseRemappedRoot,
  parseSubIdFile,
  rangesOf,
  resolveUsernsRemap,
} from './userns-remap.ts';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'alice:x:1000:1000::/home/alice:/bin/sh',
  'bob:x:1001:1000::/home/bob:/bin/sh',
  'dockremap:x:998:998::/nonexistent:/bin/false',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'alice:x:1000:', 'staff:x:50:', 'dockremap:x:998:', ''].join('\n');
const passwd = parseAccounts(PASSWD);
const groups = parseAccounts(GROUP);

test('subuid/subgid files: name:start:count lines, comments and blank lines skipped', () => {
  const text = '# ranges\n\nalice:100000:65536\n  1000:300000:10  \nbob:200000:65536\n';
  assert.deepEqual(parseSubIdFile(text, '/etc/subuid'), [
    { owner: 'alice', start: 100000, length: 65536 },
    { owner: '1000', start: 300000, length: 10 },
    { owner: 'bob', start: 200000, length: 65536 },
  ]);
});

test("a malformed subuid line is an error with dockerd's wording", () => {
  assert.throws(
    () => parseSubIdFile('alice:100000\n', '/etc/subuid'),
    /cannot parse subuid\/gid information: Format not correct for \/etc\/subuid file/,
  );
  assert.throws(() => parseSubIdFile('alice:x:5\n', '/etc/subgid'), /string to int conversion failed/);
});

test('ranges of an owner match its name or its numeric id', () => {
  const all = parseSubIdFile('alice:100000:65536\n1000:300000:10\nbob:200000:65536\n', 'f');
  assert.deepEqual(
    rangesOf(all, 'alice', 1000).map((r) => r.start),
    [100000, 300000],
  );
  assert.deepEqual(
    rangesOf(all, 'bob', 1001).map((r) => r.start),
    [200000],
  );
});

test('several ranges become several map entries, sorted by start, container ids running on from 0', () => {
  const map = createIdMap([
    { owner: 'a', start: 500000, length: 10 },
    { owner: 'a', start: 100000, length: 65536 },
    { owner: 'a', start: 300000, length: 1000 },
  ]);
  assert.deepEqual(map, [
    { containerID: 0, hostID: 100000, size: 65536 },
    { containerID: 65536, hostID: 300000, size: 1000 },
    { containerID: 66536, hostID: 500000, size: 10 },
  ]);
});

test('--userns-remap forms: user, user:group, uid, uid:gid', () => {
  assert.deepEqual(parseRemappedRoot('alice', passwd, groups), { user: 'alice', group: 'alice' });
  assert.deepEqual(parseRemappedRoot('bob:staff', passwd, groups), { user: 'bob', group: 'staff' });
  assert.deepEqual(parseRemappedRoot('1000', passwd, groups), { user: 'alice', group: 'alice' });
  assert.deepEqual(parseRemappedRoot('1001:50', passwd, groups), { user: 'bob', group: 'staff' });
  assert.deepEqual(parseRemappedRoot('alice:50', passwd, groups), { user: 'alice', group: 'staff' });
});

test('`default` is dockremap, to be created when it does not exist; root turns remapping off', () => {
  assert.deepEqual(parseRemappedRoot('default', passwd, groups), { user: 'dockremap', group: 'dockremap' });
  const without = parseAccounts('root:x:0:0::/root:/bin/sh\n');
  assert.equal(parseRemappedRoot('default', without, without), 'create-default');
  assert.equal(parseRemappedRoot('root', passwd, groups), undefined);
  assert.equal(parseRemappedRoot('0', passwd, groups), undefined);
});

test("unknown users and groups and bad forms are refused with dockerd's messages", () => {
  assert.throws(
    () => parseRemappedRoot('nobody-here', passwd, groups),
    /Error during uid lookup for "nobody-here"/,
  );
  assert.throws(() => parseRemappedRoot('bob', passwd, groups), /Error during gid lookup for "bob"/);
  assert.throws(() => parseRemappedRoot('4242', passwd, groups), /Uid 4242 has no entry in \/etc\/passwd/);
  assert.throws(() => parseRemappedRoot('1001', passwd, groups), /Gid 1001 has no entry in \/etc\/group/);
  assert.throws(() => parseRemappedRoot('alice:nogroup', passwd, groups), /groupname lookup for "nogroup"/);
  assert.throws(
    () => parseRemappedRoot('a:b:c', passwd, groups),
    /Invalid user\/group specification in --userns-remap: "a:b:c"/,
  );
});

test('the maps come from the user (subuid) and the group (subgid), by name or id; the root pair is id 0 mapped', () => {
  const remap = buildRemap(
    { user: 'bob', group: 'staff' },
    {
      passwd: PASSWD,
      group: GROUP,
      subuid: 'bob:400000:65536\n1001:200000:1000\n',
      subgid: '50:600000:65536\n',
    },
  );
  assert.deepEqual(remap.idMap.uidMap, [
    { containerID: 0, hostID: 200000, size: 1000 },
    { containerID: 1000, hostID: 400000, size: 65536 },
  ]);
  assert.deepEqual(remap.idMap.gidMap, [{ containerID: 0, hostID: 600000, size: 65536 }]);
  assert.deepEqual(remap.root, { uid: 200000, gid: 600000 });
});

test('a user or group without subordinate ranges is refused', () => {
  const texts = { passwd: PASSWD, group: GROUP, subuid: 'alice:100000:65536\n', subgid: '' };
  assert.throws(
    () => buildRemap({ user: 'bob', group: 'staff' }, texts),
    /No subuid ranges found for user "bob"/,
  );
  assert.throws(
    () => buildRemap({ user: 'alice', group: 'staff' }, texts),
    /No subgid ranges found for group "staff"/,
  );
});

test("dockremap's new range starts at 100000, past any range it would overlap", () => {
  assert.equal(nextRangeStart([]), 100000);
  assert.equal(nextRangeStart([{ owner: 'a', start: 100000, length: 65536 }]), 165536);
  assert.equal(
    nextRangeStart([
      { owner: 'b', start: 165536, length: 65536 },
      { owner: 'a', start: 100000, length: 65536 },
    ]),
    231072,
  );
  assert.equal(nextRangeStart([{ owner: 'a', start: 150000, length: 10 }]), 150010);
  assert.equal(nextRangeStart([{ owner: 'a', start: 300000, length: 10 }]), 100000);
});

test('resolveUsernsRemap reads the four files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'remap-'));
  try {
    const files = {
      passwd: join(dir, 'passwd'),
      group: join(dir, 'group'),
      subuid: join(dir, 'subuid'),
      subgid: join(dir, 'subgid'),
    };
    await writeFile(files.passwd, PASSWD);
    await writeFile(files.group, GROUP);
    await writeFile(files.subuid, 'alice:100000:65536\n');
    await writeFile(files.subgid, 'alice:100000:65536\n');
    const remap = await resolveUsernsRemap('alice', files);
    assert.equal(remap?.user, 'alice');
    assert.deepEqual(remap?.root, { uid: 100000, gid: 100000 });
    assert.equal(await resolveUsernsRemap('root', files), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
