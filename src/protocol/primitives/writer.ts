// Encodes Kafka's wire types into a list of chunks ready for socket writev. Small writes land in a growable
// scratch buffer; large buffers (record batches on the Fetch path) are appended by reference, so a response
// carrying megabytes of records copies none of them.

import { ProtocolEncodeError } from './errors.js';
import { UUID_BYTE_LENGTH, UUID_TEXT_LENGTH } from './uuid.js';
import {
  unsignedVarintSize,
  varintSize,
  varlongSize,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from './varint.js';

/** What a `records` field accepts on encode: one buffer, or batches to send back to back. */
export type RecordsPayload = Buffer | readonly Buffer[];

/** Raw buffers at least this large are referenced instead of copied. */
export const MIN_REFERENCED_CHUNK_BYTES = 1024;

const DEFAULT_INITIAL_CAPACITY = 512;
const TWO_TO_32 = 2 ** 32;
// Scratch buffers double up to this size; past it a long message continues in fresh buffers of this size.
const MAX_SCRATCH_BYTES = 64 * 1024;
const MAX_INT16_STRING_BYTES = 0x7fff;
// A UTF-16 code unit never takes more than 3 UTF-8 bytes.
const MAX_UTF8_BYTES_PER_CODE_UNIT = 3;

export class Writer {
  private scratch: Buffer;
  /** Next write position in `scratch`. */
  private position = 0;
  /** Start of the scratch bytes not yet handed to `chunks`. */
  private pendingStart = 0;
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(initialCapacity = DEFAULT_INITIAL_CAPACITY) {
    this.scratch = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkBytes + this.position - this.pendingStart;
  }

  /** The encoded bytes as chunks; adjacent small writes share one chunk, big raw buffers are the caller's own. */
  toChunks(): Buffer[] {
    this.flushPending();
    return this.chunks.slice();
  }

  /** The encoded bytes as one buffer (copies only when there is more than one chunk). */
  toBuffer(): Buffer {
    this.flushPending();
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.chunkBytes);
  }

  writeInt8(value: number): void {
    const at = this.reserve(1);
    this.scratch.writeInt8(value, at);
  }

  writeInt16(value: number): void {
    const at = this.reserve(2);
    this.scratch.writeInt16BE(value, at);
  }

  writeInt32(value: number): void {
    const at = this.reserve(4);
    this.scratch.writeInt32BE(value, at);
  }

  writeUInt16(value: number): void {
    const at = this.reserve(2);
    this.scratch.writeUInt16BE(value, at);
  }

  writeUInt32(value: number): void {
    const at = this.reserve(4);
    this.scratch.writeUInt32BE(value, at);
  }

  writeInt64(value: bigint): void {
    const at = this.reserve(8);
    // Offsets, timestamps and ids fit a double exactly; writing them as two int32 halves avoids the
    // intermediate BigInts writeBigInt64BE allocates (a few percent of a broker's garbage per request).
    const exact = Number(value);
    if (Number.isSafeInteger(exact)) {
      this.scratch.writeInt32BE(Math.floor(exact / TWO_TO_32), at);
      this.scratch.writeUInt32BE(exact >>> 0, at + 4);
    } else {
      this.scratch.writeBigInt64BE(value, at);
    }
  }

  writeFloat64(value: number): void {
    const at = this.reserve(8);
    this.scratch.writeDoubleBE(value, at);
  }

  writeBool(value: boolean): void {
    const at = this.reserve(1);
    this.scratch[at] = value ? 1 : 0;
  }

  /** Takes Kafka's 22-character text form. */
  writeUuid(value: string): void {
    if (value.length !== UUID_TEXT_LENGTH) throw new ProtocolEncodeError(`not a Kafka UUID: '${value}'`);
    const start = this.reserve(UUID_BYTE_LENGTH);
    if (this.scratch.write(value, start, UUID_BYTE_LENGTH, 'base64url') !== UUID_BYTE_LENGTH) {
      throw new ProtocolEncodeError(`not a Kafka UUID: '${value}'`);
    }
  }

  writeUnsignedVarint(value: number): void {
    this.ensure(5);
    this.position = writeUnsignedVarint(this.scratch, this.position, value);
  }

  writeVarint(value: number): void {
    this.ensure(varintSize(value));
    this.position = writeVarint(this.scratch, this.position, value);
  }

  writeVarlong(value: number): void {
    this.ensure(varlongSize(value));
    this.position = writeVarlong(this.scratch, this.position, value);
  }

  /** int16 length then UTF-8. */
  writeString(value: string): void {
    this.ensure(2 + value.length * MAX_UTF8_BYTES_PER_CODE_UNIT);
    const start = this.position;
    const byteLength = this.scratch.write(value, start + 2, 'utf8');
    if (byteLength > MAX_INT16_STRING_BYTES) {
      throw new ProtocolEncodeError(`string of ${byteLength} bytes does not fit an int16 length`);
    }
    this.scratch.writeInt16BE(byteLength, start);
    this.position = start + 2 + byteLength;
  }

  writeNullableString(value: string | null): void {
    if (value === null) this.writeInt16(-1);
    else this.writeString(value);
  }

  /** Unsigned varint (length + 1) then UTF-8. */
  writeCompactString(value: string): void {
    const maxBytes = value.length * MAX_UTF8_BYTES_PER_CODE_UNIT;
    if (maxBytes < 0x7f) {
      // The length prefix is one byte whatever the encoding turns out to be: write the text once, in place.
      this.ensure(1 + maxBytes);
      const start = this.position;
      const byteLength = this.scratch.write(value, start + 1, 'utf8');
      this.scratch[start] = byteLength + 1;
      this.position = start + 1 + byteLength;
      return;
    }
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.ensure(unsignedVarintSize(byteLength + 1) + byteLength);
    this.position = writeUnsignedVarint(this.scratch, this.position, byteLength + 1);
    this.position += this.scratch.write(value, this.position, byteLength, 'utf8');
  }

  writeCompactNullableString(value: string | null): void {
    if (value === null) this.writeUnsignedVarint(0);
    else this.writeCompactString(value);
  }

  /** int32 length then the bytes (referenced, not copied, when large). */
  writeBytes(value: Buffer): void {
    this.writeInt32(value.length);
    this.writeRaw(value);
  }

  writeNullableBytes(value: Buffer | null): void {
    if (value === null) this.writeInt32(-1);
    else this.writeBytes(value);
  }

  writeCompactBytes(value: Buffer): void {
    this.writeUnsignedVarint(value.length + 1);
    this.writeRaw(value);
  }

  writeCompactNullableBytes(value: Buffer | null): void {
    if (value === null) this.writeUnsignedVarint(0);
    else this.writeCompactBytes(value);
  }

  /** A `records` field in a non-flexible version: int32 total length (-1 for null), then the batches. */
  writeRecords(value: RecordsPayload | null): void {
    if (value === null) {
      this.writeInt32(-1);
    } else if (Buffer.isBuffer(value)) {
      this.writeBytes(value);
    } else {
      this.writeInt32(totalLength(value));
      this.writeRawChunks(value);
    }
  }

  /** A `records` field in a flexible version: unsigned varint (length + 1, 0 for null), then the batches. */
  writeCompactRecords(value: RecordsPayload | null): void {
    if (value === null) {
      this.writeUnsignedVarint(0);
    } else if (Buffer.isBuffer(value)) {
      this.writeCompactBytes(value);
    } else {
      this.writeUnsignedVarint(totalLength(value) + 1);
      this.writeRawChunks(value);
    }
  }

  /** int32 element count, -1 for null. */
  writeArrayLength(length: number | null): void {
    this.writeInt32(length === null ? -1 : length);
  }

  /** Unsigned varint (count + 1), 0 for null. */
  writeCompactArrayLength(length: number | null): void {
    this.writeUnsignedVarint(length === null ? 0 : length + 1);
  }

  /**
   * Appends bytes with no length prefix. Buffers of MIN_REFERENCED_CHUNK_BYTES or more become chunks of their
   * own: the caller must not modify them until the chunks have been written out.
   */
  writeRaw(value: Buffer): void {
    if (value.length >= MIN_REFERENCED_CHUNK_BYTES) {
      this.flushPending();
      this.chunks.push(value);
      this.chunkBytes += value.length;
      return;
    }
    const start = this.reserve(value.length);
    value.copy(this.scratch, start);
  }

  writeRawChunks(values: readonly Buffer[]): void {
    for (const value of values) this.writeRaw(value);
  }

  /**
   * Returns the offset in `scratch` where `byteCount` free bytes start, and moves past them. May replace
   * `scratch`: callers must read `this.scratch` only after calling this.
   */
  private reserve(byteCount: number): number {
    this.ensure(byteCount);
    const start = this.position;
    this.position = start + byteCount;
    return start;
  }

  private ensure(byteCount: number): void {
    if (this.position + byteCount <= this.scratch.length) return;
    // Hand the pending bytes over as a chunk and continue in a fresh buffer: nothing written is ever copied.
    this.flushPending();
    const size = Math.max(Math.min(this.scratch.length * 2, MAX_SCRATCH_BYTES), byteCount);
    this.scratch = Buffer.allocUnsafe(size);
    this.position = 0;
    this.pendingStart = 0;
  }

  private flushPending(): void {
    if (this.position === this.pendingStart) return;
    this.chunks.push(this.scratch.subarray(this.pendingStart, this.position));
    this.chunkBytes += this.position - this.pendingStart;
    this.pendingStart = this.position;
  }
}

function totalLength(chunks: readonly Buffer[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

/** Fails an encode that would put null where the message version does not allow it. */
export function nonNull<T>(value: T | null, field: string): T {
  if (value === null) throw new ProtocolEncodeError(`${field} is not nullable at this version`);
  return value;
}
