export { type BatchHeader, readBatchHeader } from './batch.js';
export { type EpochEntry, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from './checkpoint.js';
export { DEFAULT_LOG_CONFIG, deletesByRetention, type LogConfig, validateLogConfig } from './config.js';
export {
  CorruptBatchError,
  ErrorCode,
  FencedLeaderEpochError,
  InvalidProducerEpochError,
  InvalidRecordError,
  KafkaStorageError,
  OffsetOutOfRangeError,
  StorageError,
} from './errors.js';
export { LogManager, type LogManagerOptions, parsePartitionDirName } from './log-manager.js';
export {
  type AppendResult,
  createStorageResources,
  DEFAULT_TAIL_CACHE_BUDGET_BYTES,
  DELETED_SUFFIX,
  type LogStats,
  PartitionLog,
  type PartitionLogOptions,
  type ReadOptions,
  type StorageLogger,
  type TransactionMarker,
} from './partition-log.js';
export type { AppendOrigin, ProducerStateSummary } from './producer-state.js';
export type { StorageResources } from './resources.js';
export { type ReadResult, releaseRead } from './tail-cache.js';
export type { AbortedTransaction } from './txn-index.js';
