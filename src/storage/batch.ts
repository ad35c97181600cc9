import { crc32c } from '@node-rs/crc32';

/**
 * Byte layout of a magic-2 record batch header. The log only reads and patches header fields: record bodies
 * pass through untouched.
 */
export const BatchField = {
  BASE_OFFSET: 0,
  BATCH_LENGTH: 8,
  PARTITION_LEADER_EPOCH: 12,
  MAGIC: 16,
  CRC: 17,
  ATTRIBUTES: 21,
  LAST_OFFSET_DELTA: 23,
  BASE_TIMESTAMP: 27,
  MAX_TIMESTAMP: 35,
  PRODUCER_ID: 43,
  RECORD_COUNT: 57,
} as const;

/** BaseOffset and BatchLength precede the bytes that BatchLength counts. */
export const LOG_OVERHEAD_BYTES = 12;
export const BATCH_HEADER_BYTES = 61;
export const CURRENT_MAGIC = 2;
/** Kafka's own ceiling on a batch; anything claiming more is a torn or garbage length field. */
export const MAX_BATCH_BYTES = 0x7fff_ffff;

const TWO_POW_32 = 0x1_0000_0000;

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

export function writeInt64(buf: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(high, at);
  buf.writeUInt32BE(value - high * TWO_POW_32, at + 4);
}

/** The header fields the log needs to place, index and serve a batch. */
export interface BatchHeader {
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  partitionLeaderEpoch: number;
  maxTimestampMs: number;
}

/** Total bytes of the batch at `at`, from its length field (the caller makes sure 12 bytes are there). */
export function batchSizeAt(buf: Buffer, at: number): number {
  return LOG_OVERHEAD_BYTES + buf.readInt32BE(at + BatchField.BATCH_LENGTH);
}

export function readBatchHeader(buf: Buffer, at: number): BatchHeader {
  const baseOffset = readInt64(buf, at + BatchField.BASE_OFFSET);
  return {
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(at + BatchField.LAST_OFFSET_DELTA),
    sizeBytes: batchSizeAt(buf, at),
    partitionLeaderEpoch: buf.readInt32BE(at + BatchField.PARTITION_LEADER_EPOCH),
    maxTimestampMs: readInt64(buf, at + BatchField.MAX_TIMESTAMP),
  };
}

export type BatchCheck =
  | { kind: 'ok'; header: BatchHeader }
  | { kind: 'incomplete'; neededBytes: number }
  | { kind: 'corrupt'; reason: string };

/**
 * Validates the batch at `at`, of which `available` bytes are in `buf` and `remainingInFile` bytes remain in
 * the file. `incomplete` means more bytes must be read first; `corrupt` means the log must end before it.
 */
export function checkBatch(
  buf: Buffer,
  at: number,
  available: number,
  remainingInFile: number,
  verifyCrc: boolean,
): BatchCheck {
  if (remainingInFile < BATCH_HEADER_BYTES)
    return { kind: 'corrupt', reason: `cut short: ${remainingInFile} bytes` };
  if (available < BATCH_HEADER_BYTES) return { kind: 'incomplete', neededBytes: BATCH_HEADER_BYTES };
  const length = buf.readInt32BE(at + BatchField.BATCH_LENGTH);
  const sizeBytes = LOG_OVERHEAD_BYTES + length;
  if (length < BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES || sizeBytes > MAX_BATCH_BYTES) {
    return { kind: 'corrupt', reason: `impossible batch length ${length}` };
  }
  if (sizeBytes > remainingInFile) {
    return {
      kind: 'corrupt',
      reason: `cut short: batch of ${sizeBytes} bytes, ${remainingInFile} in the file`,
    };
  }
  const magic = buf.readInt8(at + BatchField.MAGIC);
  if (magic !== CURRENT_MAGIC) return { kind: 'corrupt', reason: `magic ${magic}` };
  const lastOffsetDelta = buf.readInt32BE(at + BatchField.LAST_OFFSET_DELTA);
  if (lastOffsetDelta < 0)
    return { kind: 'corrupt', reason: `negative last offset delta ${lastOffsetDelta}` };
  if (verifyCrc) {
    if (available < sizeBytes) return { kind: 'incomplete', neededBytes: sizeBytes };
    const stored = buf.readUInt32BE(at + BatchField.CRC);
    const computed = crc32c(buf.subarray(at + BatchField.ATTRIBUTES, at + sizeBytes));
    if (stored !== computed)
      return { kind: 'corrupt', reason: `crc mismatch (stored ${stored}, computed ${computed})` };
  }
  return { kind: 'ok', header: readBatchHeader(buf, at) };
}
