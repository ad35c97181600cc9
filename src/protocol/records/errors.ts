// Typed failures of record validation and decoding. Each carries the Kafka error code the broker answers with,
// so the Produce handler can map any of them to a partition error without inspecting messages.

import { ErrorCode, KafkaError } from '../errors.js';

export type RecordErrorCode =
  | typeof ErrorCode.CORRUPT_MESSAGE
  | typeof ErrorCode.MESSAGE_TOO_LARGE
  | typeof ErrorCode.RECORD_LIST_TOO_LARGE
  | typeof ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
  | typeof ErrorCode.INVALID_RECORD;

/** Base of every error thrown by src/protocol/records; `code` is the Kafka error code to report. */
export class RecordError extends KafkaError {
  override name = 'RecordError';
  declare readonly code: RecordErrorCode;

  constructor(code: RecordErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * The bytes are damaged: a CRC does not match, or a batch or message runs past the end of the buffer.
 * Kafka answers CORRUPT_MESSAGE; a producer may retry.
 */
export class CorruptRecordError extends RecordError {
  override name = 'CorruptRecordError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.CORRUPT_MESSAGE, message, options);
  }
}

/**
 * The bytes are intact but do not form a valid batch: wrong magic, counts that disagree, records that do not
 * fill the batch exactly, or compressed data that does not decompress. Kafka answers INVALID_RECORD.
 */
export class InvalidRecordError extends RecordError {
  override name = 'InvalidRecordError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.INVALID_RECORD, message, options);
  }
}

/** The attributes name a compression codec id this broker does not know (5-7). */
export class UnsupportedCompressionTypeError extends RecordError {
  override name = 'UnsupportedCompressionTypeError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message, options);
  }
}

/** One batch is larger than the topic's max.message.bytes (MESSAGE_TOO_LARGE). */
export class RecordTooLargeError extends RecordError {
  override name = 'RecordTooLargeError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.MESSAGE_TOO_LARGE, message, options);
  }
}

/** The whole record set is larger than a log segment can hold (RECORD_LIST_TOO_LARGE). */
export class RecordListTooLargeError extends RecordError {
  override name = 'RecordListTooLargeError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.RECORD_LIST_TOO_LARGE, message, options);
  }
}
