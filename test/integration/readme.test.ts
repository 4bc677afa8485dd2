/**
 * The README's first command, scripts/try.sh, run in temp locations: it starts berthd, makes
 * the busybox image and ends with a container printing a greeting.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  REPO_ROOT,
  canRunRoot,
  cleanupLeftovers,
  cgroupParent,
  networkNames,
  run,
} from '../helpers/daemon.ts';

test('scripts/try.sh ends with a container printing a greeting', {
  skip: !canRunRoot() && 'needs root',
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bt-'));
  const net = await networkNames(dir);
  try {
    const r = await run(join(REPO_ROOT, 'scripts', 'try.sh'), [], {
      env: {
        BERTH_SKIP_INSTALL: '1',
        BERTH_SOCK: join(dir, 'b.sock'),
        BERTH_DATA_ROOT: join(dir, 'data'),
        BERTH_EXEC_ROOT: join(dir, 'run'),
        BERTH_CGROUP_PARENT: cgroupParent(dir),
        BERTH_LOG: join(dir, 'berthd.log'),
        BERTH_DAEMON_ARGS: [
          `--iface-prefix=${net.prefix}`,
          `--bridge=${net.prefix}0`,
          `--nft-table=${net.prefix}`,
          `--default-address-pool=base=${net.pool},size=24`,
        ].join(' '),
      },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr + (await readFile(join(dir, 'berthd.log'), 'utf8').catch(() => '')));
    assert.match(r.stdout, /^Hello from a berth container!$/m);
  } finally {
    const pid = Number(await readFile(join(dir, 'run', 'berthd.pid'), 'utf8').catch(() => '0'));
    if (pid > 0) process.kill(pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await cleanupLeftovers(dir);
  }
});
