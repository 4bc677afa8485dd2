/**
 * Health checks at work: one probe loop per running container that has a healthcheck (from the
 * image's HEALTHCHECK or --health-*). Each probe is an exec in the container (the same machinery
 * as `docker exec`, events included, as dockerd does); its result updates State.Health and a
 * status change publishes `health_status: <status>`.
 *
 * The loop starts when the container starts (or is re-adopted by a new berthd: the status then
 * starts over as `starting`) and stops when it exits or is removed. Health lives with the
 * container in memory, like the rest of its runtime view.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthcheckResult } from '../../api/types/index.ts';
import { type Logger, StdcopyDecoder } from '../../common/index.ts';
import { eventAttributes } from '../containers/container-lifecycle.ts';
import type { Containers } from '../containers/container-service.ts';
import type { Container } from '../containers/container-store.ts';
import { isRunning } from '../containers/state.ts';
import type { EventBus } from '../events.ts';
import type { Execs } from '../exec/exec-service.ts';
import {
  MAX_OUTPUT_BYTES,
  type ProbeTiming,
  applyProbeResult,
  nextProbeDelay,
  probeCommand,
  probeTiming,
} from './health-state.ts';

export class HealthMonitor {
  readonly #containers: Containers;
  readonly #execs: Execs;
  readonly #events: EventBus;
  readonly #log: Logger;
  readonly #loops = new Map<string, AbortController>();
  readonly #onProbe: ((ok: boolean) => void) | undefined;

  constructor(deps: {
    containers: Containers;
    execs: Execs;
    events: EventBus;
    log: Logger;
    /** Called after every probe (berthd's metrics: health_checks, health_checks_failed). */
    onProbe?: (ok: boolean) => void;
  }) {
    this.#onProbe = deps.onProbe;
    this.#containers = deps.containers;
    this.#execs = deps.execs;
    this.#events = deps.events;
    this.#log = deps.log;
    const lifecycle = deps.containers.lifecycle;
    lifecycle.on('running', (id: string, adopted?: boolean) => this.#start(id, adopted === true));
    lifecycle.on('exit', (id: string) => this.#stop(id));
    lifecycle.on('removed', (id: string) => this.#stop(id));
  }

  /** Stops every probe loop (berthd shutting down). */
  stopAll(): void {
    for (const id of [...this.#loops.keys()]) this.#stop(id);
  }

  /**
   * A started container's health begins at `starting`; one re-adopted after a berthd restart
   * keeps the status it had (read back from its health.json) and is probed on.
   */
  #start(id: string, adopted: boolean): void {
    this.#stop(id);
    const c = this.#containers.store.find(id);
    const hc = c?.record.spec.healthcheck;
    if (!c || !hc) return;
    const cmd = probeCommand(hc.test, c.record.config.Shell ?? undefined);
    if (!cmd) return;
    if (!(adopted && c.health)) {
      c.health = c.health
        ? { ...c.health, Status: 'starting', FailingStreak: 0 }
        : { Status: 'starting', FailingStreak: 0, Log: [] };
    }
    const ac = new AbortController();
    this.#loops.set(id, ac);
    void this.#loop(c, cmd, probeTiming(hc), ac.signal).catch((err) => {
      if (!ac.signal.aborted) this.#log.warn('health check loop failed', { id, err });
    });
  }

  #stop(id: string): void {
    this.#loops.get(id)?.abort();
    this.#loops.delete(id);
  }

  async #loop(c: Container, cmd: string[], t: ProbeTiming, signal: AbortSignal): Promise<void> {
    const id = c.record.id;
    while (!signal.aborted) {
      if (!isRunning(c.state) || !c.health) return;
      const startedAt = Date.parse(c.state.startedAt);
      await sleep(nextProbeDelay(c.health, t, Date.now() - startedAt), undefined, { signal });
      const result = await this.#probe(c, cmd, t.timeoutMs, signal);
      if (signal.aborted || !c.health) return;
      this.#onProbe?.(result.ExitCode === 0);
      const changed = applyProbeResult(c.health, result, t, startedAt);
      await this.#containers.store
        .saveHealth(c)
        .catch((err) => this.#log.warn('saving health state failed', { id, err }));
      if (changed) {
        this.#events.publish('container', `health_status: ${changed}`, id, eventAttributes(c));
      }
    }
  }

  /** One probe: an exec of `cmd`, its output (at most 4 KiB kept), killed after `timeoutMs`. */
  async #probe(
    c: Container,
    cmd: string[],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<HealthcheckResult> {
    const start = new Date().toISOString();
    let execId: string | undefined;
    try {
      ({ Id: execId } = await this.#execs.create(c.record.id, {
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
      }));
      const session = await this.#execs.start(execId, {});
      if (!session) throw new Error('health check exec did not attach');
      const chunks: Buffer[] = [];
      let kept = 0;
      const decoder = new StdcopyDecoder();
      decoder.on('data', (f: { payload: Buffer }) => {
        if (kept >= MAX_OUTPUT_BYTES) return;
        const part = f.payload.subarray(0, MAX_OUTPUT_BYTES - kept);
        chunks.push(part);
        kept += part.length;
      });
      const done = new Promise<void>((resolve) => {
        decoder.on('end', resolve);
        decoder.on('error', () => resolve());
        session.output.on('error', () => resolve());
      });
      session.output.pipe(decoder);
      let timedOut = false;
      const id = execId;
      const timer = setTimeout(() => {
        timedOut = true;
        void this.#execs.inspect(id).then((e) => {
          if (e.Pid > 0 && e.Running) process.kill(e.Pid, 'SIGKILL');
        });
      }, timeoutMs);
      const onAbort = () => session.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await done;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
      const end = new Date().toISOString();
      if (timedOut) {
        return {
          Start: start,
          End: end,
          ExitCode: -1,
          Output: `Health check exceeded timeout (${formatSeconds(timeoutMs)})`,
        };
      }
      const exitCode = (await this.#execs.inspect(execId)).ExitCode ?? -1;
      return { Start: start, End: end, ExitCode: exitCode, Output: Buffer.concat(chunks).toString() };
    } catch (err) {
      return { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: (err as Error).message };
    } finally {
      if (execId) this.#execs.forget(execId);
    }
  }
}

/** Go's time.Duration String for whole-ish seconds ("30s", "1.5s"). */
function formatSeconds(ms: number): string {
  return `${ms / 1000}s`;
}
