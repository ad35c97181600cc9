/** Kafka error codes the storage layer reports; the broker copies `errorCode` into its responses. */
export const ErrorCode = {
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  FENCED_LEADER_EPOCH: 74,
  KAFKA_STORAGE_ERROR: 56,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_RECORD: 87,
} as const;

/** Base of every error thrown by the storage layer: carries the Kafka error code the broker should answer with. */
export class StorageError extends Error {
  readonly errorCode: number;

  constructor(message: string, errorCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.errorCode = errorCode;
  }
}

/** A read or DeleteRecords asked for an offset outside [logStartOffset, logEndOffset]. */
export class OffsetOutOfRangeError extends StorageError {
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(
      `offset ${offset} is outside the log's range [${logStartOffset}, ${logEndOffset}]`,
      ErrorCode.OFFSET_OUT_OF_RANGE,
    );
  }
}

/** An append carried bytes that do not frame as whole magic-2 record batches. */
export class CorruptBatchError extends StorageError {
  constructor(message: string) {
    super(message, ErrorCode.CORRUPT_MESSAGE);
  }
}

/** An append used a leader epoch older than one the log has already recorded. */
export class FencedLeaderEpochError extends StorageError {
  constructor(epoch: number, latestEpoch: number) {
    super(
      `leader epoch ${epoch} is older than the log's latest epoch ${latestEpoch}`,
      ErrorCode.FENCED_LEADER_EPOCH,
    );
  }
}

/** The batch's sequence does not follow the producer's last one (a lost batch, or a producer bug). */
export class OutOfOrderSequenceError extends StorageError {
  constructor(message: string) {
    super(message, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  }
}

/** The batch carries an older epoch than the partition has seen for its producer id (a zombie producer). */
export class InvalidProducerEpochError extends StorageError {
  constructor(message: string) {
    super(message, ErrorCode.INVALID_PRODUCER_EPOCH);
  }
}

/** An idempotent batch without a sequence number. */
export class InvalidSequenceError extends StorageError {
  constructor(message: string) {
    super(message, ErrorCode.INVALID_RECORD);
  }
}

/** A producer with a transaction open wrote a batch outside it (Kafka: "Expected transactional write"). */
export class InvalidTxnStateError extends StorageError {
  constructor(message: string) {
    super(message, ErrorCode.INVALID_TXN_STATE);
  }
}

/** A batch the log refuses as it stands, such as a control batch appended as data. */
export class InvalidRecordError extends StorageError {
  constructor(message: string) {
    super(message, ErrorCode.INVALID_RECORD);
  }
}

/**
 * A file operation failed, or the log was closed or taken offline by an earlier failure. Kafka answers
 * KAFKA_STORAGE_ERROR so that clients refresh metadata and retry elsewhere instead of trusting this log.
 */
export class KafkaStorageError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ErrorCode.KAFKA_STORAGE_ERROR, options);
  }
}

/** Wraps an unknown failure from node:fs as a KafkaStorageError, keeping typed storage errors as they are. */
export function asStorageError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new KafkaStorageError(`${what}: ${detail}`, { cause: error });
}
