// The broker's checks of one partition's Produce records, and the in-place offset assignment that follows.
// Both work on the producer's bytes as they will be stored: nothing is copied or re-encoded, and no object is
// allocated per record.
import { readVarint, readVarlong, VarintError } from '../primitives/varint.js';
import { decompress } from './compression.js';
import { crc32c } from './crc.js';
import {
  CorruptRecordError,
  InvalidRecordError,
  RecordListTooLargeError,
  RecordTooLargeError,
  UnsupportedCompressionTypeError,
} from './errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CodecId,
  type CodecIdValue,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  NO_TIMESTAMP,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  readInt64,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  writeInt64,
} from './layout.js';

export interface ValidateOptions {
  /** Largest batch accepted, LOG_OVERHEAD included (topic max.message.bytes); larger → MESSAGE_TOO_LARGE. */
  maxBatchBytes?: number;
  /** Largest record set accepted (the segment size); larger → RECORD_LIST_TOO_LARGE, after the batch checks. */
  maxTotalBytes?: number;
  /**
   * The topic is compacted (cleanup.policy has compact): a record without a key → INVALID_RECORD, as in Kafka,
   * since compaction keeps the latest record per key. Compressed batches are decompressed to check.
   */
  requireKeys?: boolean;
}

export interface BatchSummary {
  /** Byte position of the batch in the validated buffer. */
  position: number;
  /** Bytes of the whole batch, LOG_OVERHEAD included: the next batch starts at position + length. */
  length: number;
  lastOffsetDelta: number;
  recordCount: number;
  baseTimestamp: number;
  /** The largest record timestamp (CreateTime), whatever the producer wrote in the header. */
  maxTimestamp: number;
  /** The header's MaxTimestamp differs from maxTimestamp: writeMaxTimestamps must correct it. */
  maxTimestampStale: boolean;
  /** Kafka codec id, 0-4. */
  codec: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  isControl: boolean;
}

export interface BatchSetSummary {
  batchCount: number;
  recordCount: number;
  /** BaseTimestamp of the first batch, or -1 when there is none. */
  firstTimestamp: number;
  /** Largest MaxTimestamp of all batches, or -1 when there is none. */
  maxTimestamp: number;
  batches: BatchSummary[];
}

/** Smallest record body: attributes, timestamp delta, offset delta, key and value lengths, header count. */
const MIN_RECORD_BODY_BYTES = 6;

/**
 * Checks that `records` is a sequence of whole, intact magic-2 batches, as a Produce request must carry.
 * Throws a RecordError subclass whose `code` is the Kafka error to answer with. An empty buffer is valid and
 * yields batchCount 0; whether to accept that is the caller's decision.
 */
export function validateBatches(records: Buffer, options: ValidateOptions = {}): BatchSetSummary {
  const maxBatchBytes = options.maxBatchBytes ?? Number.POSITIVE_INFINITY;
  const requireKeys = options.requireKeys ?? false;
  const batches: BatchSummary[] = [];
  let recordCount = 0;
  let maxTimestamp = NO_TIMESTAMP;
  let position = 0;
  while (position < records.length) {
    const batch = validateBatch(records, position, maxBatchBytes, requireKeys);
    batches.push(batch);
    recordCount += batch.recordCount;
    if (batch.maxTimestamp > maxTimestamp) maxTimestamp = batch.maxTimestamp;
    position += batch.length;
  }
  // After the batches, as Kafka's log checks the record set against its segment size after validation.
  if (options.maxTotalBytes !== undefined && records.length > options.maxTotalBytes) {
    throw new RecordListTooLargeError(
      `record set of ${records.length} bytes exceeds the limit of ${options.maxTotalBytes} bytes (segment.bytes)`,
    );
  }
  return {
    batchCount: batches.length,
    recordCount,
    firstTimestamp: batches[0]?.baseTimestamp ?? NO_TIMESTAMP,
    maxTimestamp,
    batches,
  };
}

function validateBatch(
  buf: Buffer,
  position: number,
  maxBatchBytes: number,
  requireKeys: boolean,
): BatchSummary {
  const remaining = buf.length - position;
  if (remaining < LOG_OVERHEAD) {
    throw new CorruptRecordError(`truncated batch at byte ${position}: ${remaining} bytes left`);
  }
  const batchLength = buf.readInt32BE(position + BATCH_LENGTH_OFFSET);
  if (remaining > MAGIC_OFFSET && buf[position + MAGIC_OFFSET] !== CURRENT_MAGIC) {
    throw new InvalidRecordError(
      `batch at byte ${position} has magic ${buf[position + MAGIC_OFFSET]}, expected ${CURRENT_MAGIC}`,
    );
  }
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptRecordError(
      `batch at byte ${position} has length ${batchLength}, below ${MIN_BATCH_LENGTH}`,
    );
  }
  const length = LOG_OVERHEAD + batchLength;
  if (length > maxBatchBytes) {
    throw new RecordTooLargeError(`batch of ${length} bytes exceeds the limit of ${maxBatchBytes} bytes`);
  }
  if (length > remaining) {
    throw new CorruptRecordError(
      `truncated batch at byte ${position}: ${length} bytes declared, ${remaining} left`,
    );
  }
  const end = position + length;
  const storedCrc = buf.readUInt32BE(position + CRC_OFFSET);
  const actualCrc = crc32c(buf, position + ATTRIBUTES_OFFSET, end);
  if (storedCrc !== actualCrc) {
    throw new CorruptRecordError(
      `batch at byte ${position} has CRC ${storedCrc.toString(16)}, computed ${actualCrc.toString(16)}`,
    );
  }

  const attributes = buf.readUInt16BE(position + ATTRIBUTES_OFFSET);
  const codec = attributes & COMPRESSION_CODEC_MASK;
  if (codec > CodecId.zstd) {
    throw new UnsupportedCompressionTypeError(
      `batch at byte ${position} uses unknown compression codec ${codec}`,
    );
  }
  const lastOffsetDelta = buf.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
  const recordCount = buf.readInt32BE(position + RECORD_COUNT_OFFSET);
  if (recordCount < 1) throw new InvalidRecordError(`batch at byte ${position} has ${recordCount} records`);
  if (lastOffsetDelta !== recordCount - 1) {
    throw new InvalidRecordError(
      `batch at byte ${position} has ${recordCount} records but last offset delta ${lastOffsetDelta}`,
    );
  }
  const producerId = readInt64(buf, position + PRODUCER_ID_OFFSET);
  const baseSequence = buf.readInt32BE(position + BASE_SEQUENCE_OFFSET);
  const isTransactional = (attributes & TRANSACTIONAL_FLAG_MASK) !== 0;
  const isControl = (attributes & CONTROL_FLAG_MASK) !== 0;
  if (isTransactional && producerId < 0) {
    throw new InvalidRecordError(`transactional batch at byte ${position} has no producer id`);
  }
  if (!isControl && producerId >= 0 && baseSequence < 0) {
    throw new InvalidRecordError(
      `batch at byte ${position} of producer ${producerId} has sequence ${baseSequence}`,
    );
  }
  const recordsStart = position + RECORDS_OFFSET;
  if (codec !== CodecId.none && recordsStart === end) {
    throw new InvalidRecordError(`compressed batch at byte ${position} has no record bytes`);
  }
  const baseTimestamp = readInt64(buf, position + BASE_TIMESTAMP_OFFSET);
  const headerMaxTimestamp = readInt64(buf, position + MAX_TIMESTAMP_OFFSET);
  let maxTimestamp = headerMaxTimestamp;
  // LogAppendTime: the header's MaxTimestamp is the append time, not a record's.
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  // Control records always have keys; producers' control batches are refused later anyway.
  const checkKeys = requireKeys && !isControl;
  if (codec === CodecId.none) {
    const maxDelta = checkRecords(buf, recordsStart, end, recordCount, position, checkKeys);
    if (!logAppendTime) maxTimestamp = recordTimestamp(baseTimestamp, maxDelta);
  } else {
    // No record can be older than the largest one, so a MaxTimestamp below the BaseTimestamp means the producer
    // did not fill it in (sarama 1.22.1 writes -1). Kafka recomputes it from the records. Decompressing costs,
    // so only this and a compacted topic's key check do it.
    const recompute = !logAppendTime && headerMaxTimestamp < baseTimestamp;
    if (recompute || checkKeys) {
      const plain = decompress(codec as CodecIdValue, buf.subarray(recordsStart, end));
      const maxDelta = checkRecords(plain, 0, plain.length, recordCount, position, checkKeys);
      if (recompute) maxTimestamp = recordTimestamp(baseTimestamp, maxDelta);
    }
  }

  return {
    position,
    length,
    lastOffsetDelta,
    recordCount,
    baseTimestamp,
    maxTimestamp,
    maxTimestampStale: maxTimestamp !== headerMaxTimestamp,
    codec,
    producerId,
    producerEpoch: buf.readInt16BE(position + PRODUCER_EPOCH_OFFSET),
    baseSequence,
    isTransactional,
    isControl,
  };
}

const cursor = { offset: 0 };

/** A record's timestamp: a batch without timestamps (-1) keeps -1, as Kafka computes it. */
function recordTimestamp(baseTimestamp: number, delta: number): number {
  return baseTimestamp === NO_TIMESTAMP ? NO_TIMESTAMP : baseTimestamp + delta;
}

function keylessRecordError(index: number, position: number): InvalidRecordError {
  return new InvalidRecordError(
    `Compacted topic cannot accept message without key (record ${index} of batch at byte ${position})`,
  );
}

/**
 * Walks a batch's records in `buf` from `start` to `end` (the batch itself, or its decompressed records): each
 * record's fields must fill its declared length exactly, its offset delta must be its index, and the records
 * must fill the range exactly; with `checkKeys`, each record needs a key. Returns the largest timestamp delta.
 */
function checkRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  position: number,
  checkKeys: boolean,
): number {
  let largestDelta = Number.NEGATIVE_INFINITY;
  cursor.offset = start;
  try {
    for (let index = 0; index < count; index++) {
      const bodyLength = readVarint(buf, cursor);
      const bodyStart = cursor.offset;
      const bodyEnd = bodyStart + bodyLength;
      if (bodyLength < MIN_RECORD_BODY_BYTES || bodyEnd > end) {
        throw new InvalidRecordError(`record ${index} of batch at byte ${position} has length ${bodyLength}`);
      }
      cursor.offset = bodyStart + 1; // attributes, unused
      const timestampDelta = readVarlong(buf, cursor);
      if (timestampDelta > largestDelta) largestDelta = timestampDelta;
      const offsetDelta = readVarint(buf, cursor);
      if (offsetDelta !== index) {
        throw new InvalidRecordError(
          `record ${index} of batch at byte ${position} has offset delta ${offsetDelta}`,
        );
      }
      const keyLength = skipBytesField(buf, cursor, -1);
      if (checkKeys && keyLength < 0) throw keylessRecordError(index, position);
      skipBytesField(buf, cursor, -1); // value
      const headerCount = readVarint(buf, cursor);
      if (headerCount < 0) throw new InvalidRecordError(`record ${index} has ${headerCount} headers`);
      for (let header = 0; header < headerCount; header++) {
        // Each header takes at least two bytes, so this bounds the loop by the record length.
        if (cursor.offset >= bodyEnd)
          throw new InvalidRecordError(`record ${index} has fewer headers than declared`);
        skipBytesField(buf, cursor, 0); // key: a non-null string
        skipBytesField(buf, cursor, -1); // value
      }
      if (cursor.offset !== bodyEnd) {
        throw new InvalidRecordError(
          `record ${index} of batch at byte ${position} declares ${bodyLength} bytes but its fields take ${
            cursor.offset - bodyStart
          }`,
        );
      }
    }
  } catch (error) {
    if (error instanceof VarintError) {
      throw new InvalidRecordError(`malformed record varint in batch at byte ${position}`, { cause: error });
    }
    throw error;
  }
  if (cursor.offset !== end) {
    throw new InvalidRecordError(
      `records of batch at byte ${position} end at byte ${cursor.offset}, the batch at byte ${end}`,
    );
  }
  return largestDelta;
}

/** Skips a length-prefixed field and returns its length (-1: null). */
function skipBytesField(buf: Buffer, at: { offset: number }, minLength: number): number {
  const length = readVarint(buf, at);
  if (length < minLength) throw new InvalidRecordError(`record field has length ${length}`);
  if (length > 0) at.offset += length;
  return length;
}

/**
 * Writes the true MaxTimestamp into each batch whose header disagrees with its records, in place, and
 * recomputes its CRC: the log's time index, ListOffsets by time and time retention read the header.
 */
export function writeMaxTimestamps(records: Buffer, summary: BatchSetSummary): void {
  for (const batch of summary.batches) {
    if (!batch.maxTimestampStale) continue;
    writeInt64(records, batch.position + MAX_TIMESTAMP_OFFSET, batch.maxTimestamp);
    records.writeUInt32BE(
      crc32c(records, batch.position + ATTRIBUTES_OFFSET, batch.position + batch.length),
      batch.position + CRC_OFFSET,
    );
  }
}

/**
 * For topics with message.timestamp.type=LogAppendTime: marks each validated batch as LogAppendTime with
 * that MaxTimestamp, in place, and recomputes its CRC (both fields are covered by it).
 */
export function stampLogAppendTime(records: Buffer, logAppendTimeMs: number): void {
  for (const position of batchPositions(records)) {
    const length = LOG_OVERHEAD + records.readInt32BE(position + BATCH_LENGTH_OFFSET);
    const attributes = records.readUInt16BE(position + ATTRIBUTES_OFFSET);
    records.writeUInt16BE(attributes | TIMESTAMP_TYPE_MASK, position + ATTRIBUTES_OFFSET);
    writeInt64(records, position + MAX_TIMESTAMP_OFFSET, logAppendTimeMs);
    records.writeUInt32BE(
      crc32c(records, position + ATTRIBUTES_OFFSET, position + length),
      position + CRC_OFFSET,
    );
  }
}

/** Start positions of the batches in a buffer of whole batches; throws if one is cut short. */
function* batchPositions(records: Buffer): Generator<number> {
  let position = 0;
  while (position < records.length) {
    if (records.length - position < RECORDS_OFFSET) {
      throw new CorruptRecordError(`truncated batch at byte ${position}`);
    }
    const length = LOG_OVERHEAD + records.readInt32BE(position + BATCH_LENGTH_OFFSET);
    if (length < RECORDS_OFFSET || length > records.length - position) {
      throw new CorruptRecordError(`batch at byte ${position} has an invalid length`);
    }
    yield position;
    position += length;
  }
}
