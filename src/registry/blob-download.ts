/**
 * A blob download that survives a broken connection (moby's pull_v2 layer download over
 * distribution's transport.httpReadSeeker): when the body breaks off (or ends short of the
 * descriptor's size), the blob is asked for again with `Range: bytes=<received>-` and the
 * bytes continue where they stopped. A registry that ignores the range (200 instead of 206)
 * sends the whole blob again: its first <received> bytes are read and dropped, so the caller
 * sees one continuous stream either way. The caller verifies the digest of what it gets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, invalidParameter } from '../common/index.ts';
import type { Descriptor } from '../oci/index.ts';
import { header, type RegistryClient } from './client.ts';

export interface BlobDownloadOptions {
  signal?: AbortSignal;
  /** Attempts in all (moby's --max-download-attempts, default 5). */
  attempts?: number;
  /** Pause before the n-th retry (ms); default 100·n (kept short: retries here are resumes). */
  retryDelay?: (n: number) => number;
  /** Told about each retry (for progress/logging). */
  onRetry?: (received: number, err: unknown) => void;
}

/** Whether an error is worth another attempt: network failures and 5xx/429 answers. */
export function retryable(err: unknown): boolean {
  if (err instanceof BerthError) return err.kind === 'Unavailable';
  return true;
}

/** The first byte position of a `Content-Range: bytes <start>-<end>/<size>` header. */
export function contentRangeStart(value: string | undefined): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The blob's bytes, in order, from as many requests as it takes. */
export async function* downloadBlobBytes(
  client: RegistryClient,
  path: string,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  scopes: string[],
  options: BlobDownloadOptions = {},
): AsyncGenerator<Buffer> {
  const { signal } = options;
  const attempts = options.attempts ?? 5;
  const delay = options.retryDelay ?? ((n: number) => 100 * n);
  let received = 0;
  let failures = 0;
  for (;;) {
    const ranged = received > 0;
    try {
      const res = await client.expect('GET', `${path}/blobs/${desc.digest}`, ranged ? [200, 206] : [200], {
        scopes,
        ...(ranged ? { headers: { range: `bytes=${received}-` } } : {}),
        ...(signal ? { signal } : {}),
      });
      if (res.status === 206 && contentRangeStart(header(res, 'content-range')) !== received) {
        res.body.destroy();
        throw invalidParameter(
          `registry answered bytes=${received}- with Content-Range ${header(res, 'content-range') ?? '(none)'}`,
        );
      }
      // 200 to a ranged request: the registry does not do ranges; read it all again.
      let skip = ranged && res.status === 200 ? received : 0;
      for await (const chunk of res.body) {
        let c = chunk as Buffer;
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        received += c.length;
        yield c;
      }
      if (received >= desc.size) return;
      throw new Error(`unexpected EOF after ${received} of ${desc.size} bytes`);
    } catch (err) {
      if (signal?.aborted || !retryable(err) || ++failures >= attempts) throw err;
      options.onRetry?.(received, err);
      await sleep(delay(failures), undefined, signal ? { signal } : {});
    }
  }
}
