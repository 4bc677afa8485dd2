/**
 * Which stages a build runs and in what order (BuildKit's behaviour, which the issue asks of the
 * classic builder too):
 * - a stage depends on the stage its FROM names and on the stages its `COPY --from` names (by
 *   name or index; a `--from` with a variable in it depends on every earlier stage, since its
 *   value is only known while the stage runs);
 * - only the target (`--target`, or the last stage) and the stages it reaches through those
 *   dependencies are built; the others are skipped, whatever they contain;
 * - stages whose dependencies are built run at the same time, at most `limit` of them.
 *
 * Output stays that of a sequential build: each stage writes into its own buffer, and buffers
 * reach the client in stage order (the earliest unfinished stage streams live, later ones are
 * held until it finishes), so `Step n/m` lines never interleave and step numbers are those of
 * the stages in file order.
 */
import type { Stage } from '../../dockerfile/index.ts';

export interface StagePlan {
  /** Stages to build, in file order. */
  stages: Stage[];
  /** Stage index → indexes of the stages it needs built first. */
  deps: Map<number, Set<number>>;
  /** Stages left out because the target does not reach them. */
  skipped: Stage[];
}

/**
 * `fromRef(stage)`: the stage's FROM image after meta-arg expansion, as the builder resolves it.
 * `last`: index of the target stage.
 */
export function planStages(all: Stage[], last: number, fromRef: (stage: Stage) => string): StagePlan {
  const deps = new Map<number, Set<number>>();
  for (const stage of all.slice(0, last + 1)) {
    const earlier = all.slice(0, stage.index);
    const need = new Set<number>();
    const ref = fromRef(stage).toLowerCase();
    const byName = earlier.find((s) => s.name !== undefined && s.name === ref);
    if (byName) need.add(byName.index);
    for (const ins of stage.instructions) {
      if (ins.kind !== 'copy' || ins.from === undefined) continue;
      const from = ins.from.toLowerCase();
      if (from.includes('$')) {
        for (const s of earlier) need.add(s.index);
        continue;
      }
      const s = earlier.find((e) => e.name === from || String(e.index) === from);
      if (s) need.add(s.index);
    }
    deps.set(stage.index, need);
  }
  const wanted = new Set<number>();
  const visit = (i: number) => {
    if (wanted.has(i)) return;
    wanted.add(i);
    for (const d of deps.get(i) ?? []) visit(d);
  };
  visit(last);
  const stages = all.filter((s) => wanted.has(s.index));
  const skipped = all.slice(0, last + 1).filter((s) => !wanted.has(s.index));
  for (const s of skipped) deps.delete(s.index);
  return { stages, deps, skipped };
}

/**
 * Runs `fn` for every stage of the plan once its dependencies are done, at most `limit` at a
 * time, earliest stage first. The first failure calls `onFailure` (to abort the others), waits
 * for the running ones to settle, and rejects with it.
 */
export function runStageGraph(
  plan: StagePlan,
  limit: number,
  fn: (stage: Stage) => Promise<void>,
  onFailure: (err: unknown) => void,
): Promise<void> {
  const done = new Set<number>();
  const started = new Set<number>();
  let running = 0;
  let failure: { err: unknown } | undefined;
  return new Promise((resolve, reject) => {
    const pump = () => {
      if (failure) {
        if (running === 0) reject(failure.err);
        return;
      }
      if (done.size === plan.stages.length) {
        resolve();
        return;
      }
      for (const stage of plan.stages) {
        if (running >= limit) break;
        if (started.has(stage.index)) continue;
        if (![...(plan.deps.get(stage.index) ?? [])].every((d) => done.has(d))) continue;
        started.add(stage.index);
        running++;
        Promise.resolve()
          .then(() => fn(stage))
          .then(
            () => {
              done.add(stage.index);
            },
            (err: unknown) => {
              if (!failure) {
                failure = { err };
                onFailure(err);
              }
            },
          )
          .finally(() => {
            running--;
            pump();
          });
      }
    };
    pump();
  });
}

/**
 * Per-stage output in stage order: writes of the head stage go straight to `sink`, the others
 * are buffered until every earlier stage has finished.
 */
export class OrderedOutput {
  readonly #sink: (text: string) => void;
  readonly #order: number[];
  readonly #buffers = new Map<number, string[]>();
  readonly #finished = new Set<number>();
  #head = 0;

  /** `order`: the stage indexes in the order their output appears. */
  constructor(order: number[], sink: (text: string) => void) {
    this.#order = order;
    this.#sink = sink;
    for (const i of order) this.#buffers.set(i, []);
  }

  writer(stage: number): (text: string) => void {
    return (text) => {
      if (this.#order[this.#head] === stage) this.#sink(text);
      else this.#buffers.get(stage)?.push(text);
    };
  }

  /** The stage wrote everything: later stages' output may follow. */
  finish(stage: number): void {
    this.#finished.add(stage);
    while (this.#head < this.#order.length && this.#finished.has(this.#order[this.#head]!)) {
      this.#head++;
      this.#drain(this.#order[this.#head]);
    }
  }

  /** Writes out everything still held, in order (after a failure). */
  flushAll(): void {
    for (; this.#head < this.#order.length; this.#head++) this.#drain(this.#order[this.#head]);
  }

  #drain(stage: number | undefined): void {
    if (stage === undefined) return;
    const buf = this.#buffers.get(stage);
    if (!buf) return;
    for (const t of buf.splice(0)) this.#sink(t);
  }
}
