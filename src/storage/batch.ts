import { crc32c } from '../protocol/records/crc.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readInt64,
} from '../protocol/records/layout.js';

/** Kafka's own ceiling on a batch; anything claiming more is a torn or garbage length field. */
const MAX_BATCH_BYTES = 0x7fff_ffff;

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
  return LOG_OVERHEAD + buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
}

export function readBatchHeader(buf: Buffer, at: number): BatchHeader {
  const baseOffset = readInt64(buf, at + BASE_OFFSET_OFFSET);
  return {
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
    sizeBytes: batchSizeAt(buf, at),
    partitionLeaderEpoch: buf.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
    maxTimestampMs: readInt64(buf, at + MAX_TIMESTAMP_OFFSET),
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
  if (remainingInFile < RECORD_BATCH_OVERHEAD)
    return { kind: 'corrupt', reason: `cut short: ${remainingInFile} bytes` };
  if (available < RECORD_BATCH_OVERHEAD) return { kind: 'incomplete', neededBytes: RECORD_BATCH_OVERHEAD };
  const length = buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
  const sizeBytes = LOG_OVERHEAD + length;
  if (length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || sizeBytes > MAX_BATCH_BYTES) {
    return { kind: 'corrupt', reason: `impossible batch length ${length}` };
  }
  if (sizeBytes > remainingInFile) {
    return {
      kind: 'corrupt',
      reason: `cut short: batch of ${sizeBytes} bytes, ${remainingInFile} in the file`,
    };
  }
  const magic = buf.readInt8(at + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) return { kind: 'corrupt', reason: `magic ${magic}` };
  const lastOffsetDelta = buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
  if (lastOffsetDelta < 0)
    return { kind: 'corrupt', reason: `negative last offset delta ${lastOffsetDelta}` };
  if (verifyCrc) {
    if (available < sizeBytes) return { kind: 'incomplete', neededBytes: sizeBytes };
    const stored = buf.readUInt32BE(at + CRC_OFFSET);
    const computed = crc32c(buf, at + ATTRIBUTES_OFFSET, at + sizeBytes);
    if (stored !== computed)
      return { kind: 'corrupt', reason: `crc mismatch (stored ${stored}, computed ${computed})` };
  }
  return { kind: 'ok', header: readBatchHeader(buf, at) };
}
