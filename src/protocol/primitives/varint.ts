// Variable-length integers as Kafka writes them: unsigned LEB128 varints (flexible-version lengths and tags)
// and zig-zag signed varints/varlongs (record fields). Each reader returns the value and advances a cursor so
// that hot loops over records allocate nothing.

/** A read position inside a buffer, advanced by the readers below. */
export interface Cursor {
  offset: number;
}

export class VarintError extends Error {
  override name = 'VarintError';
}

export function readUnsignedVarint(buf: Buffer, cursor: Cursor): number {
  let value = 0;
  let shift = 0;
  let offset = cursor.offset;
  for (;;) {
    if (offset >= buf.length) throw new VarintError('varint runs past the end of the buffer');
    const byte = buf[offset++]!;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new VarintError('varint is longer than 5 bytes');
  }
  cursor.offset = offset;
  return value >>> 0;
}

export function readVarint(buf: Buffer, cursor: Cursor): number {
  const raw = readUnsignedVarint(buf, cursor);
  return (raw >>> 1) ^ -(raw & 1);
}

/** Zig-zag varlong. Values beyond 2^53 lose precision; record timestamps and deltas never get there. */
export function readVarlong(buf: Buffer, cursor: Cursor): number {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let offset = cursor.offset;
  for (;;) {
    if (offset >= buf.length) throw new VarintError('varlong runs past the end of the buffer');
    const byte = buf[offset++]!;
    const bits = byte & 0x7f;
    if (shift < 28) {
      lo |= bits << shift;
    } else if (shift === 28) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >>> 4;
    } else {
      hi |= bits << (shift - 32);
    }
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new VarintError('varlong is longer than 10 bytes');
  }
  cursor.offset = offset;
  const unsigned = (hi >>> 0) * 0x100000000 + (lo >>> 0);
  // zig-zag: (n >>> 1) ^ -(n & 1), done in float arithmetic because n may exceed 32 bits.
  const half = Math.floor(unsigned / 2);
  return (lo & 1) === 0 ? half : -half - 1;
}

export function unsignedVarintSize(value: number): number {
  let v = value >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

export function varintSize(value: number): number {
  return unsignedVarintSize((value << 1) ^ (value >> 31));
}

export function varlongSize(value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Writes at `offset`, returns the offset after the varint. The caller guarantees the space. */
export function writeUnsignedVarint(buf: Buffer, offset: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  return offset;
}

export function writeVarint(buf: Buffer, offset: number, value: number): number {
  return writeUnsignedVarint(buf, offset, (value << 1) ^ (value >> 31));
}

export function writeVarlong(buf: Buffer, offset: number, value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  while (v >= 0x80) {
    buf[offset++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[offset++] = v;
  return offset;
}
