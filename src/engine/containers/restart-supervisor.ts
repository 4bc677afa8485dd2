/**
 * The restart policies at work: per container, the back-off already used, whether restarting
 * was cancelled by a stop or kill through the API, and the pending restart timer. The lifecycle
 * asks `decide` when a container exits and `schedule`s the restart; the verbs call `cancel`
 * (stop, kill), `reset` (a manual start) and `forget` (removal). In memory only, as in dockerd:
 * what must survive berthd (RestartCount, the manual stop) lives in the container record.
 */
import type { Container } from './container-store.ts';
import { shouldRestart } from './restart-policy.ts';

export class RestartSupervisor {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #delayMs = new Map<string, number>();
  readonly #canceled = new Set<string>();

  /** Whether the container that just exited is to be restarted, and after how long. */
  decide(c: Container, exitCode: number, ranMs: number): { restart: boolean; delayMs: number } {
    const id = c.record.id;
    if (this.#canceled.has(id)) return { restart: false, delayMs: 0 };
    const p = c.record.spec.restartPolicy;
    const d = shouldRestart({
      policy: { name: p?.name ?? 'no', maximumRetryCount: p?.maximumRetryCount ?? 0 },
      exitCode,
      manuallyStopped: c.record.manuallyStopped ?? false,
      restartCount: c.record.restartCount,
      ranMs,
      previousDelayMs: this.#delayMs.get(id) ?? 0,
    });
    if (d.restart) this.#delayMs.set(id, d.delayMs);
    return d;
  }

  schedule(id: string, delayMs: number, restart: () => void): void {
    this.#clearTimer(id);
    const t = setTimeout(() => {
      this.#timers.delete(id);
      restart();
    }, delayMs);
    this.#timers.set(id, t);
  }

  /** A stop or kill through the API: no restart until the next manual start. */
  cancel(id: string): void {
    this.#canceled.add(id);
    this.#clearTimer(id);
  }

  /** A manual start: a fresh restart manager (Docker's ResetRestartManager). */
  reset(id: string): void {
    this.#canceled.delete(id);
    this.#delayMs.delete(id);
    this.#clearTimer(id);
  }

  forget(id: string): void {
    this.reset(id);
  }

  /** Stops every pending restart (berthd shutting down). */
  stopAll(): void {
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
  }

  #clearTimer(id: string): void {
    const t = this.#timers.get(id);
    if (t) clearTimeout(t);
    this.#timers.delete(id);
  }
}
