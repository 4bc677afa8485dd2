/**
 * A container's lifecycle state, as a union so impossible states cannot be expressed, and the
 * transition checks each verb makes (one assert per verb). Times are RFC 3339 strings as Docker
 * shows them; Docker's zero time is "0001-01-01T00:00:00Z".
 */
import { conflict, notModified } from '../../common/index.ts';
import type { ContainerState } from '../../api/types/index.ts';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export type LifecycleState =
  /** A start that failed leaves its exit code and error here (dockerd keeps such a container "created"). */
  | { status: 'created'; exitCode?: number; error?: string }
  | { status: 'running'; pid: number; startedAt: string }
  | { status: 'paused'; pid: number; startedAt: string }
  | {
      status: 'exited';
      exitCode: number;
      startedAt: string;
      finishedAt: string;
      oomKilled: boolean;
      error: string;
    }
  | {
      /** Exited, waiting out the restart policy's back-off (Docker shows it as running). */
      status: 'restarting';
      exitCode: number;
      startedAt: string;
      finishedAt: string;
      oomKilled: boolean;
      error: string;
    }
  | { status: 'removing' }
  | { status: 'dead'; error: string };

export function isRunning(s: LifecycleState): s is Extract<LifecycleState, { pid: number }> {
  return s.status === 'running' || s.status === 'paused';
}

export function assertCanStart(s: LifecycleState, ref: string): void {
  if (s.status === 'running') throw notModified(`container ${ref} is already started`);
  if (s.status === 'paused') throw conflict(`cannot start a paused container, try unpause instead`);
  if (s.status === 'restarting') throw notModified(`container ${ref} is already started`);
  if (s.status === 'removing') throw conflict(`container is marked for removal and cannot be started`);
  if (s.status === 'dead') throw conflict(`container is marked for removal and cannot be started`);
}

export function assertCanRemove(s: LifecycleState, id: string, force: boolean): void {
  if (isRunning(s) && !force) {
    // moby daemon/delete.go: the wording scripts match on.
    const what = s.status === 'paused' ? 'paused' : 'running';
    throw conflict(
      `cannot remove container "${id}": container is ${what}: stop the container before removing or force remove`,
    );
  }
  if (s.status === 'restarting' && !force) {
    throw conflict(
      `cannot remove container "${id}": container is restarting: stop the container before removing or force remove`,
    );
  }
  if (s.status === 'removing') throw conflict(`removal of container ${id} is already in progress`);
}

/** Docker's State object for inspect. */
export function toDockerState(s: LifecycleState, startedAtOfCreated = ZERO_TIME): ContainerState {
  const base: ContainerState = {
    Status: s.status === 'removing' ? 'removing' : s.status,
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: s.status === 'dead',
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: startedAtOfCreated,
    FinishedAt: ZERO_TIME,
  };
  switch (s.status) {
    case 'running':
    case 'paused':
      return { ...base, Running: true, Paused: s.status === 'paused', Pid: s.pid, StartedAt: s.startedAt };
    case 'restarting':
    case 'exited':
      return {
        ...base,
        Running: s.status === 'restarting',
        Restarting: s.status === 'restarting',
        ExitCode: s.exitCode,
        StartedAt: s.startedAt,
        FinishedAt: s.finishedAt,
        OOMKilled: s.oomKilled,
        Error: s.error,
      };
    case 'dead':
      return { ...base, Error: s.error };
    case 'created':
      return { ...base, ExitCode: s.exitCode ?? 0, Error: s.error ?? '' };
    default:
      return base;
  }
}
