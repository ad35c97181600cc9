// One error class per metadata condition. Those a client request can cause extend KafkaError, so request
// handlers put `code` into the response.

import { ErrorCode, KafkaError } from '../protocol/errors.js';

export class TopicExistsError extends KafkaError {
  override name = 'TopicExistsError';
  constructor(readonly topic: string) {
    super(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic}' already exists.`);
  }
}

export class UnknownTopicError extends KafkaError {
  override name = 'UnknownTopicError';
  constructor(readonly topic: string) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${topic}' does not exist.`);
  }
}

export class UnknownPartitionError extends KafkaError {
  override name = 'UnknownPartitionError';
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    super(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Partition ${partition} of topic '${topic}' does not exist.`);
  }
}

/** A topic name Kafka would not accept, or one that collides with an existing topic. */
export class InvalidTopicError extends KafkaError {
  override name = 'InvalidTopicError';
  constructor(message: string) {
    super(ErrorCode.INVALID_TOPIC_EXCEPTION, message);
  }
}

export class InvalidPartitionsError extends KafkaError {
  override name = 'InvalidPartitionsError';
  constructor(message: string) {
    super(ErrorCode.INVALID_PARTITIONS, message);
  }
}

export class InvalidReplicationFactorError extends KafkaError {
  override name = 'InvalidReplicationFactorError';
  constructor(message: string) {
    super(ErrorCode.INVALID_REPLICATION_FACTOR, message);
  }
}

export class InvalidReplicaAssignmentError extends KafkaError {
  override name = 'InvalidReplicaAssignmentError';
  constructor(message: string) {
    super(ErrorCode.INVALID_REPLICA_ASSIGNMENT, message);
  }
}

export class InvalidConfigError extends KafkaError {
  override name = 'InvalidConfigError';
  constructor(message: string) {
    super(ErrorCode.INVALID_CONFIG, message);
  }
}

/** An update that would move a partition's leader or partition epoch backwards. */
export class StaleEpochError extends KafkaError {
  override name = 'StaleEpochError';
  constructor(message: string) {
    super(ErrorCode.FENCED_LEADER_EPOCH, message);
  }
}

/** The write queue is full: metadata writes are rare, so this means a runaway caller. */
export class MetadataBusyError extends KafkaError {
  override name = 'MetadataBusyError';
  constructor(limit: number) {
    super(ErrorCode.REQUEST_TIMED_OUT, `Too many pending metadata writes (limit ${limit}); try again later.`);
  }
}

/** The store is closed, or an earlier write failed on disk and the store refuses further writes. */
export class MetadataUnavailableError extends KafkaError {
  override name = 'MetadataUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.KAFKA_STORAGE_ERROR, message, options);
  }
}

/** Every producer id a number can hold exactly has been handed out. */
export class ProducerIdsExhaustedError extends KafkaError {
  override name = 'ProducerIdsExhaustedError';
  constructor(nextProducerId: number) {
    super(
      ErrorCode.UNKNOWN_SERVER_ERROR,
      `No producer ids left: the next one, ${nextProducerId}, is too close to 2^53 to hand out a block.`,
    );
  }
}

/** The files under __metadata cannot be trusted; the broker must not start over them. */
export class MetadataCorruptError extends Error {
  override name = 'MetadataCorruptError';
}

/** The data directory belongs to another node id or cluster id. */
export class MetadataIdentityError extends Error {
  override name = 'MetadataIdentityError';
}
