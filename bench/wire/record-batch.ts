// Record batches (magic 2) as the bench writes and reads them. The bench keeps its own small encoder rather
// than the broker's codecs so that it measures the broker against an independent implementation of the format.
import { crc32c } from '@node-rs/crc32';
import { readVarint, readVarlong, varintSize, writeVarint } from '../../src/protocol/primitives/varint.js';

/** Bytes before the first record: base offset through record count. */
export const RECORD_BATCH_HEADER_BYTES = 61;
/** Offset of the CRC inside a batch; the CRC covers everything from the attributes to the end. */
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LENGTH_FIELDS_BYTES = 12;
const COMPRESSION_MASK = 0x07;

export interface RecordBatchOptions {
  timestampMs: number;
  partitionLeaderEpoch?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
}

export class RecordBatchFormatError extends Error {
  override name = 'RecordBatchFormatError';
}

/** One uncompressed batch of null-key, header-less records, with base offset 0 and a valid CRC. */
export function encodeRecordBatch(values: readonly Buffer[], options: RecordBatchOptions): Buffer {
  if (values.length === 0) throw new RecordBatchFormatError('a record batch needs at least one record');
  let recordsBytes = 0;
  const bodySizes = values.map((value, offsetDelta) => {
    // attributes, timestamp delta 0, offset delta, null key, value, empty header count
    const bodyBytes = 1 + 1 + varintSize(offsetDelta) + 1 + varintSize(value.length) + value.length + 1;
    recordsBytes += varintSize(bodyBytes) + bodyBytes;
    return bodyBytes;
  });
  const batch = Buffer.alloc(RECORD_BATCH_HEADER_BYTES + recordsBytes);
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(batch.length - LENGTH_FIELDS_BYTES, 8);
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(0, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(values.length - 1, 23);
  batch.writeBigInt64BE(BigInt(options.timestampMs), 27);
  batch.writeBigInt64BE(BigInt(options.timestampMs), 35);
  batch.writeBigInt64BE(options.producerId ?? -1n, 43);
  batch.writeInt16BE(options.producerEpoch ?? -1, 51);
  batch.writeInt32BE(options.baseSequence ?? -1, 53);
  batch.writeInt32BE(values.length, 57);
  let offset = RECORD_BATCH_HEADER_BYTES;
  values.forEach((value, offsetDelta) => {
    offset = writeVarint(batch, offset, bodySizes[offsetDelta]!);
    batch[offset++] = 0;
    batch[offset++] = 0;
    offset = writeVarint(batch, offset, offsetDelta);
    offset = writeVarint(batch, offset, -1);
    offset = writeVarint(batch, offset, value.length);
    offset += value.copy(batch, offset);
    offset = writeVarint(batch, offset, 0);
  });
  updateRecordBatchCrc(batch);
  return batch;
}

/** Recomputes the CRC after the caller patched bytes of a batch (for example a value). */
export function updateRecordBatchCrc(batch: Buffer): void {
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

/** Where the value of the last record starts: every record the bench writes ends with one empty-header byte. */
export function lastRecordValueOffset(batch: Buffer, valueBytes: number): number {
  return batch.length - 1 - valueBytes;
}

export interface BatchSpan {
  /** Offset after the last record of the last complete batch, or -1 when no batch was complete. */
  nextOffset: number;
  records: number;
  bytes: number;
}

/**
 * Walks the batch headers of a fetched records field without reading records. A broker may end the field
 * with a partial batch (when a size limit cuts it); that tail is not counted.
 */
export function spanOfBatches(buf: Buffer, start: number, end: number): BatchSpan {
  const span: BatchSpan = { nextOffset: -1, records: 0, bytes: 0 };
  let offset = start;
  while (offset + RECORD_BATCH_HEADER_BYTES <= end) {
    const batchBytes = buf.readInt32BE(offset + 8) + LENGTH_FIELDS_BYTES;
    if (offset + batchBytes > end) break;
    const baseOffset = Number(buf.readBigInt64BE(offset));
    const lastOffsetDelta = buf.readInt32BE(offset + 23);
    span.nextOffset = baseOffset + lastOffsetDelta + 1;
    span.records += lastOffsetDelta + 1;
    span.bytes += batchBytes;
    offset += batchBytes;
  }
  return span;
}

/**
 * Calls `onValue` with (buffer, valueStart, valueEnd) for each record value in the complete batches of
 * [start, end). Returns the offset after the last complete batch, or -1. Compressed batches are refused:
 * the bench never writes them.
 */
export function forEachRecordValue(
  buf: Buffer,
  start: number,
  end: number,
  onValue: (buf: Buffer, valueStart: number, valueEnd: number) => void,
): number {
  let nextOffset = -1;
  let offset = start;
  const cursor = { offset: 0 };
  while (offset + RECORD_BATCH_HEADER_BYTES <= end) {
    const batchEnd = offset + buf.readInt32BE(offset + 8) + LENGTH_FIELDS_BYTES;
    if (batchEnd > end) break;
    if ((buf.readInt16BE(offset + ATTRIBUTES_OFFSET) & COMPRESSION_MASK) !== 0) {
      throw new RecordBatchFormatError('fetched a compressed batch; the bench writes only uncompressed ones');
    }
    const recordCount = buf.readInt32BE(offset + 57);
    cursor.offset = offset + RECORD_BATCH_HEADER_BYTES;
    for (let i = 0; i < recordCount; i++) {
      const bodyBytes = readVarint(buf, cursor);
      const recordEnd = cursor.offset + bodyBytes;
      cursor.offset += 1; // attributes
      readVarlong(buf, cursor); // timestamp delta
      readVarint(buf, cursor); // offset delta
      const keyBytes = readVarint(buf, cursor);
      if (keyBytes > 0) cursor.offset += keyBytes;
      const valueBytes = readVarint(buf, cursor);
      if (valueBytes >= 0) onValue(buf, cursor.offset, cursor.offset + valueBytes);
      cursor.offset = recordEnd;
      if (recordEnd > batchEnd) throw new RecordBatchFormatError('a record runs past the end of its batch');
    }
    nextOffset = Number(buf.readBigInt64BE(offset)) + buf.readInt32BE(offset + 23) + 1;
    offset = batchEnd;
  }
  return nextOffset;
}
