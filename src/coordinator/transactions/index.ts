export {
  DEFAULT_TRANSACTION_COORDINATOR_CONFIG,
  type DescribedTransaction,
  type InitProducerIdResult,
  type ListedTransaction,
  type ListTransactionsFilter,
  type ListTransactionsResult,
  type ProducerIdAndEpoch,
  type ProducerIdSource,
  TransactionCoordinator,
  type TransactionCoordinatorConfig,
  type TransactionCoordinatorLogger,
  type TransactionCoordinatorOptions,
  type TransactionMarker,
  type TransactionMarkerWriter,
  type TransactionStateLog,
  type TransactionStateRecord,
  type TransactionVerifier,
} from './coordinator.js';
export { TransactionPartitionLoadError, TransactionRecordError, TransactionStateError } from './errors.js';
export { MemoryTransactionStateLog } from './memory-transaction-log.js';
export {
  isEpochExhausted,
  type TopicPartition,
  TRANSACTION_STATES,
  TransactionMetadata,
  type TransactionStateName,
  type TransactionTransition,
} from './metadata.js';
export {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from './records.js';
