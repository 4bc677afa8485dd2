import { PassThrough, type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Reads `source` once and feeds every byte to each consumer, with backpressure: the source
 * goes only as fast as the slowest consumer, and nothing is buffered beyond the streams'
 * high-water marks. Resolves with the consumers' results when all have finished; on the first
 * failure (of the source or any consumer) every stream is destroyed and that error is thrown.
 * A consumer that finishes before the end of its input (a tar reader stopping at the end-of-archive
 * blocks) has the rest of its input drained for it.
 */
export async function fanOut<T extends unknown[]>(
  source: Readable,
  consumers: { [K in keyof T]: (input: Readable) => Promise<T[K]> },
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  const outs = consumers.map(() => new PassThrough());
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let firstError: unknown;
  const fail = (err: unknown) => {
    firstError ??= err;
    stop.abort(err);
  };

  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      let pending = outs.length;
      const one = () => {
        if (--pending === 0) done();
      };
      for (const out of outs) {
        if (out.destroyed || out.writableEnded) one();
        else if (out.write(chunk)) one();
        else {
          const onDrain = () => {
            out.off('close', onDrain);
            out.off('drain', onDrain);
            one();
          };
          out.once('drain', onDrain);
          out.once('close', onDrain);
        }
      }
    },
    final(done) {
      for (const out of outs) out.end();
      done();
    },
    destroy(err, done) {
      // The sink is also destroyed after a normal finish (autoDestroy), while the outs may still
      // hold data their consumers have not read: only an error may cut them short.
      if (err) for (const out of outs) if (!out.writableFinished) out.destroy(err);
      done(err);
    },
  });

  const feeding = pipeline(source, sink, { signal }).catch((err: unknown) => {
    fail(err);
    throw err;
  });
  const running = consumers.map(async (consume, i) => {
    const out = outs[i]!;
    try {
      const result = await consume(out);
      out.resume();
      return result;
    } catch (err) {
      fail(err);
      throw err;
    }
  });
  const settled = await Promise.allSettled([feeding, ...running]);
  if (firstError !== undefined || settled.some((s) => s.status === 'rejected')) {
    throw firstError ?? (settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
  }
  return settled.slice(1).map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}
