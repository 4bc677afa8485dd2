/**
 * Docker's restart policies (moby restartmanager): whether a container that exited is started
 * again, and after how long.
 *
 * - `no`: never. `always`: whatever the exit code. `unless-stopped`: unless the user stopped or
 *   killed it. `on-failure[:N]`: when the exit code is not 0, at most N times (0 = no limit).
 * - A stop or kill through the API cancels restarting until the next manual start, for every
 *   policy. When berthd starts, `always` containers come back even if they were stopped by hand;
 *   `unless-stopped` ones only if they were not (that is the only difference between the two).
 * - Back-off: 100 ms before the first restart, doubled for each one after it, at most one minute;
 *   a run that lasted 10 s or more resets it to 100 ms.
 *
 * Pure: the lifecycle owns the timers and the records.
 */
import type { RestartPolicyName } from '../spec/index.ts';

export const BACKOFF_INITIAL_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** A run at least this long resets the back-off. */
export const BACKOFF_RESET_RUN_MS = 10_000;

export interface RestartPolicy {
  name: RestartPolicyName | '';
  maximumRetryCount: number;
}

export interface RestartDecisionInput {
  policy: RestartPolicy;
  exitCode: number;
  /** Stopped or killed through the API (persisted: Docker's HasBeenManuallyStopped). */
  manuallyStopped: boolean;
  /** Automatic restarts since the last manual start. */
  restartCount: number;
  /** How long the process ran, in ms. */
  ranMs: number;
  /** The delay used before the previous restart (0 = none yet). */
  previousDelayMs: number;
}

export type RestartDecision = { restart: false; delayMs: number } | { restart: true; delayMs: number };

/** moby restartmanager.ShouldRestart, without its locking. `delayMs` is the next back-off either way. */
export function shouldRestart(input: RestartDecisionInput): RestartDecision {
  const { policy } = input;
  let delayMs = input.ranMs >= BACKOFF_RESET_RUN_MS ? 0 : input.previousDelayMs;
  delayMs = delayMs === 0 ? BACKOFF_INITIAL_MS : Math.min(delayMs * 2, BACKOFF_MAX_MS);
  let restart = false;
  switch (policy.name) {
    case 'always':
      restart = true;
      break;
    case 'unless-stopped':
      restart = !input.manuallyStopped;
      break;
    case 'on-failure': {
      const max = policy.maximumRetryCount;
      restart = input.exitCode !== 0 && (max === 0 || input.restartCount < max);
      break;
    }
    default:
      restart = false;
  }
  return { restart, delayMs };
}

/** Whether berthd's start brings the (not running) container back (moby daemon restore). */
export function restartsOnDaemonStart(
  input: Omit<RestartDecisionInput, 'previousDelayMs' | 'ranMs'>,
): boolean {
  return shouldRestart({ ...input, ranMs: 0, previousDelayMs: 0 }).restart;
}

/** `--restart` text as Docker prints it (`on-failure:3`). */
export function policyText(p: RestartPolicy): string {
  return p.name === 'on-failure' && p.maximumRetryCount > 0
    ? `on-failure:${p.maximumRetryCount}`
    : p.name || 'no';
}
