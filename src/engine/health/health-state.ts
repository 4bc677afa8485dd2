/**
 * Docker's health state machine (moby daemon/health.go), pure: the probe schedule and what one
 * probe result does to State.Health.
 *
 * - Status starts as `starting`; a passing probe (exit 0) makes it `healthy` and clears the
 *   failing streak; a failing one adds to the streak, which turns it `unhealthy` once it reaches
 *   Retries (default 3). Failures while still `starting` and inside the start period do not count.
 * - The last 5 results are kept (Start, End, ExitCode, Output truncated to 4096 bytes).
 * - Probes run every Interval (default 30 s), or every StartInterval (default 5 s) while
 *   `starting` inside the start period; each may run for Timeout (default 30 s).
 */
import type { Health, HealthcheckResult } from '../../api/types/index.ts';
import type { HealthcheckSpec } from '../spec/index.ts';

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_BYTES = 4096;

const ms = (ns: number, dflt: number) => (ns > 0 ? ns / 1e6 : dflt);

export interface ProbeTiming {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

export function probeTiming(h: HealthcheckSpec): ProbeTiming {
  return {
    intervalMs: ms(h.intervalNs, DEFAULT_INTERVAL_MS),
    timeoutMs: ms(h.timeoutNs, DEFAULT_TIMEOUT_MS),
    startPeriodMs: ms(h.startPeriodNs, 0),
    startIntervalMs: ms(h.startIntervalNs, DEFAULT_START_INTERVAL_MS),
    retries: h.retries > 0 ? h.retries : DEFAULT_RETRIES,
  };
}

/** The command a probe runs, or undefined when the check is disabled (`NONE`, empty). */
export function probeCommand(test: string[], shell: string[] = ['/bin/sh', '-c']): string[] | undefined {
  const [kind, ...rest] = test;
  switch (kind) {
    case 'CMD':
      return rest.length ? rest : undefined;
    case 'CMD-SHELL':
      return [...shell, rest.join(' ')];
    default:
      return undefined;
  }
}

/** How long to wait before the next probe. */
export function nextProbeDelay(health: Health, t: ProbeTiming, sinceStartMs: number): number {
  if (health.Status === 'starting' && sinceStartMs < t.startPeriodMs) return t.startIntervalMs;
  return t.intervalMs;
}

/** Applies one probe result; returns the new status when it changed. */
export function applyProbeResult(
  health: Health,
  result: HealthcheckResult,
  t: ProbeTiming,
  containerStartedAt: number,
): Health['Status'] | undefined {
  const old = health.Status;
  health.Log.push({ ...result, Output: truncateOutput(result.Output) });
  if (health.Log.length > MAX_LOG_ENTRIES) health.Log.splice(0, health.Log.length - MAX_LOG_ENTRIES);
  if (result.ExitCode === 0) {
    health.FailingStreak = 0;
    health.Status = 'healthy';
  } else {
    const inStartPeriod =
      old === 'starting' && Date.parse(result.Start) - containerStartedAt < t.startPeriodMs;
    if (!inStartPeriod) {
      health.FailingStreak += 1;
      if (health.FailingStreak >= t.retries) health.Status = 'unhealthy';
    }
  }
  return health.Status !== old ? health.Status : undefined;
}

function truncateOutput(s: string): string {
  const b = Buffer.from(s);
  return b.length <= MAX_OUTPUT_BYTES ? s : b.subarray(0, MAX_OUTPUT_BYTES).toString();
}

/** `ps` Status suffix: ` (healthy)`, ` (unhealthy)`, ` (health: starting)`. */
export function healthSuffix(h: Health | undefined): string {
  if (!h || h.Status === 'none') return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}
