// Public surface of the producer.
export { murmur2, partitionForKey, toPositive } from './murmur2.js';
export { Producer, type ProducerOptions, type ProducerRecord } from './producer.js';
export type { ConsumerGroupMetadata, TransactionOffset, TransactionState } from './transactions.js';
export type {
  HeaderValue,
  Partitioner,
  PartitionerContext,
  ProducerMessage,
  RecordData,
  RecordHeaders,
  RecordMetadata,
} from './types.js';
