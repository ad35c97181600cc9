// The consumer's public surface.

export type { IsolationLevel, OffsetSpec } from '../list-offsets.js';
export type {
  AssignorName,
  MemberSubscription,
  PartitionAssignor,
  RebalanceProtocol,
  TopicPartitions,
  TopicPartitionsMap,
} from './assignors.js';
export {
  builtInAssignors,
  cooperativeStickyAssignor,
  kafkajsRoundRobinAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from './assignors.js';
export type {
  AssignedPartition,
  ConsumerBatch,
  ConsumerOptions,
  RunOptions,
  TopicPartitionOffset,
} from './consumer.js';
export { Consumer, ConsumerStateError } from './consumer.js';
export type { OffsetResetPolicy, TopicPartition } from './fetcher.js';
export type { RevokeInfo } from './membership.js';
export type { ConsumerMessage, MessageHeader } from './message.js';
