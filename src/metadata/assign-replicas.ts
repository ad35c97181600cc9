// Placement of partition replicas on brokers: round-robin leaders, followers shifted so that the load of a
// failed broker spreads over the others rather than falling on one neighbour.

import { InvalidPartitionsError, InvalidReplicationFactorError } from './errors.js';
import type { PartitionRecord } from './types.js';

/**
 * Replica lists for `partitionCount` partitions. The first replica of partition p is broker
 * `(startIndex + p) mod n`; followers sit at distinct offsets from it, the offset shifting after every n
 * partitions. Brokers are ordered by id so the result does not depend on the caller's order.
 */
export function assignReplicas(
  brokers: readonly number[],
  partitionCount: number,
  replicationFactor: number,
  startIndex = 0,
): number[][] {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new InvalidPartitionsError(`Number of partitions must be larger than 0, got ${partitionCount}.`);
  }
  const sorted = [...new Set(brokers)].sort((a, b) => a - b);
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new InvalidReplicationFactorError(
      `Replication factor must be larger than 0, got ${replicationFactor}.`,
    );
  }
  if (replicationFactor > sorted.length) {
    throw new InvalidReplicationFactorError(
      `Replication factor: ${replicationFactor} larger than available brokers: ${sorted.length}.`,
    );
  }
  const brokerCount = sorted.length;
  const start = ((startIndex % brokerCount) + brokerCount) % brokerCount;
  const assignments: number[][] = [];
  let followerShift = 0;
  for (let partition = 0; partition < partitionCount; partition++) {
    if (partition > 0 && partition % brokerCount === 0) followerShift++;
    const first = (start + partition) % brokerCount;
    const replicas = [sorted[first]!];
    for (let follower = 0; follower < replicationFactor - 1; follower++) {
      // Offsets 1 + ((shift + follower) mod (n-1)) are distinct and never 0, so replicas are distinct.
      const offset = 1 + ((followerShift + follower) % (brokerCount - 1));
      replicas.push(sorted[(first + offset) % brokerCount]!);
    }
    assignments.push(replicas);
  }
  return assignments;
}

/** New partition records for replica lists: leader is the first replica, all replicas in sync, epochs 0. */
export function newPartitionRecords(assignments: readonly number[][], firstPartition = 0): PartitionRecord[] {
  return assignments.map((replicas, index) => ({
    partition: firstPartition + index,
    replicas: [...replicas],
    leader: replicas[0]!,
    leaderEpoch: 0,
    isr: [...replicas],
    partitionEpoch: 0,
  }));
}
