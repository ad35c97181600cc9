// Public exports of the Sluice client. Each part adds its own lines; keep them sorted by module.
export * from './admin.js';
export {
  type BrokerAddress,
  type BrokerInfo,
  type ClientLogger,
  type ClientOptions,
  Cluster,
  type ClusterMetadata,
  type PartitionInfo,
  type PemInput,
  type RetryOptions,
  type SaslMechanism,
  type SaslOptions,
  type SslOptions,
  type TopicInfo,
} from './cluster.js';
export {
  type AssignedPartition,
  type AssignorName,
  builtInAssignors,
  Consumer,
  type ConsumerBatch,
  type ConsumerMessage,
  type ConsumerOptions,
  ConsumerStateError,
  cooperativeStickyAssignor,
  type IsolationLevel,
  kafkajsRoundRobinAssignor,
  type MemberSubscription,
  type MessageHeader,
  type OffsetResetPolicy,
  type OffsetSpec,
  type PartitionAssignor,
  type RebalanceProtocol,
  type RevokeInfo,
  type RunOptions,
  rangeAssignor,
  roundRobinAssignor,
  type TopicPartition,
} from './consumer/index.js';
export * from './errors.js';
export * from './producer/index.js';
