// Consumer lag per partition: how far a group's committed position trails the partition's high watermark.

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number;
  highWatermark: number;
  /**
   * highWatermark - committedOffset, never negative; null when the high watermark is unknown or nothing was
   * committed (offset -1), as Kafka's consumer-groups tool shows "-" then.
   */
  lag: number | null;
}

/** `highWatermarks` is keyed by topic, then partition. Rows keep the order of `committed`. */
export function computeLag(
  committed: Iterable<CommittedOffset>,
  highWatermarks: ReadonlyMap<string, ReadonlyMap<number, number>>,
): PartitionLag[] {
  const rows: PartitionLag[] = [];
  for (const { topic, partition, offset } of committed) {
    const highWatermark = highWatermarks.get(topic)?.get(partition);
    rows.push({
      topic,
      partition,
      committedOffset: offset,
      highWatermark: highWatermark ?? -1,
      // A commit past the high watermark (after a truncation, or a manual commit) is not negative lag.
      lag: highWatermark === undefined || offset < 0 ? null : Math.max(0, highWatermark - offset),
    });
  }
  return rows;
}
