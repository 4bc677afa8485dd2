/**
 * User namespaces through the real docker CLI: berthd --userns-remap=<user> maps container ids
 * onto the user's /etc/subuid and /etc/subgid ranges (several ranges, several map entries),
 * container root is the remapped uid on the host, image files look root-owned inside, what the
 * container writes is owned by remapped ids on the host (upper dir, named volume), commit, cp
 * and build keep container ids, containers sharing another's namespaces join its user namespace,
 * --userns=host opts out, and Docker's conflicts (--privileged, --net=host, --pid=host) are
 * refused. Without remapping --userns=host is accepted and other modes refused; `default`
 * creates dockremap.
 *
 * The test adds its own user and group (berth-test-<random>) and subordinate ranges to the
 * host's /etc files and takes exactly those lines out again, even on failure; the `default` test
 * restores the /etc files useradd/usermod touch (and their `-` backups) exactly.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type TestDaemon,
  canRunRoot,
  docker,
  makeBusybox,
  run as run_,
  startDaemon,
} from '../helpers/daemon.ts';

const USER = `berth-test-${randomBytes(3).toString('hex')}`;
const ETC = ['/etc/passwd', '/etc/group', '/etc/subuid', '/etc/subgid'];
/** Two uid ranges, written higher first (berthd sorts them), and one gid range. */
const UID_A = 1_200_000;
const UID_B = 1_400_000;
const GID_A = 1_300_000;

async function addTestUser(): Promise<void> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const group = await readFile('/etc/group', 'utf8');
  const taken = new Set([...passwd.split('\n'), ...group.split('\n')].map((l) => l.split(':')[2]));
  let id = 59000;
  while (taken.has(String(id))) id++;
  await appendFile('/etc/passwd', `${USER}:x:${id}:${id}::/nonexistent:/bin/false\n`);
  await appendFile('/etc/group', `${USER}:x:${id}:\n`);
  await appendFile('/etc/subuid', `${USER}:${UID_B}:1000\n${USER}:${UID_A}:65536\n`);
  await appendFile('/etc/subgid', `${id}:${GID_A}:65536\n`);
}

/** Takes out exactly the lines the test added (other lines, even new ones, stay). */
async function removeTestUser(): Promise<void> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const id = passwd
    .split('\n')
    .find((l) => l.startsWith(`${USER}:`))
    ?.split(':')[2];
  for (const file of ETC) {
    const text = await readFile(file, 'utf8');
    const kept = text
      .split('\n')
      .filter(
        (l) => !l.startsWith(`${USER}:`) && !(file === '/etc/subgid' && id && l === `${id}:${GID_A}:65536`),
      );
    if (kept.length !== text.split('\n').length) await writeFile(file, kept.join('\n'));
  }
}

describe('user namespaces (--userns-remap)', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  const run = (...args: string[]) => {
    const script = args.pop() ?? '';
    return docker(d, 'run', '--rm', ...args, 'busybox', 'sh', '-c', script);
  };
  before(async () => {
    await addTestUser();
    // The remapped root must be able to search every directory above the data root.
    d = await startDaemon({ args: ['--userns-remap', USER], dirMode: 0o711 });
    await makeBusybox(d);
  });
  after(async () => {
    try {
      await d?.stop();
    } finally {
      await removeTestUser();
    }
    for (const file of ETC) assert.ok(!(await readFile(file, 'utf8')).includes(USER), `${file} restored`);
  });

  test('uid and gid maps: one entry per subordinate range, sorted, container ids from 0', async () => {
    const r = await run('cat /proc/self/uid_map /proc/self/gid_map');
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(rows, [
      [0, UID_A, 65536],
      [65536, UID_B, 1000],
      [0, GID_A, 65536],
    ]);
  });

  test('container root is the remapped uid on the host; image files look root-owned inside', async () => {
    const c = await docker(d, 'run', '-d', '--name', 'remapped', 'busybox', 'sleep', '60');
    assert.equal(c.code, 0, c.stderr);
    const pid = (await docker(d, 'inspect', '-f', '{{.State.Pid}}', 'remapped')).stdout.trim();
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    assert.match(status, new RegExp(`^Uid:\\t${UID_A}\\t${UID_A}\\t${UID_A}\\t${UID_A}$`, 'm'));
    assert.match(status, new RegExp(`^Gid:\\t${GID_A}\\t${GID_A}\\t${GID_A}\\t${GID_A}$`, 'm'));
    const inside = await docker(
      d,
      'exec',
      'remapped',
      'sh',
      '-c',
      'id -u; stat -c "%u:%g" / /bin/sh /etc/passwd /etc/hosts',
    );
    assert.equal(inside.code, 0, inside.stderr);
    assert.deepEqual(inside.stdout.trim().split('\n'), ['0', '0:0', '0:0', '0:0', '0:0']);
    // berthd killed and started again re-adopts it: still running, still remapped.
    await d.kill();
    await d.restart();
    const after = await docker(d, 'exec', 'remapped', 'cat', '/proc/self/uid_map');
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout.trim().split(/\s+/)[1], String(UID_A));
    assert.equal((await docker(d, 'rm', '-f', 'remapped')).code, 0);
  });

  test('files the container writes are owned by remapped ids in its upper dir; a restart keeps working', async () => {
    const c = await docker(
      d,
      'run',
      '--name',
      'writer',
      'busybox',
      'sh',
      '-c',
      'echo x > /root-file; echo y > /tmp/u; chown 1000:1000 /tmp/u',
    );
    assert.equal(c.code, 0, c.stderr);
    const id = (await docker(d, 'inspect', '-f', '{{.Id}}', 'writer')).stdout.trim();
    const upper = join(d.dataRoot, 'snapshots', 'containers', id, 'upper');
    const a = await stat(join(upper, 'root-file'));
    assert.deepEqual([a.uid, a.gid], [UID_A, GID_A]);
    const b = await stat(join(upper, 'tmp', 'u'));
    assert.deepEqual([b.uid, b.gid], [UID_A + 1000, GID_A + 1000]);
    // Started again, the overlay is mounted again over idmapped layers: the files read back.
    const again = await docker(d, 'start', '-a', 'writer');
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await docker(d, 'rm', '-f', 'writer')).code, 0);
  });

  test('a named volume belongs to the remapped root and what the container writes to remapped ids', async () => {
    const r = await run('-v', 'uvol:/data', 'id -u > /data/f; stat -c "%u:%g" /data');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0:0');
    const mountpoint = (await docker(d, 'volume', 'inspect', '-f', '{{.Mountpoint}}', 'uvol')).stdout.trim();
    const root = await stat(mountpoint);
    assert.deepEqual([root.uid, root.gid], [UID_A, GID_A]);
    const f = await stat(join(mountpoint, 'f'));
    assert.deepEqual([f.uid, f.gid], [UID_A, GID_A]);
    assert.equal((await readFile(join(mountpoint, 'f'), 'utf8')).trim(), '0');
    assert.equal((await docker(d, 'volume', 'rm', 'uvol')).code, 0);
    // A new volume gets the image's files (copy-up) under the remapped ids.
    const copy = await run('-v', 'cvol:/etc', 'stat -c "%u:%g" /etc/passwd');
    assert.equal(copy.stdout.trim(), '0:0', copy.stderr);
    const cvol = (await docker(d, 'volume', 'inspect', '-f', '{{.Mountpoint}}', 'cvol')).stdout.trim();
    const passwd = await stat(join(cvol, 'passwd'));
    assert.deepEqual([passwd.uid, passwd.gid], [UID_A, GID_A]);
    assert.equal((await docker(d, 'volume', 'rm', 'cvol')).code, 0);
  });

  test('--userns=host runs in the host user namespace (HostConfig.UsernsMode host)', async () => {
    const r = await run('--userns=host', 'cat /proc/self/uid_map');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/), ['0', '0', '4294967295']);
    const c = await docker(
      d,
      'create',
      '--userns=host',
      '--privileged',
      '--net=host',
      '--pid=host',
      'busybox',
    );
    assert.equal(c.code, 0, c.stderr);
    const mode = await docker(d, 'inspect', '-f', '{{.HostConfig.UsernsMode}}', c.stdout.trim());
    assert.equal(mode.stdout.trim(), 'host');
    assert.equal((await docker(d, 'rm', c.stdout.trim())).code, 0);
  });

  test("Docker's refusals: --privileged, --net=host and --pid=host need --userns=host", async () => {
    const cases: [string, string][] = [
      [
        '--privileged',
        'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode',
      ],
      ['--net=host', "cannot share the host's network namespace when user namespaces are enabled"],
      ['--pid=host', 'cannot share the host PID namespace when user namespaces are enabled'],
    ];
    for (const [flag, message] of cases) {
      const r = await docker(d, 'create', flag, 'busybox');
      assert.notEqual(r.code, 0, flag);
      assert.ok(r.stderr.includes(message), `${flag}: ${r.stderr}`);
    }
    assert.equal((await docker(d, 'ps', '-aq')).stdout.trim(), '');
  });

  test('commit, cp and build store container ids, not the remapped host ids', async () => {
    const c = await docker(
      d,
      'run',
      '--name',
      'cm',
      'busybox',
      'sh',
      '-c',
      'mkdir /data && echo hi > /data/f && chown 33:34 /data/f',
    );
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await docker(d, 'commit', 'cm', 'cmimg')).code, 0);
    const plain = await docker(d, 'run', '--rm', '--userns=host', 'cmimg', 'stat', '-c', '%u:%g', '/data/f');
    assert.equal(plain.stdout.trim(), '33:34', plain.stderr);
    // docker cp out: the archive holds the container's ids.
    const out = await docker(d, 'cp', 'cm:/data/f', '-');
    assert.equal(out.code, 0, out.stderr);
    const header = Buffer.from(out.stdout, 'latin1');
    assert.equal(Number.parseInt(header.subarray(108, 116).toString().trim(), 8), 33, 'tar uid');
    assert.equal(Number.parseInt(header.subarray(116, 124).toString().trim(), 8), 34, 'tar gid');
    // docker cp in: root's file lands as the container's root, the remapped root on the host.
    const hostFile = join(d.dir, 'in.txt');
    await writeFile(hostFile, 'in\n');
    assert.equal((await docker(d, 'cp', hostFile, 'cm:/data/in.txt')).code, 0);
    const id = (await docker(d, 'inspect', '-f', '{{.Id}}', 'cm')).stdout.trim();
    const st = await stat(join(d.dataRoot, 'snapshots', 'containers', id, 'upper', 'data', 'in.txt'));
    assert.deepEqual([st.uid, st.gid], [UID_A, GID_A]);
    assert.equal((await docker(d, 'rm', 'cm')).code, 0);
    // A RUN step runs remapped; its layer holds container ids.
    const ctx = join(d.dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN touch /x && chown 7:8 /x\n');
    const b = await run_('docker', ['-H', d.host, 'build', '-q', '-t', 'built', ctx], {
      env: { DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(d.dir, 'docker-config') },
    });
    assert.equal(b.code, 0, b.stderr);
    const x = await docker(d, 'run', '--rm', '--userns=host', 'built', 'stat', '-c', '%u:%g', '/x');
    assert.equal(x.stdout.trim(), '7:8', x.stderr);
  });

  test("--network, --pid and --ipc container:<x> join x's user namespace too", async () => {
    const c = await docker(d, 'run', '-d', '--name', 'owner', '--ipc', 'shareable', 'busybox', 'sleep', '60');
    assert.equal(c.code, 0, c.stderr);
    const pid = (await docker(d, 'inspect', '-f', '{{.State.Pid}}', 'owner')).stdout.trim();
    const userns = await readlink(`/proc/${pid}/ns/user`);
    const r = await run(
      '--network',
      'container:owner',
      'readlink /proc/self/ns/user; cat /proc/self/uid_map',
    );
    assert.equal(r.code, 0, r.stderr);
    const [ns, map] = r.stdout.trim().split('\n');
    assert.equal(ns, userns);
    assert.deepEqual(map?.trim().split(/\s+/).map(Number), [0, UID_A, 65536]);
    // In its PID namespace: the owner's sleep is PID 1 here.
    const p = await run(
      '--pid',
      'container:owner',
      'readlink /proc/self/ns/user; cat /proc/1/cmdline | tr "\\0" " "',
    );
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual(p.stdout.trim().split('\n'), [userns, 'sleep 60']);
    const i = await run(
      '--ipc',
      'container:owner',
      'readlink /proc/self/ns/user; echo x > /dev/shm/f && cat /dev/shm/f',
    );
    assert.equal(i.code, 0, i.stderr);
    assert.deepEqual(i.stdout.trim().split('\n'), [userns, 'x']);
    assert.equal((await docker(d, 'rm', '-f', 'owner')).code, 0);
  });

  test('on a user-defined network a remapped container reaches another by name', async () => {
    assert.equal((await docker(d, 'network', 'create', 'unet')).code, 0);
    try {
      const srv = await docker(
        d,
        'run',
        '-d',
        '--name',
        'usrv',
        '--network',
        'unet',
        'busybox',
        'sleep',
        '60',
      );
      assert.equal(srv.code, 0, srv.stderr);
      const r = await run('--network', 'unet', 'ping -c 1 -W 5 usrv >/dev/null && echo reached');
      assert.equal(r.stdout.trim(), 'reached', r.stderr);
    } finally {
      await docker(d, 'rm', '-f', 'usrv');
      await docker(d, 'network', 'rm', 'unet');
    }
  });

  test('docker info lists name=userns in the security options', async () => {
    const r = await docker(d, 'info', '--format', '{{json .SecurityOptions}}');
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as string[]).includes('name=userns'), r.stdout);
  });
});

describe('--userns-remap without idmapped mounts: chowned layer copies', {
  skip: !canRunRoot() && 'needs root',
}, () => {
  let d: TestDaemon;
  before(async () => {
    await addTestUser();
    // Forces the fallback berthd takes where the kernel or filesystem lacks idmapped mounts.
    process.env.BERTH_NO_IDMAPPED_MOUNTS = '1';
    try {
      d = await startDaemon({ args: ['--userns-remap', USER], dirMode: 0o711 });
    } finally {
      delete process.env.BERTH_NO_IDMAPPED_MOUNTS;
    }
    await makeBusybox(d);
  });
  after(async () => {
    try {
      await d?.stop();
    } finally {
      await removeTestUser();
    }
  });

  test('layers are copied once with remapped owners; the container sees them root-owned', async () => {
    const r = await docker(
      d,
      'run',
      '--name',
      'copied',
      'busybox',
      'sh',
      '-c',
      'stat -c "%u:%g" /bin/busybox; touch /new; chown 5:6 /new',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0:0');
    const shifted = join(d.dataRoot, 'snapshots', 'shifted', `${UID_A}.${GID_A}`);
    const [layer] = await readdir(shifted);
    assert.ok(layer, 'one shifted layer');
    const bin = await stat(join(shifted, layer, 'bin', 'busybox'));
    assert.deepEqual([bin.uid, bin.gid], [UID_A, GID_A]);
    const id = (await docker(d, 'inspect', '-f', '{{.Id}}', 'copied')).stdout.trim();
    const upper = await stat(join(d.dataRoot, 'snapshots', 'containers', id, 'upper', 'new'));
    assert.deepEqual([upper.uid, upper.gid], [UID_A + 5, GID_A + 6]);
    assert.equal((await docker(d, 'commit', 'copied', 'copiedimg')).code, 0);
    const back = await docker(
      d,
      'run',
      '--rm',
      '--userns=host',
      'copiedimg',
      'stat',
      '-c',
      '%u:%g',
      '/new',
      '/bin/busybox',
    );
    assert.deepEqual(back.stdout.trim().split('\n'), ['5:6', '0:0'], back.stderr);
    assert.equal((await docker(d, 'rm', 'copied')).code, 0);
    // Removing the image removes its layers' copies.
    assert.equal((await docker(d, 'rmi', 'copiedimg', 'busybox')).code, 0);
    assert.deepEqual(await readdir(shifted), []);
  });
});

describe('user namespaces without remapping', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test("--userns=host is accepted, --userns=foo refused with Docker's message, no name=userns", async () => {
    const ok = await docker(d, 'run', '--rm', '--userns=host', 'busybox', 'cat', '/proc/self/uid_map');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trim().split(/\s+/), ['0', '0', '4294967295']);
    // The docker CLI refuses it itself; the daemon refuses it in the API with dockerd's message.
    const cli = await docker(d, 'create', '--userns=foo', 'busybox');
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /invalid USER mode/);
    const api = await d.api('POST', '/containers/create', {
      Image: 'busybox',
      HostConfig: { UsernsMode: 'foo' },
    });
    assert.equal(api.status, 400);
    assert.deepEqual(api.body, { message: 'invalid USER mode: foo' });
    const info = await docker(d, 'info', '--format', '{{json .SecurityOptions}}');
    assert.ok(!(JSON.parse(info.stdout) as string[]).includes('name=userns'), info.stdout);
  });

  test('berthd refuses a remap user that does not exist', async () => {
    await assert.rejects(
      startDaemon({ args: ['--userns-remap', 'berth-no-such-user-x'], dirMode: 0o711 }),
      /Error during uid lookup for "berth-no-such-user-x"/,
    );
  });
});

describe('--userns-remap=default', { skip: !canRunRoot() && 'needs root' }, () => {
  // useradd and usermod write these and their `-` backups; the test puts back exactly what was
  // there, and removes the backups they created.
  const FILES = [
    '/etc/passwd',
    '/etc/group',
    '/etc/shadow',
    '/etc/gshadow',
    '/etc/subuid',
    '/etc/subgid',
  ].flatMap((f) => [f, `${f}-`]);
  const saved = new Map<string, string | undefined>();
  let d: TestDaemon | undefined;
  let existed = false;
  before(async () => {
    for (const f of FILES) saved.set(f, await readFile(f, 'utf8').catch(() => undefined));
    existed = (saved.get('/etc/passwd') ?? '').split('\n').some((l) => l.startsWith('dockremap:'));
  });
  after(async () => {
    try {
      await d?.stop();
    } finally {
      for (const [f, text] of saved) {
        if (text !== undefined) await writeFile(f, text);
        else await rm(f, { force: true });
      }
    }
  });

  test('creates the dockremap user and group with 65536 subordinate ids each, and uses them', async (t) => {
    if (existed) return t.skip('dockremap exists on this host already');
    d = await startDaemon({ args: ['--userns-remap', 'default'], dirMode: 0o711 });
    const passwd = await readFile('/etc/passwd', 'utf8');
    assert.match(passwd, /^dockremap:x:\d+:\d+:.*:\/bin\/false$/m);
    assert.match(await readFile('/etc/group', 'utf8'), /^dockremap:x:\d+:/m);
    const sub = /^dockremap:(\d+):65536$/m.exec(await readFile('/etc/subuid', 'utf8'));
    assert.ok(sub, 'subuid range');
    assert.match(await readFile('/etc/subgid', 'utf8'), /^dockremap:\d+:65536$/m);
    await makeBusybox(d);
    const r = await docker(d, 'run', '--rm', 'busybox', 'cat', '/proc/self/uid_map');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, Number(sub[1]), 65536]);
  });
});
