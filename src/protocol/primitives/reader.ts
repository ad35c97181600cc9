// Bounds-checked reads of Kafka's wire types. Every failure (truncated input, negative or oversized length)
// surfaces as ProtocolDecodeError, never as Node's RangeError, so a hostile frame can only cost one exception.
// Byte and records fields come back as subarrays of the input: the caller owns the input buffer's lifetime.

import { ProtocolDecodeError } from './errors.js';
import { UUID_BYTE_LENGTH } from './uuid.js';
import { readUnsignedVarint, readVarint, readVarlong, VarintError } from './varint.js';

export class Reader {
  readonly buf: Buffer;
  offset: number;

  constructor(buf: Buffer, offset = 0) {
    if (offset < 0 || offset > buf.length) {
      throw new ProtocolDecodeError(`reader offset ${offset} is outside a ${buf.length}-byte buffer`);
    }
    this.buf = buf;
    this.offset = offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Reserves `n` bytes and returns where they start. */
  private take(n: number): number {
    const start = this.offset;
    if (n > this.buf.length - start) {
      throw new ProtocolDecodeError(
        `needed ${n} bytes at offset ${start} but only ${this.buf.length - start} remain`,
      );
    }
    this.offset = start + n;
    return start;
  }

  skip(n: number): void {
    if (n < 0) throw new ProtocolDecodeError(`cannot skip a negative byte count (${n})`);
    this.take(n);
  }

  readInt8(): number {
    return this.buf.readInt8(this.take(1));
  }

  readInt16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  readInt32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  readUInt16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  readUInt32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  readInt64(): bigint {
    return this.buf.readBigInt64BE(this.take(8));
  }

  readFloat64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  readBool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  /** 16 bytes, returned in Kafka's text form (22 characters of URL-safe base64). */
  readUuid(): string {
    const start = this.take(UUID_BYTE_LENGTH);
    return this.buf.toString('base64url', start, start + UUID_BYTE_LENGTH);
  }

  readUnsignedVarint(): number {
    // Lengths and tag counts are nearly always below 128: take the one-byte case without a call.
    const offset = this.offset;
    if (offset < this.buf.length) {
      const first = this.buf[offset]!;
      if (first < 0x80) {
        this.offset = offset + 1;
        return first;
      }
    }
    try {
      return readUnsignedVarint(this.buf, this);
    } catch (error) {
      throw asDecodeError(error);
    }
  }

  readVarint(): number {
    try {
      return readVarint(this.buf, this);
    } catch (error) {
      throw asDecodeError(error);
    }
  }

  /** Zig-zag varlong as a number; see varint.ts for the precision note. */
  readVarlong(): number {
    try {
      return readVarlong(this.buf, this);
    } catch (error) {
      throw asDecodeError(error);
    }
  }

  /** int16 length then UTF-8. */
  readString(): string {
    const length = this.readInt16();
    if (length < 0) throw new ProtocolDecodeError(`non-nullable string has length ${length}`);
    return this.utf8(length);
  }

  readNullableString(): string | null {
    const length = this.readInt16();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`string has invalid length ${length}`);
    return this.utf8(length);
  }

  /** Unsigned varint (length + 1) then UTF-8. */
  readCompactString(): string {
    const length = this.readUnsignedVarint() - 1;
    if (length < 0) throw new ProtocolDecodeError('non-nullable compact string is null');
    return this.utf8(length);
  }

  readCompactNullableString(): string | null {
    const length = this.readUnsignedVarint() - 1;
    return length < 0 ? null : this.utf8(length);
  }

  /** int32 length then the bytes, as a subarray of the input (no copy). */
  readBytes(): Buffer {
    const length = this.readInt32();
    if (length < 0) throw new ProtocolDecodeError(`non-nullable bytes have length ${length}`);
    return this.slice(length);
  }

  readNullableBytes(): Buffer | null {
    const length = this.readInt32();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`bytes have invalid length ${length}`);
    return this.slice(length);
  }

  readCompactBytes(): Buffer {
    const length = this.readUnsignedVarint() - 1;
    if (length < 0) throw new ProtocolDecodeError('non-nullable compact bytes are null');
    return this.slice(length);
  }

  readCompactNullableBytes(): Buffer | null {
    const length = this.readUnsignedVarint() - 1;
    return length < 0 ? null : this.slice(length);
  }

  /**
   * int32 element count, null for -1. Every element takes at least one byte, so a count above the remaining
   * byte count is rejected before anyone allocates for it.
   */
  readArrayLength(): number | null {
    const length = this.readInt32();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolDecodeError(`array has invalid length ${length}`);
    return this.checkArrayLength(length);
  }

  /** Unsigned varint (count + 1), null for 0. */
  readCompactArrayLength(): number | null {
    const length = this.readUnsignedVarint() - 1;
    return length < 0 ? null : this.checkArrayLength(length);
  }

  /** Skips a flexible struct's tagged-field section (count, then tag, size and data per field). */
  skipTaggedFields(): void {
    const count = this.readUnsignedVarint();
    for (let index = 0; index < count; index++) {
      this.readUnsignedVarint();
      this.skip(this.readUnsignedVarint());
    }
  }

  private checkArrayLength(length: number): number {
    if (length > this.remaining) {
      throw new ProtocolDecodeError(
        `array claims ${length} elements but only ${this.remaining} bytes remain`,
      );
    }
    return length;
  }

  private utf8(length: number): string {
    const start = this.take(length);
    return this.buf.toString('utf8', start, start + length);
  }

  private slice(length: number): Buffer {
    const start = this.take(length);
    return this.buf.subarray(start, start + length);
  }
}

function asDecodeError(error: unknown): unknown {
  return error instanceof VarintError ? new ProtocolDecodeError(error.message, { cause: error }) : error;
}
