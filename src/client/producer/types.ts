// The producer's public record types.
import type { RecordData, RecordHeaders } from '../../protocol/records/encode.js';

export type { HeaderValue, RecordData, RecordHeaders } from '../../protocol/records/encode.js';

/** One record to produce. */
export interface ProducerMessage {
  key?: RecordData;
  value: RecordData;
  /** Header values may be strings or Buffers; an array writes the same header name once per value. */
  headers?: RecordHeaders;
  /** CreateTime in milliseconds since the epoch; defaults to the time of the send() call. */
  timestamp?: number;
  /** Explicit partition: wins over the key and the partitioner. */
  partition?: number;
}

/** Where a record was written. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** The record's offset (a JS number: exact below 2^53); -1 with acks=0, where the broker does not answer. */
  offset: number;
  /** The record's CreateTime, or the broker's append time when the topic uses LogAppendTime. */
  timestamp: number;
}

/** What a partitioner sees for each record that names no partition. */
export interface PartitionerContext {
  topic: string;
  /** The key and value as given to send(). */
  key: RecordData;
  value: RecordData;
  headers: RecordHeaders | undefined;
  partitionCount: number;
  /** Partitions that currently have a leader, ascending. */
  availablePartitions: readonly number[];
}

/** Returns a partition in [0, partitionCount). */
export type Partitioner = (context: PartitionerContext) => number;
