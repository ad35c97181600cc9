// Typed errors of the transaction coordinator for conditions that are bugs or corrupt data, never client errors
// (those are answered with Kafka error codes).

/**
 * A transaction was asked to move to a state it may not reach from its current one, or a completed write
 * does not match the transition that was prepared. Always a coordinator bug.
 */
export class TransactionStateError extends Error {
  override name = 'TransactionStateError';
}

/**
 * A record of __transaction_state could not be decoded (unknown value version or status, truncated or
 * trailing bytes). Loading the partition stops: skipping it could lose an open transaction.
 */
export class TransactionRecordError extends Error {
  override name = 'TransactionRecordError';
}

/** loadPartition for a partition already loading or loaded, or on a coordinator that is not running. */
export class TransactionPartitionLoadError extends Error {
  override name = 'TransactionPartitionLoadError';
}
