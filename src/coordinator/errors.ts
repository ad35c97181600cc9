// The typed errors the coordinator throws for conditions that are bugs or corrupt data rather than client errors.

import { ErrorCode } from '../protocol/errors.js';

export { ErrorCode };

/**
 * A group moved to a state it may not reach from its current one, or a member operation broke a group
 * invariant. Always a coordinator bug: requests never cause it.
 */
export class GroupStateError extends Error {
  override name = 'GroupStateError';
}

/**
 * A record of the offsets topic could not be decoded (unknown key type or value version, truncated or
 * trailing bytes). Loading stops: silently skipping would drop committed offsets.
 */
export class CoordinatorRecordError extends Error {
  override name = 'CoordinatorRecordError';
}

/**
 * loadPartition was called for a partition that is already loading or loaded, or on a stopped coordinator.
 * The caller must unload first (a new leader epoch starts from a clean slate).
 */
export class PartitionLoadError extends Error {
  override name = 'PartitionLoadError';
}

/**
 * The error code a failed CoordinatorLog.append carries, if it carries one: storage errors name it
 * `errorCode`, the broker's KafkaError (not the leader, for instance) `code`.
 */
export function errorCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code =
    'errorCode' in error
      ? (error as { errorCode: unknown }).errorCode
      : 'code' in error
        ? (error as { code: unknown }).code
        : undefined;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Kafka's translation of a failed offsets-topic append into what an OffsetCommit client understands.
 * An error without a code (say, an I/O error of our own log) is treated as a transient unavailability.
 */
export function offsetCommitErrorFromAppend(error: unknown): number {
  const code = errorCodeOf(error);
  switch (code) {
    case undefined:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}

/** Kafka's translation of a failed group-metadata append into a JoinGroup/SyncGroup error. */
export function groupMetadataErrorFromAppend(error: unknown): number {
  const code = errorCodeOf(error);
  switch (code) {
    case undefined:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    // The client retries the whole rebalance, which is what a timed-out write needs.
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.REBALANCE_IN_PROGRESS;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}
