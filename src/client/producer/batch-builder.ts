// Builds one magic-2 record batch in place: records are encoded straight into a buffer allocated once per batch
// (strings are UTF-8 encoded into it directly, never through an intermediate Buffer), and sealing writes the
// 61-byte header in front of them. Compression then only has to read the records section.
// The byte layout is src/protocol/records's (batch.ts documents the record format); batch-builder.test.ts checks
// the output byte for byte against encodeRecordBatch.
import { varintSize, varlongSize, writeVarint, writeVarlong } from '../../protocol/primitives/varint.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CodecId,
  type CodecIdValue,
  CRC_OFFSET,
  CURRENT_MAGIC,
  compressAsync,
  crc32c,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  writeInt64,
} from '../../protocol/records/index.js';

/** A record key or value: UTF-8 text, raw bytes, or null. */
export type RecordData = string | Buffer | null;

/** One header value; a header name given several values is written once per value, in order. */
export type HeaderValue = string | Buffer | null;

/** Record headers as a plain object; undefined entries are skipped. */
export type RecordHeaders = Record<string, HeaderValue | readonly HeaderValue[] | undefined>;

/** Byte length of a key, value or header value as written: -1 for null. */
export function dataLength(data: RecordData): number {
  if (data === null) return -1;
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}

function fieldSize(length: number): number {
  return length < 0 ? 1 : varintSize(length) + length;
}

function headerValuesSize(values: HeaderValue | readonly HeaderValue[], nameSize: number): [number, number] {
  if (Array.isArray(values)) {
    let size = 0;
    for (const value of values as readonly HeaderValue[]) size += nameSize + fieldSize(dataLength(value));
    return [size, values.length];
  }
  return [nameSize + fieldSize(dataLength(values as HeaderValue)), 1];
}

/** Encoded size of the headers section (count varint included). */
export function headersSize(headers: RecordHeaders | undefined): number {
  if (headers === undefined) return 1;
  let size = 0;
  let count = 0;
  for (const name in headers) {
    const values = headers[name];
    if (values === undefined) continue;
    const nameBytes = Buffer.byteLength(name, 'utf8');
    const [valuesSize, valueCount] = headerValuesSize(values, varintSize(nameBytes) + nameBytes);
    size += valuesSize;
    count += valueCount;
  }
  return size + varintSize(count);
}

/**
 * Encoded size of one record (its length varint included) at `offsetDelta` / `timestampDelta` within a batch.
 * `headerBytes` is headersSize(headers).
 */
export function recordSize(
  keyLength: number,
  valueLength: number,
  headerBytes: number,
  offsetDelta: number,
  timestampDelta: number,
): number {
  const body =
    1 +
    varlongSize(timestampDelta) +
    varintSize(offsetDelta) +
    fieldSize(keyLength) +
    fieldSize(valueLength) +
    headerBytes;
  return varintSize(body) + body;
}

/** Bytes a batch holding only this record needs, header included: the smallest buffer it can go in. */
export function soloBatchSize(keyLength: number, valueLength: number, headerBytes: number): number {
  return RECORDS_OFFSET + recordSize(keyLength, valueLength, headerBytes, 0, 0);
}

export class RecordBatchBuilder {
  private buffer: Buffer;
  /** End of the records written so far. */
  private position = RECORDS_OFFSET;
  private count = 0;
  private baseTimestampMs = 0;
  private maxTimestampMs = 0;

  constructor(capacityBytes: number) {
    this.buffer = Buffer.allocUnsafe(capacityBytes);
  }

  get recordCount(): number {
    return this.count;
  }

  /** Bytes of the uncompressed batch so far, header included. */
  get sizeBytes(): number {
    return this.position;
  }

  get capacityBytes(): number {
    return this.buffer.length;
  }

  /** The batch size after appending a record of these sizes (record sizes depend on the batch's deltas). */
  sizeWith(keyLength: number, valueLength: number, headerBytes: number, timestampMs: number): number {
    const timestampDelta = this.count === 0 ? 0 : timestampMs - this.baseTimestampMs;
    return this.position + recordSize(keyLength, valueLength, headerBytes, this.count, timestampDelta);
  }

  /** Moves the records into a buffer of `capacityBytes` (more than now). */
  grow(capacityBytes: number): void {
    const larger = Buffer.allocUnsafe(capacityBytes);
    this.buffer.copy(larger, 0, 0, this.position);
    this.buffer = larger;
  }

  /**
   * Appends one record if it fits and returns true; returns false (writing nothing) when it does not.
   * keyLength/valueLength are dataLength() of key/value, headerBytes is headersSize(headers): the caller has
   * them already from routing and sizing, so they are not computed twice.
   */
  tryAppend(
    key: RecordData,
    keyLength: number,
    value: RecordData,
    valueLength: number,
    headers: RecordHeaders | undefined,
    headerBytes: number,
    timestampMs: number,
  ): boolean {
    const offsetDelta = this.count;
    if (offsetDelta === 0) {
      this.baseTimestampMs = timestampMs;
      this.maxTimestampMs = timestampMs;
    }
    const timestampDelta = timestampMs - this.baseTimestampMs;
    const body =
      1 +
      varlongSize(timestampDelta) +
      varintSize(offsetDelta) +
      fieldSize(keyLength) +
      fieldSize(valueLength) +
      headerBytes;
    const buf = this.buffer;
    let at = this.position;
    if (at + varintSize(body) + body > buf.length) return false;
    at = writeVarint(buf, at, body);
    buf[at++] = 0;
    at = writeVarlong(buf, at, timestampDelta);
    at = writeVarint(buf, at, offsetDelta);
    at = writeData(buf, at, key, keyLength);
    at = writeData(buf, at, value, valueLength);
    at = headers === undefined ? writeVarint(buf, at, 0) : writeHeaders(buf, at, headers);
    this.position = at;
    this.count = offsetDelta + 1;
    if (timestampMs > this.maxTimestampMs) this.maxTimestampMs = timestampMs;
    return true;
  }

  /** The finished batch (header + records), compressed with `codec`. Call once, after the last append. */
  async seal(codec: CodecIdValue): Promise<Buffer> {
    if (codec === CodecId.none) return this.sealUncompressed();
    const compressed = await compressAsync(codec, this.buffer.subarray(RECORDS_OFFSET, this.position));
    const batch = Buffer.allocUnsafe(RECORDS_OFFSET + compressed.length);
    compressed.copy(batch, RECORDS_OFFSET);
    return this.writeHeader(batch, codec);
  }

  /** Synchronous seal without compression: a view of the builder's own buffer, no copy. */
  sealUncompressed(): Buffer {
    return this.writeHeader(this.buffer.subarray(0, this.position), CodecId.none);
  }

  private writeHeader(batch: Buffer, codec: CodecIdValue): Buffer {
    if (this.count === 0) throw new RangeError('a record batch needs at least one record');
    writeInt64(batch, BASE_OFFSET_OFFSET, 0);
    batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
    batch[MAGIC_OFFSET] = CURRENT_MAGIC;
    batch.writeUInt16BE(codec, ATTRIBUTES_OFFSET);
    batch.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    writeInt64(batch, BASE_TIMESTAMP_OFFSET, this.baseTimestampMs);
    writeInt64(batch, MAX_TIMESTAMP_OFFSET, this.maxTimestampMs);
    writeInt64(batch, PRODUCER_ID_OFFSET, NO_PRODUCER_ID);
    batch.writeInt16BE(NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    batch.writeInt32BE(NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
    batch.writeInt32BE(this.count, RECORD_COUNT_OFFSET);
    batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET), CRC_OFFSET);
    return batch;
  }
}

/** Writes a length-prefixed key, value or header value whose byte length the caller measured. */
function writeData(buf: Buffer, at: number, data: RecordData, length: number): number {
  at = writeVarint(buf, at, length);
  if (data === null) return at;
  if (typeof data === 'string') buf.write(data, at, length, 'utf8');
  else buf.set(data, at);
  return at + length;
}

function writeHeader(buf: Buffer, at: number, nameBytes: number, name: string, value: HeaderValue): number {
  at = writeVarint(buf, at, nameBytes);
  at += buf.write(name, at, nameBytes, 'utf8');
  return writeData(buf, at, value, dataLength(value));
}

function writeHeaders(buf: Buffer, at: number, headers: RecordHeaders): number {
  let count = 0;
  for (const name in headers) {
    const values = headers[name];
    if (values !== undefined) count += Array.isArray(values) ? values.length : 1;
  }
  at = writeVarint(buf, at, count);
  for (const name in headers) {
    const values = headers[name];
    if (values === undefined) continue;
    const nameBytes = Buffer.byteLength(name, 'utf8');
    if (Array.isArray(values)) {
      for (const value of values as readonly HeaderValue[]) at = writeHeader(buf, at, nameBytes, name, value);
    } else {
      at = writeHeader(buf, at, nameBytes, name, values as HeaderValue);
    }
  }
  return at;
}
