// Full encoding and decoding of magic-2 record batches, for clients, tools and the broker's recompression.
// Record layout (Kafka's DefaultRecord), all varints zig-zag:
//   length varint | attributes i8 | timestampDelta varlong | offsetDelta varint | key (varint length, -1 = null)
//   | value (same) | header count varint | headers: key (varint length + UTF-8) | value (varint length, -1 = null)
import { readVarint, readVarlong, VarintError } from '../primitives/varint.js';
import {
  codecIdOf,
  compress,
  compressAsync,
  type DecompressOptions,
  decompress,
  decompressAsync,
} from './compression.js';
import { crc32c } from './crc.js';
import { type BatchHeaderFields, dataLength, headersSize, RecordBatchEncoder, recordSize } from './encode.js';
import { CorruptRecordError, InvalidRecordError } from './errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CodecId,
  type CodecIdValue,
  type Compression,
  CRC_OFFSET,
  CURRENT_MAGIC,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  readInt64,
  TIMESTAMP_TYPE_MASK,
  type TimestampType,
  TRANSACTIONAL_FLAG_MASK,
} from './layout.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch (CreateTime), or -1 for none. */
  timestamp: number;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
}

export interface RecordBatchInput {
  records: RecordInput[];
  baseOffset?: number;
  /** Defaults to -1, as the Java producer writes; the broker overwrites it. */
  partitionLeaderEpoch?: number;
  compression?: Compression;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  timestampType?: TimestampType;
}

export interface DecodedRecord {
  offset: number;
  offsetDelta: number;
  /** With LogAppendTime this is the batch's MaxTimestamp, as Kafka defines it. */
  timestamp: number;
  attributes: number;
  /** Views into the decoded (or decompressed) buffer, not copies. */
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedRecordBatch {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  /** Kafka codec id, 0-4. */
  codec: CodecIdValue;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  records: DecodedRecord[];
}

export interface DecodeOptions {
  /** Check each batch's CRC-32C (default true), as Java's check.crcs does. */
  verifyCrc?: boolean;
  /** Bound on one batch's decompressed records. */
  maxDecompressedBytes?: number;
}

// --- encoding -----------------------------------------------------------------------------------------------

/** The records encoded (by the producer's encoder, encode.ts) into one buffer of the exact size. */
function prepareBatch(input: RecordBatchInput): {
  encoder: RecordBatchEncoder;
  codec: CodecIdValue;
  fields: BatchHeaderFields;
} {
  const records = input.records;
  if (records.length === 0) throw new RangeError('a record batch needs at least one record');
  const baseTimestamp = records[0]!.timestamp;
  const headerBytes = new Array<number>(records.length);
  let size = RECORDS_OFFSET;
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    headerBytes[index] = headersSize(record.headers);
    size += recordSize(
      dataLength(record.key),
      dataLength(record.value),
      headerBytes[index]!,
      record.offsetDelta ?? index,
      record.timestamp - baseTimestamp,
    );
  }
  const encoder = new RecordBatchEncoder([Buffer.allocUnsafe(size)], size);
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    encoder.tryAppend(
      record.key,
      dataLength(record.key),
      record.value,
      dataLength(record.value),
      record.headers,
      headerBytes[index]!,
      record.timestamp,
      record.offsetDelta ?? index,
    );
  }
  let attributeFlags = 0;
  if (input.timestampType === 'logAppend') attributeFlags |= TIMESTAMP_TYPE_MASK;
  if (input.isTransactional) attributeFlags |= TRANSACTIONAL_FLAG_MASK;
  if (input.isControl) attributeFlags |= CONTROL_FLAG_MASK;
  const fields: BatchHeaderFields = { attributeFlags };
  if (input.baseOffset !== undefined) fields.baseOffset = input.baseOffset;
  if (input.partitionLeaderEpoch !== undefined) fields.partitionLeaderEpoch = input.partitionLeaderEpoch;
  if (input.producerId !== undefined) fields.producerId = input.producerId;
  if (input.producerEpoch !== undefined) fields.producerEpoch = input.producerEpoch;
  if (input.baseSequence !== undefined) fields.baseSequence = input.baseSequence;
  return { encoder, codec: codecIdOf(input.compression ?? 'none'), fields };
}

function withRecordsSection(header: Buffer, section: Buffer): Buffer {
  const batch = Buffer.allocUnsafe(RECORDS_OFFSET + section.length);
  header.copy(batch, 0, 0, RECORDS_OFFSET);
  section.copy(batch, RECORDS_OFFSET);
  return batch;
}

/** Encodes one magic-2 batch; compression runs synchronously on the calling thread. */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const { encoder, codec, fields } = prepareBatch(input);
  if (codec === CodecId.none) return encoder.sealUncompressed(fields)[0]!;
  return encoder.sealCompressed(compress(codec, encoder.recordsSection()[0]!), codec, fields);
}

/** Like encodeRecordBatch, with gzip, snappy and lz4 compression off the event loop. */
export async function encodeRecordBatchAsync(input: RecordBatchInput): Promise<Buffer> {
  const { encoder, codec, fields } = prepareBatch(input);
  return (await encoder.seal(codec, fields))[0]!;
}

// --- decoding -----------------------------------------------------------------------------------------------

interface BatchBounds {
  position: number;
  end: number;
}

/**
 * Finds the whole batches in `buf`. A Fetch response may end inside a batch (the broker cuts at the byte
 * limit), so an incomplete tail is skipped; a whole batch with a bad length or magic is an error.
 */
export function* wholeBatches(buf: Buffer): Generator<BatchBounds> {
  let position = 0;
  while (buf.length - position >= LOG_OVERHEAD) {
    const batchLength = buf.readInt32BE(position + BATCH_LENGTH_OFFSET);
    const end = position + LOG_OVERHEAD + batchLength;
    if (batchLength >= 0 && end > buf.length) return;
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new CorruptRecordError(`batch at byte ${position} has length ${batchLength}`);
    }
    if (buf[position + MAGIC_OFFSET] !== CURRENT_MAGIC) {
      throw new InvalidRecordError(`batch at byte ${position} has magic ${buf[position + MAGIC_OFFSET]}`);
    }
    yield { position, end };
    position = end;
  }
}

function decodeHeader(buf: Buffer, { position, end }: BatchBounds, verifyCrc: boolean): DecodedRecordBatch {
  const crc = buf.readUInt32BE(position + CRC_OFFSET);
  if (verifyCrc) {
    const actual = crc32c(buf, position + ATTRIBUTES_OFFSET, end);
    if (actual !== crc) throw new CorruptRecordError(`batch at byte ${position} fails its CRC check`);
  }
  const attributes = buf.readUInt16BE(position + ATTRIBUTES_OFFSET);
  return {
    baseOffset: readInt64(buf, position + BASE_OFFSET_OFFSET),
    batchLength: buf.readInt32BE(position + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic: CURRENT_MAGIC,
    crc,
    attributes,
    codec: codecIdOf(attributes & COMPRESSION_CODEC_MASK),
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? 'logAppend' : 'create',
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, position + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, position + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, position + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(position + BASE_SEQUENCE_OFFSET),
    records: [],
  };
}

function readBytesField(buf: Buffer, cursor: { offset: number }, end: number): Buffer | null {
  const length = readVarint(buf, cursor);
  if (length === -1) return null;
  if (length < -1 || cursor.offset + length > end)
    throw new InvalidRecordError(`record field has length ${length}`);
  const data = buf.subarray(cursor.offset, cursor.offset + length);
  cursor.offset += length;
  return data;
}

function decodeRecords(batch: DecodedRecordBatch, section: Buffer, count: number): DecodedRecord[] {
  // A record takes at least 7 bytes, so a count the section cannot hold is rejected before allocating.
  if (count * 7 > section.length) {
    throw new InvalidRecordError(`${count} records cannot fit in ${section.length} bytes`);
  }
  const records = new Array<DecodedRecord>(count);
  const cursor = { offset: 0 };
  const logAppendTime = batch.timestampType === 'logAppend';
  try {
    for (let index = 0; index < count; index++) {
      const bodyLength = readVarint(section, cursor);
      const bodyEnd = cursor.offset + bodyLength;
      if (bodyLength < 1 || bodyEnd > section.length) {
        throw new InvalidRecordError(`record ${index} has length ${bodyLength}`);
      }
      const attributes = section[cursor.offset++]!;
      const timestampDelta = readVarlong(section, cursor);
      const offsetDelta = readVarint(section, cursor);
      const key = readBytesField(section, cursor, bodyEnd);
      const value = readBytesField(section, cursor, bodyEnd);
      const headerCount = readVarint(section, cursor);
      if (headerCount < 0) throw new InvalidRecordError(`record ${index} has ${headerCount} headers`);
      const headers: RecordHeader[] = [];
      for (let header = 0; header < headerCount; header++) {
        if (cursor.offset >= bodyEnd)
          throw new InvalidRecordError(`record ${index} has fewer headers than declared`);
        const headerKey = readBytesField(section, cursor, bodyEnd);
        if (headerKey === null) throw new InvalidRecordError(`record ${index} has a null header key`);
        headers.push({ key: headerKey.toString('utf8'), value: readBytesField(section, cursor, bodyEnd) });
      }
      if (cursor.offset !== bodyEnd) throw new InvalidRecordError(`record ${index} does not fill its length`);
      records[index] = {
        offset: batch.baseOffset + offsetDelta,
        offsetDelta,
        timestamp: logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + timestampDelta,
        attributes,
        key,
        value,
        headers,
      };
    }
  } catch (error) {
    if (error instanceof VarintError)
      throw new InvalidRecordError('malformed record varint', { cause: error });
    throw error;
  }
  if (cursor.offset !== section.length) throw new InvalidRecordError('records do not fill their batch');
  return records;
}

function recordCountAt(buf: Buffer, position: number): number {
  const count = buf.readInt32BE(position + RECORD_COUNT_OFFSET);
  if (count < 0) throw new InvalidRecordError(`batch at byte ${position} has ${count} records`);
  return count;
}

function decompressOptions(options: DecodeOptions): DecompressOptions {
  return options.maxDecompressedBytes === undefined ? {} : { maxBytes: options.maxDecompressedBytes };
}

/**
 * Decodes every whole batch in `buf` (a Fetch response's records, or a log segment's bytes), decompressing
 * them. A partial batch at the end is ignored, as Kafka clients do.
 */
export function decodeRecordBatches(buf: Buffer, options: DecodeOptions = {}): DecodedRecordBatch[] {
  const batches: DecodedRecordBatch[] = [];
  for (const bounds of wholeBatches(buf)) {
    const batch = decodeHeader(buf, bounds, options.verifyCrc ?? true);
    const section = buf.subarray(bounds.position + RECORDS_OFFSET, bounds.end);
    const count = recordCountAt(buf, bounds.position);
    // Compaction can leave empty batches that keep their codec bits but hold no compressed stream.
    const records =
      batch.codec === CodecId.none || count === 0
        ? section
        : decompress(batch.codec, section, decompressOptions(options));
    batch.records = decodeRecords(batch, records, count);
    batches.push(batch);
  }
  return batches;
}

/** Like decodeRecordBatches, with gzip, snappy and lz4 decompression off the event loop. */
export async function decodeRecordBatchesAsync(
  buf: Buffer,
  options: DecodeOptions = {},
): Promise<DecodedRecordBatch[]> {
  const batches: DecodedRecordBatch[] = [];
  for (const bounds of wholeBatches(buf)) {
    const batch = decodeHeader(buf, bounds, options.verifyCrc ?? true);
    const section = buf.subarray(bounds.position + RECORDS_OFFSET, bounds.end);
    const count = recordCountAt(buf, bounds.position);
    const records =
      batch.codec === CodecId.none || count === 0
        ? section
        : await decompressAsync(batch.codec, section, decompressOptions(options));
    batch.records = decodeRecords(batch, records, count);
    batches.push(batch);
  }
  return batches;
}

// --- recompression ------------------------------------------------------------------------------------------

function checkSingleBatch(batch: Buffer): void {
  if (batch.length < RECORDS_OFFSET || batch[MAGIC_OFFSET] !== CURRENT_MAGIC) {
    throw new InvalidRecordError('recompressBatch needs one magic-2 batch');
  }
  if (LOG_OVERHEAD + batch.readInt32BE(BATCH_LENGTH_OFFSET) !== batch.length) {
    throw new CorruptRecordError('recompressBatch needs exactly one whole batch');
  }
}

function rebuiltBatch(batch: Buffer, codec: CodecIdValue, section: Buffer): Buffer {
  const out = withRecordsSection(batch, section);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  const attributes = batch.readUInt16BE(ATTRIBUTES_OFFSET);
  out.writeUInt16BE((attributes & ~COMPRESSION_CODEC_MASK) | codec, ATTRIBUTES_OFFSET);
  out.writeUInt32BE(crc32c(out, ATTRIBUTES_OFFSET), CRC_OFFSET);
  return out;
}

/**
 * Re-encodes one whole batch with another codec (topic compression.type other than `producer`), keeping every
 * header field but the codec bits, length and CRC. The records section is moved as bytes: records are not
 * parsed. Returns the input itself when it already uses `codec`.
 */
export function recompressBatch(batch: Buffer, codec: Compression, options: DecodeOptions = {}): Buffer {
  checkSingleBatch(batch);
  const target = codecIdOf(codec);
  const source = codecIdOf(batch.readUInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK);
  if (source === target) return batch;
  const records = decompress(source, batch.subarray(RECORDS_OFFSET), decompressOptions(options));
  return rebuiltBatch(batch, target, compress(target, records));
}

/** Like recompressBatch, with gzip, snappy and lz4 work off the event loop. */
export async function recompressBatchAsync(
  batch: Buffer,
  codec: Compression,
  options: DecodeOptions = {},
): Promise<Buffer> {
  checkSingleBatch(batch);
  const target = codecIdOf(codec);
  const source = codecIdOf(batch.readUInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK);
  if (source === target) return batch;
  const records = await decompressAsync(source, batch.subarray(RECORDS_OFFSET), decompressOptions(options));
  return rebuiltBatch(batch, target, await compressAsync(target, records));
}
