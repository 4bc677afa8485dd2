/** The berth CLI's volume, network, diff, export, system df and prune commands against berthd. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestDaemon, berth, canRunRoot, docker, makeBusybox, startDaemon } from '../helpers/daemon.ts';

async function ok(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await berth(d, ...args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('berth storage commands', { skip: !canRunRoot() && 'needs root' }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await makeBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  test('volume create/ls/inspect/rm with labels, filters and --format', async () => {
    assert.equal(await ok(d, 'volume', 'create', '--label', 'tier=db', 'bv1'), 'bv1\n');
    assert.equal(await ok(d, 'volume', 'ls'), 'DRIVER    VOLUME NAME\nlocal     bv1\n');
    assert.equal(await ok(d, 'volume', 'ls', '-q', '--filter', 'label=tier=db'), 'bv1\n');
    assert.equal(
      await ok(d, 'volume', 'inspect', '--format', '{{.Name}} {{.Labels}} {{.Scope}}', 'bv1'),
      'bv1 map[tier:db] local\n',
    );
    const r = await berth(d, 'volume', 'inspect', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '[]\n');
    assert.equal(await ok(d, 'volume', 'rm', 'bv1'), 'bv1\n');
  });

  test('network create/ls/inspect/connect/disconnect/rm', async () => {
    const id = (
      await ok(d, 'network', 'create', '--subnet', '10.214.0.0/24', '--gateway', '10.214.0.1', 'bnet')
    ).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(await ok(d, 'network', 'ls', '--format', '{{.Name}} {{.Driver}}'), /^bnet bridge$/m);
    assert.equal(
      await ok(
        d,
        'network',
        'inspect',
        '--format',
        '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}',
        'bnet',
      ),
      '10.214.0.0/24 10.214.0.1\n',
    );
    await ok(d, 'create', '--name', 'nc1', 'busybox', 'true');
    await ok(d, 'network', 'connect', 'bnet', 'nc1');
    assert.match(await ok(d, 'inspect', '--format', '{{json .NetworkSettings.Networks}}', 'nc1'), /bnet/);
    await ok(d, 'network', 'disconnect', 'bnet', 'nc1');
    await ok(d, 'rm', 'nc1');
    assert.equal(await ok(d, 'network', 'rm', 'bnet'), 'bnet\n');
  });

  test('diff and export of a container', async () => {
    await ok(d, 'run', '--name', 'fsx', 'busybox', 'sh', '-c', 'echo 1 > /new; rm /bin/arch');
    const diff = await ok(d, 'diff', 'fsx');
    assert.match(diff, /^A \/new$/m);
    assert.match(diff, /^D \/bin\/arch$/m);
    const r = await berth(d, 'export', '-o', `${d.dir}/fsx.tar`, 'fsx');
    assert.equal(r.code, 0, r.stderr);
    await ok(d, 'rm', 'fsx');
  });

  test('system df prints what docker prints; system prune removes unused objects', async () => {
    await ok(d, 'create', '--name', 'dfc', '-v', 'dfv:/v', 'busybox', 'true');
    await ok(d, 'network', 'create', 'pn');
    const mine = await ok(d, 'system', 'df');
    const theirs = await docker(d, 'system', 'df');
    assert.equal(mine, theirs.stdout);
    assert.match(await ok(d, 'system', 'df', '-v'), /^dfv\s+1\s+0B$/m);
    const out = await ok(d, 'system', 'prune', '-f', '--volumes');
    assert.match(
      out,
      /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\npn\n\nDeleted Volumes:\ndfv\n\nTotal reclaimed space: 0B\n$/,
    );
    const declined = await berth(d, 'container', 'prune');
    assert.equal(
      declined.stdout,
      'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ',
    );
    assert.equal(await ok(d, 'image', 'prune', '-f'), 'Total reclaimed space: 0B\n');
  });
});
