// Committed offsets of one group, plus the commits still being written to the offsets topic.
//
// A commit is staged before its append starts and materialized when the append resolves. Every append gets
// a sequence number in call order, which is also the order of its records in the log, so a commit that
// resolves late never overwrites a newer one. Removing an offset (OffsetDelete, expiry, group deletion)
// raises a floor for that partition: commits staged before the removal precede its tombstone in the log,
// so they must not reappear in memory when their appends resolve.

import type { OffsetCommitValue } from './records.js';

export type OffsetAndMetadata = OffsetCommitValue;

interface CommittedEntry {
  readonly value: OffsetAndMetadata;
  /** Sequence of the append that wrote it; 0 for offsets replayed from the log. */
  readonly sequence: number;
}

interface PendingCommits {
  inFlight: number;
  newestSequence: number;
  /** Completions with a lower sequence were overtaken by a removal and are ignored. */
  floorSequence: number;
}

export interface ExpiredOffset {
  topic: string;
  partition: number;
}

export class GroupOffsets {
  private readonly committed = new Map<string, Map<number, CommittedEntry>>();
  /** Partitions with appends in flight, by topic. */
  private readonly pending = new Map<string, Map<number, PendingCommits>>();
  private pendingCount = 0;
  private lastSequence = 0;

  get size(): number {
    let count = 0;
    for (const partitions of this.committed.values()) count += partitions.size;
    return count;
  }

  /** Kafka's hasOffsets: committed or still in flight. A group with offsets is never removed. */
  get hasOffsets(): boolean {
    return this.committed.size > 0 || this.pendingCount > 0;
  }

  get(topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.committed.get(topic)?.get(partition)?.value;
  }

  /** Topics in first-commit order, each with its partitions. */
  *topics(): IterableIterator<[string, ReadonlyMap<number, OffsetAndMetadata>]> {
    for (const [topic, partitions] of this.committed) {
      const values = new Map<number, OffsetAndMetadata>();
      for (const [partition, entry] of partitions) values.set(partition, entry.value);
      yield [topic, values];
    }
  }

  /** Whether a commit staged after the last removal is still being written (OffsetFetch requireStable). */
  hasPending(topic: string, partition: number): boolean {
    const state = this.pending.get(topic)?.get(partition);
    return state !== undefined && state.newestSequence >= state.floorSequence;
  }

  /** Replays a record read from the log at load time. */
  load(topic: string, partition: number, value: OffsetAndMetadata): void {
    this.setCommitted(topic, partition, { value, sequence: 0 });
  }

  /** Marks a commit as in flight; returns the sequence to pass to complete/fail. */
  stage(topic: string, partition: number): number {
    const sequence = ++this.lastSequence;
    let partitions = this.pending.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.pending.set(topic, partitions);
    }
    const state = partitions.get(partition);
    if (state === undefined) {
      partitions.set(partition, { inFlight: 1, newestSequence: sequence, floorSequence: 0 });
      this.pendingCount++;
    } else {
      state.inFlight++;
      state.newestSequence = sequence;
    }
    return sequence;
  }

  /** The append of a staged commit succeeded. */
  complete(topic: string, partition: number, sequence: number, value: OffsetAndMetadata): void {
    const state = this.pending.get(topic)?.get(partition);
    if (state === undefined) return;
    const current = this.committed.get(topic)?.get(partition);
    if (sequence >= state.floorSequence && (current === undefined || current.sequence < sequence)) {
      this.setCommitted(topic, partition, { value, sequence });
    }
    this.settle(topic, partition, state);
  }

  /** The append of a staged commit failed; the committed value stays what it was. */
  fail(topic: string, partition: number): void {
    const state = this.pending.get(topic)?.get(partition);
    if (state !== undefined) this.settle(topic, partition, state);
  }

  /** Drops the offset and overrides its in-flight commits. Returns whether a committed offset existed. */
  remove(topic: string, partition: number): boolean {
    const state = this.pending.get(topic)?.get(partition);
    if (state !== undefined) state.floorSequence = ++this.lastSequence;
    const partitions = this.committed.get(topic);
    if (partitions === undefined || !partitions.delete(partition)) return false;
    if (partitions.size === 0) this.committed.delete(topic);
    return true;
  }

  /** Drops everything; returns the partitions that had committed offsets. */
  removeAll(): ExpiredOffset[] {
    const removed: ExpiredOffset[] = [];
    for (const [topic, partitions] of this.committed) {
      for (const partition of partitions.keys()) removed.push({ topic, partition });
    }
    this.committed.clear();
    for (const partitions of this.pending.values()) {
      for (const state of partitions.values()) state.floorSequence = ++this.lastSequence;
    }
    return removed;
  }

  /**
   * Removes offsets past retention (Kafka's removeExpiredOffsets). An offset with an explicit expire
   * timestamp (OffsetCommit v2-v4 retention) expires at that time; any other expires once
   * `retentionMs` has passed since `baseTimestampMs(offset)`. Offsets with a commit in flight, and offsets
   * of `keepTopics`, are kept.
   */
  removeExpired(
    nowMs: number,
    retentionMs: number,
    baseTimestampMs: (offset: OffsetAndMetadata) => number,
    keepTopics: ReadonlySet<string>,
  ): ExpiredOffset[] {
    const expired: ExpiredOffset[] = [];
    for (const [topic, partitions] of this.committed) {
      if (keepTopics.has(topic)) continue;
      for (const [partition, { value }] of partitions) {
        if (this.hasPending(topic, partition)) continue;
        const isExpired =
          value.expireTimestampMs !== null
            ? nowMs >= value.expireTimestampMs
            : nowMs - baseTimestampMs(value) >= retentionMs;
        if (isExpired) expired.push({ topic, partition });
      }
    }
    for (const { topic, partition } of expired) this.remove(topic, partition);
    return expired;
  }

  private setCommitted(topic: string, partition: number, entry: CommittedEntry): void {
    let partitions = this.committed.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.committed.set(topic, partitions);
    }
    partitions.set(partition, entry);
  }

  private settle(topic: string, partition: number, state: PendingCommits): void {
    if (--state.inFlight > 0) return;
    const partitions = this.pending.get(topic)!;
    partitions.delete(partition);
    this.pendingCount--;
    if (partitions.size === 0) this.pending.delete(topic);
  }
}
