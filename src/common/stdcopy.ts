/**
 * Docker's stdcopy framing, used on attach, exec and logs streams when the container has no
 * TTY: each chunk is preceded by an 8-byte header — the stream (0 stdin, 1 stdout, 2 stderr,
 * 3 system error), three zero bytes, and the payload length as a big-endian uint32.
 * (moby pkg/stdcopy; Engine API "Stream format" under /containers/{id}/attach.)
 */
import { Transform, type TransformCallback } from 'node:stream';

export type StdStream = 0 | 1 | 2 | 3;

export const STDCOPY_HEADER_SIZE = 8;

/** One frame: header + payload. */
export function stdcopyFrame(stream: StdStream, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(STDCOPY_HEADER_SIZE);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Frames every chunk written to it as `stream`. */
export class StdcopyEncoder extends Transform {
  readonly #stream: StdStream;

  constructor(stream: StdStream) {
    super();
    this.#stream = stream;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length > 0) this.push(stdcopyFrame(this.#stream, chunk));
    done();
  }
}

/**
 * Splits a framed byte stream back into frames. Emits `{ stream, payload }` objects
 * (object mode). A stream that ends inside a frame is an error.
 */
export class StdcopyDecoder extends Transform {
  #pending: Buffer = Buffer.alloc(0);

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (buf.length >= STDCOPY_HEADER_SIZE) {
      const size = buf.readUInt32BE(4);
      if (buf.length < STDCOPY_HEADER_SIZE + size) break;
      const stream = buf[0] as StdStream;
      this.push({ stream, payload: buf.subarray(STDCOPY_HEADER_SIZE, STDCOPY_HEADER_SIZE + size) });
      buf = buf.subarray(STDCOPY_HEADER_SIZE + size);
    }
    this.#pending = Buffer.from(buf);
    done();
  }

  override _flush(done: TransformCallback): void {
    done(this.#pending.length ? new Error('stdcopy stream ended inside a frame') : null);
  }
}
