// Kafka record formats: validation and LogAppendTime stamping on the Produce path, full encode/decode, codecs,
// recompression and legacy (magic 0/1) conversion.
export type {
  DecodedRecord,
  DecodedRecordBatch,
  DecodeOptions,
  RecordBatchInput,
  RecordHeader,
  RecordInput,
} from './batch.js';
export {
  decodeRecordBatches,
  decodeRecordBatchesAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  recompressBatch,
  recompressBatchAsync,
  wholeBatches,
} from './batch.js';
export type { DecompressOptions } from './compression.js';
export {
  codecIdOf,
  codecNameOf,
  compress,
  compressAsync,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompress,
  decompressAsync,
} from './compression.js';
export { crc32, crc32c } from './crc.js';
export type { RecordErrorCode } from './errors.js';
export {
  CorruptRecordError,
  InvalidRecordError,
  RecordError,
  RecordListTooLargeError,
  RecordTooLargeError,
  UnsupportedCompressionTypeError,
} from './errors.js';
export * from './layout.js';
export type { ConvertLegacyOptions } from './legacy.js';
export { convertLegacyToBatch, isLegacyMessageSet } from './legacy.js';
export type { BatchSetSummary, BatchSummary, ValidateOptions } from './validate.js';
export { stampLogAppendTime, validateBatches, writeMaxTimestamps } from './validate.js';
