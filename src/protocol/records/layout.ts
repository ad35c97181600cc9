// Byte layout of a magic-2 record batch (Kafka's DefaultRecordBatch) and its attribute bits.
//
//   BaseOffset i64 | BatchLength i32 | PartitionLeaderEpoch i32 | Magic i8 | CRC u32 | Attributes i16 |
//   LastOffsetDelta i32 | BaseTimestamp i64 | MaxTimestamp i64 | ProducerId i64 | ProducerEpoch i16 |
//   BaseSequence i32 | RecordCount i32 | Records...
//
// BatchLength counts the bytes after itself. The CRC-32C covers Attributes through the end of the batch, so
// BaseOffset and PartitionLeaderEpoch can be rewritten by the broker without recomputing it.

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** BaseOffset + BatchLength: the bytes in front of what BatchLength counts. */
export const LOG_OVERHEAD = 12;
/** Size of a batch header, i.e. of a batch with no records. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** Smallest legal BatchLength. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_TIMESTAMP = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

export const CodecId = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CodecId;
export type CodecIdValue = (typeof CodecId)[CompressionName];
/** A codec by name or by its Kafka id. */
export type Compression = CompressionName | CodecIdValue;

export type TimestampType = 'create' | 'logAppend';

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Reads an i64 as a JS number. Offsets, timestamps and producer ids stay far below 2^53, where the result is
 * exact; this avoids BigInt on paths that touch every batch.
 */
export function readInt64(buf: Buffer, offset: number): number {
  return buf.readInt32BE(offset) * TWO_POW_32 + buf.readUInt32BE(offset + 4);
}

/** Writes an integer-valued number (|value| < 2^53) as an i64. */
export function writeInt64(buf: Buffer, offset: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(high, offset);
  buf.writeUInt32BE(value - high * TWO_POW_32, offset + 4);
}
