/**
 * Crash recovery at berthd start, before running containers are re-adopted. berthd may have
 * been killed (SIGKILL, power loss) between any two steps of create, start or rm; every step
 * writes its state atomically, so what is left is one of these, each put right here:
 *
 * - a container folder without a readable record (killed inside create): removed, with its
 *   snapshot and runtime state;
 * - a snapshot no container record owns: removed;
 * - a record in state `removing` (killed inside rm): the removal is finished;
 * - a record not running whose shim still exists (killed inside start): a started process is
 *   adopted as running; one still waiting before execve is killed; a leftover rootfs mount or
 *   cgroup is released.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, errnoCode } from '../../common/index.ts';
import type { SnapshotStore } from '../../image/index.ts';
import type { Runtime } from '../../runtime/index.ts';
import type { ContainerLifecycle } from './container-lifecycle.ts';
import type { Container, ContainerStore } from './container-store.ts';
import { isRunning } from './state.ts';

const ID = /^[0-9a-f]{64}$/;

export interface RecoveryDeps {
  root: string;
  execRoot: string;
  store: ContainerStore;
  snapshots: SnapshotStore;
  runtime: Runtime;
  lifecycle: ContainerLifecycle;
  log: Logger;
  /** Finishes a removal (the service's removeNow). */
  remove(c: Container): Promise<void>;
}

export async function recoverContainers(d: RecoveryDeps): Promise<void> {
  const known = new Set(d.store.all().map((c) => c.record.id));
  const list = async (dir: string) => {
    try {
      return await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  };

  // Leftovers of a create that never finished.
  for (const id of await list(d.root)) {
    if (known.has(id) || !ID.test(id)) continue;
    d.log.warn('removing the leftovers of an unfinished create', { id });
    await step(d, id, async () => {
      await releaseRuntime(d, id);
      await d.snapshots.removeContainer(id);
      await rm(join(d.root, id), { recursive: true, force: true });
    });
  }
  for (const id of d.snapshots.containerIds()) {
    if (known.has(id) || !ID.test(id)) continue;
    d.log.warn('removing a snapshot no container owns', { id });
    await step(d, id, () => d.snapshots.removeContainer(id));
  }
  for (const id of await list(d.execRoot)) {
    if (known.has(id) || !ID.test(id)) continue;
    await step(d, id, () => releaseRuntime(d, id));
  }

  for (const c of d.store.all()) {
    const id = c.record.id;
    try {
      if (c.state.status === 'removing') {
        d.log.warn('finishing an interrupted removal', { id });
        await d.remove(c);
        continue;
      }
      if (isRunning(c.state)) continue; // re-adopted next
      const stateDir = d.lifecycle.stateDir(id);
      if (existsSync(stateDir)) {
        const st = await d.runtime.state(stateDir);
        if (st.status === 'running') {
          d.log.warn('adopting a container started just before a crash', { id, pid: st.pid });
          await d.lifecycle.recoverStarted(c, st.pid);
          continue;
        }
        if (st.status === 'created') await d.runtime.kill(stateDir, 9).catch(() => {});
        await d.lifecycle.cleanup(c);
        if (st.status === 'stopped' && c.state.status === 'created') {
          // Started and already exited before the start was recorded.
          const now = new Date().toISOString();
          await d.store.setState(c, {
            status: 'exited',
            exitCode: st.exit.exitCode,
            startedAt: now,
            finishedAt: st.exit.finishedAt,
            oomKilled: st.exit.oomKilled,
            error: '',
          });
        }
      } else {
        // A rootfs mounted by a start that died before creating the shim.
        await d.snapshots.unmount(d.lifecycle.rootfsDir(id)).catch(() => {});
      }
    } catch (err) {
      d.log.error('recovering container failed', { id, err });
    }
  }
}

/** A recovery step that fails is logged: berthd starts anyway (and tries again next time). */
async function step(d: RecoveryDeps, id: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    d.log.error('crash recovery step failed', { id, err });
  }
}

/** Kills a shim left without a container record and removes its runtime state (cgroup too). */
async function releaseRuntime(d: RecoveryDeps, id: string): Promise<void> {
  const stateDir = join(d.execRoot, id);
  if (!existsSync(stateDir)) return;
  try {
    // delete() kills a live shim's process and removes the cgroup recorded in the state dir.
    await d.runtime.delete(stateDir, { ociVersion: '1.0.2' });
  } catch (err) {
    d.log.warn('releasing runtime state failed', { id, err });
  }
  await rm(stateDir, { recursive: true, force: true });
}
