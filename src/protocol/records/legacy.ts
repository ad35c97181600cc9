// Legacy message sets (magic 0 and 1), as sarama 1.22.1 sends by default (magic 0 via Produce v0, magic 1 via
// Produce v2). The broker stores only magic-2 batches, so a legacy set is converted on arrival.
//
// Message layout (Kafka's LegacyRecord):
//   offset i64 | messageSize i32 | crc u32 | magic i8 | attributes i8 | [timestamp i64, magic 1 only]
//   | key (i32 length, -1 = null) | value (i32 length, -1 = null)
// The CRC-32 (IEEE) covers magic through the end of the message. Attribute bits 0-2 name the codec (gzip,
// snappy, lz4); a compressed "wrapper" message carries a whole inner message set, compressed, as its value.
// Bit 3 (magic 1) marks LogAppendTime, in which case the wrapper's timestamp applies to every inner message.
// Magic 1 wrappers number inner messages with relative offsets; offsets are reassigned here anyway.
import type { RecordInput } from './batch.js';
import { encodeRecordBatch } from './batch.js';
import { codecIdOf, decompress } from './compression.js';
import { crc32 } from './crc.js';
import { CorruptRecordError, InvalidRecordError, UnsupportedCompressionTypeError } from './errors.js';
import type { CodecIdValue, Compression } from './layout.js';
import { CodecId, NO_TIMESTAMP, readInt64 } from './layout.js';

const OFFSET_AND_SIZE_BYTES = 12;
const CRC_AT = 12;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 17;
const MIN_MESSAGE_BYTES_V0 = 14;
const MIN_MESSAGE_BYTES_V1 = 22;
const LEGACY_CODEC_MASK = 0x07;
const LEGACY_LOG_APPEND_TIME_MASK = 0x08;

export interface ConvertLegacyOptions {
  /**
   * Codec of the produced batch. Defaults to the codec of the first compressed wrapper (none when nothing was
   * compressed), as Kafka keeps the producer's codec when it up-converts.
   */
  compression?: Compression;
  /** Bound on one wrapper's decompressed inner message set. */
  maxDecompressedBytes?: number;
}

/** True when `buf` starts with a magic 0 or 1 message rather than a magic-2 batch (the magic sits at byte 16). */
export function isLegacyMessageSet(buf: Buffer): boolean {
  return buf.length > MAGIC_AT && (buf[MAGIC_AT] === 0 || buf[MAGIC_AT] === 1);
}

interface Conversion {
  records: RecordInput[];
  sourceCodec: CodecIdValue;
  maxDecompressedBytes: number | undefined;
}

/**
 * Converts a whole legacy message set into one equivalent uncompressed-or-recompressed magic-2 batch with base
 * offset 0, no producer id and CreateTime timestamps (-1 for magic 0, which has none). Throws
 * CorruptRecordError for CRC failures and truncation, InvalidRecordError for structural problems.
 */
export function convertLegacyToBatch(buf: Buffer, options: ConvertLegacyOptions = {}): Buffer {
  const conversion: Conversion = {
    records: [],
    sourceCodec: CodecId.none,
    maxDecompressedBytes: options.maxDecompressedBytes,
  };
  readMessageSet(buf, conversion, false);
  if (conversion.records.length === 0) throw new InvalidRecordError('legacy message set holds no messages');
  return encodeRecordBatch({
    records: conversion.records,
    compression: options.compression ?? conversion.sourceCodec,
  });
}

function readMessageSet(buf: Buffer, conversion: Conversion, inner: boolean): void {
  let position = 0;
  while (position < buf.length) {
    if (buf.length - position < OFFSET_AND_SIZE_BYTES) {
      throw new CorruptRecordError(`truncated legacy message at byte ${position}`);
    }
    const size = buf.readInt32BE(position + 8);
    const end = position + OFFSET_AND_SIZE_BYTES + size;
    if (size < MIN_MESSAGE_BYTES_V0)
      throw new CorruptRecordError(`legacy message at byte ${position} has size ${size}`);
    if (end > buf.length) throw new CorruptRecordError(`truncated legacy message at byte ${position}`);
    readMessage(buf, position, end, conversion, inner);
    position = end;
  }
}

function readMessage(
  buf: Buffer,
  position: number,
  end: number,
  conversion: Conversion,
  inner: boolean,
): void {
  const storedCrc = buf.readUInt32BE(position + CRC_AT);
  if (crc32(buf, position + MAGIC_AT, end) !== storedCrc) {
    throw new CorruptRecordError(`legacy message at byte ${position} fails its CRC check`);
  }
  const magic = buf[position + MAGIC_AT]!;
  if (magic > 1) throw new InvalidRecordError(`legacy message at byte ${position} has magic ${magic}`);
  if (magic === 1 && end - position - OFFSET_AND_SIZE_BYTES < MIN_MESSAGE_BYTES_V1) {
    throw new CorruptRecordError(`legacy message at byte ${position} is too short for magic 1`);
  }
  const attributes = buf[position + ATTRIBUTES_AT]!;
  let cursor = position + ATTRIBUTES_AT + 1;
  let timestamp = NO_TIMESTAMP;
  if (magic === 1) {
    timestamp = readInt64(buf, cursor);
    cursor += 8;
  }
  const key = readLegacyBytes(buf, cursor, end, position);
  cursor += 4 + (key?.length ?? 0);
  const value = readLegacyBytes(buf, cursor, end, position);
  cursor += 4 + (value?.length ?? 0);
  if (cursor !== end)
    throw new InvalidRecordError(`legacy message at byte ${position} does not fill its size`);

  const codec = attributes & LEGACY_CODEC_MASK;
  if (codec === CodecId.none) {
    conversion.records.push({ key, value, timestamp });
    return;
  }
  if (codec > CodecId.lz4) {
    throw new UnsupportedCompressionTypeError(`legacy message at byte ${position} uses codec ${codec}`);
  }
  if (inner) throw new InvalidRecordError('compressed legacy message nested inside another');
  if (value === null)
    throw new InvalidRecordError(`compressed legacy message at byte ${position} has no value`);
  const codecId = codecIdOf(codec);
  if (conversion.sourceCodec === CodecId.none) conversion.sourceCodec = codecId;
  const innerSet = decompress(codecId, value, {
    ...(conversion.maxDecompressedBytes === undefined ? {} : { maxBytes: conversion.maxDecompressedBytes }),
    legacyLz4HeaderChecksum: magic === 0,
  });
  const firstInner = conversion.records.length;
  readMessageSet(innerSet, conversion, true);
  if (conversion.records.length === firstInner) {
    throw new InvalidRecordError(`compressed legacy message at byte ${position} holds no messages`);
  }
  if (magic === 1 && (attributes & LEGACY_LOG_APPEND_TIME_MASK) !== 0) {
    for (let index = firstInner; index < conversion.records.length; index++) {
      conversion.records[index]!.timestamp = timestamp;
    }
  }
}

function readLegacyBytes(buf: Buffer, at: number, end: number, position: number): Buffer | null {
  if (end - at < 4) throw new InvalidRecordError(`legacy message at byte ${position} is cut short`);
  const length = buf.readInt32BE(at);
  if (length === -1) return null;
  if (length < -1 || at + 4 + length > end) {
    throw new InvalidRecordError(`legacy message at byte ${position} has a field of length ${length}`);
  }
  return buf.subarray(at + 4, at + 4 + length);
}
