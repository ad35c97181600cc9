export {
  ClassicGroup,
  ClassicGroupMember,
  CONSUMER_PROTOCOL_TYPE,
  type GroupState,
} from './classic-group.js';
export { parseSubscriptionTopics } from './consumer-protocol.js';
export {
  CoordinatorRecordError,
  ErrorCode,
  errorCodeOf,
  GroupStateError,
  PartitionLoadError,
} from './errors.js';
export {
  type CoordinatorLog,
  type CoordinatorLogEntry,
  type CoordinatorLogger,
  type CoordinatorRecord,
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type GroupCoordinatorOptions,
  type LoggedCoordinatorRecord,
  type LoggedTransactionMarker,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  type TransactionalOffsetVerifier,
} from './group-coordinator.js';
export { MemoryCoordinatorLog, type StoredCoordinatorRecord } from './memory-coordinator-log.js';
export { javaStringHashCode, partitionFor } from './partition-for.js';
export { ManualScheduler, realScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
export type * from './types.js';
