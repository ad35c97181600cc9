// Minimal big-endian writer and reader for the few non-flexible request/response versions the bench uses.

export class ResponseFormatError extends Error {
  override name = 'ResponseFormatError';
}

/** Builds one request frame: the 4-byte size, the request header v1 and the body. Not for hot paths. */
export class FrameWriter {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(apiKey: number, apiVersion: number, correlationId: number, clientId: string) {
    this.int16(apiKey).int16(apiVersion).int32(correlationId).string(clientId);
  }

  int8(value: number): this {
    return this.fixed(1, (b) => b.writeInt8(value, 0));
  }

  int16(value: number): this {
    return this.fixed(2, (b) => b.writeInt16BE(value, 0));
  }

  int32(value: number): this {
    return this.fixed(4, (b) => b.writeInt32BE(value, 0));
  }

  int64(value: bigint): this {
    return this.fixed(8, (b) => b.writeBigInt64BE(value, 0));
  }

  /** Nullable string: null is length -1. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const encoded = Buffer.from(value, 'utf8');
    return this.int16(encoded.length).raw(encoded);
  }

  /** Nullable bytes with an int32 length (the `records` type in non-flexible versions). */
  bytesField(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }

  array<T>(items: readonly T[], writeItem: (writer: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  raw(value: Buffer): this {
    this.chunks.push(value);
    this.bytes += value.length;
    return this;
  }

  finish(): Buffer {
    const size = Buffer.alloc(4);
    size.writeInt32BE(this.bytes, 0);
    return Buffer.concat([size, ...this.chunks], 4 + this.bytes);
  }

  private fixed(bytes: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(bytes);
    write(b);
    return this.raw(b);
  }
}

/** Reads a response payload (after the correlation id) front to back, checking bounds as it goes. */
export class ResponseReader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  int8(): number {
    return this.buf.readInt8(this.advance(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.advance(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.advance(4));
  }

  /** Offsets and timestamps fit in 2^53 for everything the bench does. */
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.advance(8)));
  }

  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const start = this.advance(length);
    return this.buf.toString('utf8', start, start + length);
  }

  /** Returns the byte range of a nullable int32-length field without copying it. */
  bytesRange(): { start: number; end: number } | null {
    const length = this.int32();
    if (length < 0) return null;
    const start = this.advance(length);
    return { start, end: start + length };
  }

  /** Array length; -1 (null) reads as 0 items. */
  arrayLength(): number {
    return Math.max(0, this.int32());
  }

  private advance(bytes: number): number {
    const start = this.offset;
    if (start + bytes > this.buf.length) {
      throw new ResponseFormatError(`response ends at ${this.buf.length}, needed ${start + bytes}`);
    }
    this.offset = start + bytes;
    return start;
  }
}
