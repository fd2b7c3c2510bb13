// Pull-style reading of an async byte stream: exact-size reads for headers, and chunked passes over large
// payloads without ever holding them whole. Used by the .mat reader, both on the file and on the
// inflated contents of a compressed variable.

export class TruncatedError extends Error {}

export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes handed out so far (position in the stream). */
  pos = 0;

  constructor(private readonly src: AsyncIterator<Buffer | Uint8Array>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.src.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** Exactly n bytes (copied), or TruncatedError when the stream ends first. */
  async exact(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (!(await this.fill())) throw new TruncatedError(`needed ${n} bytes at offset ${this.pos}, the data ends after ${this.buf.length}`);
    }
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    this.pos += n;
    return out;
  }

  /** Up to n bytes, fewer only at the end of the stream. */
  async upTo(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.fill()));
    const k = Math.min(n, this.buf.length);
    const out = Buffer.from(this.buf.subarray(0, k));
    this.buf = this.buf.subarray(k);
    this.pos += k;
    return out;
  }

  /** Exactly n bytes as a series of chunks (views, valid until the next call). */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) {
        throw new TruncatedError(`needed ${left} more bytes at offset ${this.pos}, the data ended`);
      }
      const k = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, k);
      this.buf = this.buf.subarray(k);
      this.pos += k;
      left -= k;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n));
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return this.buf.length === 0 && !(await this.fill());
  }

  /** Consume to the end (lets an upstream decoder report a bad trailer). */
  async drain(): Promise<void> {
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}
