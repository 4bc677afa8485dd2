/**
 * Undo steps for a multi-step setup. Each step registers its undo as it goes; on failure the
 * caller rolls back in reverse order, on success it commits and nothing is undone.
 *
 *   const undo = new CleanupStack();
 *   try {
 *     const veth = undo.add(await createVeth(...), (v) => v.remove());
 *     ...
 *     undo.commit();
 *   } finally {
 *     await undo.rollback();   // no-op after commit()
 *   }
 */
export class CleanupStack {
  #steps: Array<() => unknown> = [];

  /** Registers `undo(value)` and returns `value`. */
  add<T>(value: T, undo: (value: T) => unknown): T {
    this.#steps.push(() => undo(value));
    return value;
  }

  /** Registers an undo step with no value. */
  defer(undo: () => unknown): void {
    this.#steps.push(undo);
  }

  /** Keeps everything: later rollback() does nothing. */
  commit(): void {
    this.#steps = [];
  }

  /**
   * Runs the undo steps in reverse. Every step runs even if an earlier one throws; the first
   * error is rethrown after all have run.
   */
  async rollback(): Promise<void> {
    const steps = this.#steps.reverse();
    this.#steps = [];
    let first: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
}
