// Partition offsets the client commands look up: log start and end offsets and offsets by timestamp (one
// request per leader, with the cluster's retries; a timestamp past the last record resolves to the log end).

import type { Cluster } from '../client/cluster.js';
import { type IsolationLevel, listOffsets, type OffsetSpec, partitionKey } from '../client/list-offsets.js';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** Offsets by `partitionKey(topic, partition)`. */
export type OffsetsByPartition = Map<string, number>;

export { partitionKey };

/** With read_committed, 'latest' is the last stable offset: where a transaction still open begins. */
export function lookUpOffsets(
  cluster: Cluster,
  partitions: readonly TopicPartitionRef[],
  spec: OffsetSpec,
  isolationLevel: IsolationLevel = 'read_uncommitted',
): Promise<OffsetsByPartition> {
  if (partitions.length === 0) return Promise.resolve(new Map());
  return listOffsets(
    cluster,
    partitions.map(({ topic, partition }) => ({ topic, partition, spec })),
    isolationLevel,
  );
}

/** An offset for `partition` from a lookup that must have answered for it. */
export function offsetOf(offsets: OffsetsByPartition, { topic, partition }: TopicPartitionRef): number {
  const offset = offsets.get(partitionKey(topic, partition));
  if (offset === undefined) throw new Error(`no offset was looked up for ${topic}-${partition}`);
  return offset;
}
