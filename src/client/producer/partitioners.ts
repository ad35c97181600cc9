// Partition choice for records that name no partition: keyed records hash like the Java client (murmur2), keyless
// records stick to one partition until a batch for it is sent (KIP-480), so that they fill batches instead of
// scattering one record per partition.
import { KafkaClientError } from '../errors.js';
import { murmur2, toPositive } from './murmur2.js';

let scratch = Buffer.allocUnsafe(1024);

/** The partition of a keyed record: toPositive(murmur2(UTF-8 or raw key bytes)) % partitionCount. */
export function partitionForKeyData(key: string | Buffer, keyLength: number, partitionCount: number): number {
  if (typeof key !== 'string') return toPositive(murmur2(key)) % partitionCount;
  // Strings are hashed from a reused scratch buffer: no Buffer per record.
  if (scratch.length < keyLength) scratch = Buffer.allocUnsafe(Math.max(keyLength, scratch.length * 2));
  scratch.write(key, 0, keyLength, 'utf8');
  return toPositive(murmur2(scratch, 0, keyLength)) % partitionCount;
}

/**
 * A new sticky partition: random among the partitions that have a leader, avoiding `previous` when another is
 * available (KIP-480); random among all partitions when none has a leader.
 */
export function nextStickyPartition(
  availablePartitions: readonly number[],
  partitionCount: number,
  previous: number,
): number {
  const available = availablePartitions.length;
  if (available === 0) return Math.floor(Math.random() * partitionCount);
  if (available === 1) return availablePartitions[0]!;
  for (;;) {
    const candidate = availablePartitions[Math.floor(Math.random() * available)]!;
    if (candidate !== previous) return candidate;
  }
}

/** Checks a partition chosen by the application or its partitioner. */
export function checkPartition(topic: string, partition: unknown, partitionCount: number): number {
  if (
    typeof partition === 'number' &&
    Number.isInteger(partition) &&
    partition >= 0 &&
    partition < partitionCount
  ) {
    return partition;
  }
  throw new KafkaClientError({
    code: -1,
    type: 'INVALID_PARTITION',
    retriable: false,
    message: `partition ${String(partition)} is not in [0, ${partitionCount}) for topic ${topic}`,
    topic,
  });
}
