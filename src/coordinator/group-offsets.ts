// Committed offsets of one group, plus the commits still being written to the offsets topic.
//
// A commit is staged before its append starts and materialized when the append resolves. Every append gets
// a sequence number in call order, which is also the order of its records in the log, so a commit that
// resolves late never overwrites a newer one. Removing an offset (OffsetDelete, expiry, group deletion)
// raises a floor for that partition: commits staged before the removal precede its tombstone in the log,
// so they must not reappear in memory when their appends resolve.
//
// Transactional commits (TxnOffsetCommit) stay pending per producer until the transaction's marker: a commit
// materializes them, an abort drops them. Their sequence is their position in the log too, so a committed
// transactional offset replaces the committed one only if it was written after it (Kafka's rule: the later
// record in the log wins, whichever kind it is).

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

/** A transactional offset waiting for its transaction's marker. */
export interface PendingTransactionalOffset {
  readonly value: OffsetAndMetadata;
  /** Position of its record among this group's appends (and, at load, among the partition's records). */
  readonly sequence: number;
  /** Its record is in the log (false while the append is in flight). */
  appended: boolean;
  /** The transaction ended while the append was in flight: whether it committed, applied once it lands. */
  outcome: boolean | null;
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
  /** Transactional offsets by producer id, then topic, then partition. */
  private readonly pendingTransactional = new Map<
    number,
    Map<string, Map<number, PendingTransactionalOffset>>
  >();
  private lastSequence = 0;

  get size(): number {
    let count = 0;
    for (const partitions of this.committed.values()) count += partitions.size;
    return count;
  }

  /** Kafka's hasOffsets: committed, in flight or in an open transaction. A group with offsets is never removed. */
  get hasOffsets(): boolean {
    return this.committed.size > 0 || this.pendingCount > 0 || this.pendingTransactional.size > 0;
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

  /**
   * Whether a commit staged after the last removal is still being written, or a transactional offset waits
   * for its marker (OffsetFetch requireStable).
   */
  hasPending(topic: string, partition: number): boolean {
    const state = this.pending.get(topic)?.get(partition);
    if (state !== undefined && state.newestSequence >= state.floorSequence) return true;
    for (const topics of this.pendingTransactional.values()) {
      if (topics.get(topic)?.has(partition) === true) return true;
    }
    return false;
  }

  /** Whether `producerId` has offsets here waiting for its marker. */
  hasTransactionalOffsetsOf(producerId: number): boolean {
    return this.pendingTransactional.has(producerId);
  }

  /** Producers with transactional offsets waiting for their marker. */
  transactionalProducers(): IterableIterator<number> {
    return this.pendingTransactional.keys();
  }

  /**
   * Replays a committed offset read from the log at load time. `sequence` is the record's position in the
   * partition; later stages get higher sequences.
   */
  load(topic: string, partition: number, value: OffsetAndMetadata, sequence = 0): void {
    this.setCommitted(topic, partition, { value, sequence });
    if (sequence > this.lastSequence) this.lastSequence = sequence;
  }

  /** Replays a transactional offset whose marker was not in the log at load time. */
  loadTransactional(
    producerId: number,
    topic: string,
    partition: number,
    value: OffsetAndMetadata,
    sequence: number,
  ): void {
    this.setPendingTransactional(producerId, topic, partition, {
      value,
      sequence,
      appended: true,
      outcome: null,
    });
    if (sequence > this.lastSequence) this.lastSequence = sequence;
  }

  /** A TxnOffsetCommit's record is about to be appended: pending until its transaction's marker. */
  stageTransactional(
    producerId: number,
    topic: string,
    partition: number,
    value: OffsetAndMetadata,
  ): PendingTransactionalOffset {
    const entry = { value, sequence: ++this.lastSequence, appended: false, outcome: null };
    this.setPendingTransactional(producerId, topic, partition, entry);
    return entry;
  }

  /** The append of a staged transactional offset succeeded. */
  completeTransactional(topic: string, partition: number, entry: PendingTransactionalOffset): void {
    entry.appended = true;
    // The marker came first only in memory: in the log this record precedes it.
    if (entry.outcome === true) this.materialize(topic, partition, entry);
  }

  /** The append of a staged transactional offset failed: it is not in the log, so it is forgotten. */
  failTransactional(
    producerId: number,
    topic: string,
    partition: number,
    entry: PendingTransactionalOffset,
  ): void {
    const topics = this.pendingTransactional.get(producerId);
    const partitions = topics?.get(topic);
    if (partitions?.get(partition) !== entry) return;
    partitions!.delete(partition);
    if (partitions!.size === 0) topics!.delete(topic);
    if (topics!.size === 0) this.pendingTransactional.delete(producerId);
  }

  /**
   * The marker of `producerId`'s transaction is durable: a commit materializes its offsets where they are
   * newer than the committed ones (Kafka's completePendingTxnOffsetCommit), an abort drops them. Returns
   * whether the producer had pending offsets here.
   */
  completeTransaction(producerId: number, commit: boolean): boolean {
    const topics = this.pendingTransactional.get(producerId);
    if (topics === undefined) return false;
    this.pendingTransactional.delete(producerId);
    for (const [topic, partitions] of topics) {
      for (const [partition, entry] of partitions) {
        if (!entry.appended) entry.outcome = commit;
        else if (commit) this.materialize(topic, partition, entry);
      }
    }
    return true;
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

  /**
   * Drops the offset, overrides its in-flight commits and drops its pending transactional offsets (Kafka's
   * removeOffsets). Returns whether a committed offset existed.
   */
  remove(topic: string, partition: number): boolean {
    const state = this.pending.get(topic)?.get(partition);
    if (state !== undefined) state.floorSequence = ++this.lastSequence;
    this.removePendingTransactional(topic, partition);
    const partitions = this.committed.get(topic);
    if (partitions === undefined || !partitions.delete(partition)) return false;
    if (partitions.size === 0) this.committed.delete(topic);
    return true;
  }

  /**
   * Drops everything; returns the partitions that had committed or pending transactional offsets (each
   * needs a tombstone, or a reload would bring it back).
   */
  removeAll(): ExpiredOffset[] {
    const removed: ExpiredOffset[] = [];
    for (const [topic, partitions] of this.committed) {
      for (const partition of partitions.keys()) removed.push({ topic, partition });
    }
    for (const { topic, partition } of this.pendingTransactionalPartitions()) {
      if (this.committed.get(topic)?.has(partition) !== true) removed.push({ topic, partition });
    }
    this.committed.clear();
    this.pendingTransactional.clear();
    for (const partitions of this.pending.values()) {
      for (const state of partitions.values()) state.floorSequence = ++this.lastSequence;
    }
    return removed;
  }

  /** Removes every offset of `topics` (deleted topics); returns the partitions removed, as removeAll. */
  removeTopics(topics: ReadonlySet<string>): ExpiredOffset[] {
    const removed: ExpiredOffset[] = [];
    for (const [topic, partitions] of this.committed) {
      if (!topics.has(topic)) continue;
      for (const partition of partitions.keys()) removed.push({ topic, partition });
    }
    for (const { topic, partition } of this.pendingTransactionalPartitions()) {
      if (topics.has(topic) && this.committed.get(topic)?.has(partition) !== true)
        removed.push({ topic, partition });
    }
    for (const { topic, partition } of removed) this.remove(topic, partition);
    return removed;
  }

  /**
   * Removes offsets past retention (Kafka's removeExpiredOffsets). An offset with an explicit expire
   * timestamp (OffsetCommit v2-v4 retention) expires at that time; any other expires once
   * `retentionMs` has passed since `baseTimestampMs(offset)`. Offsets with a commit in flight or pending in
   * a transaction, and offsets of `keepTopics`, are kept. (Kafka expires an offset with a pending
   * transactional one; keeping it means that a tombstone always drops the partition's pending transactional
   * offsets, in memory and at load alike.)
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

  private materialize(topic: string, partition: number, entry: PendingTransactionalOffset): void {
    const current = this.committed.get(topic)?.get(partition);
    if (current === undefined || current.sequence < entry.sequence) {
      this.setCommitted(topic, partition, { value: entry.value, sequence: entry.sequence });
    }
  }

  private setPendingTransactional(
    producerId: number,
    topic: string,
    partition: number,
    entry: PendingTransactionalOffset,
  ): void {
    let topics = this.pendingTransactional.get(producerId);
    if (topics === undefined) {
      topics = new Map();
      this.pendingTransactional.set(producerId, topics);
    }
    let partitions = topics.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    partitions.set(partition, entry);
  }

  private removePendingTransactional(topic: string, partition: number): void {
    for (const [producerId, topics] of this.pendingTransactional) {
      const partitions = topics.get(topic);
      if (partitions === undefined || !partitions.delete(partition)) continue;
      if (partitions.size === 0) topics.delete(topic);
      if (topics.size === 0) this.pendingTransactional.delete(producerId);
    }
  }

  /** Every partition with a pending transactional offset, once. */
  private pendingTransactionalPartitions(): ExpiredOffset[] {
    const seen = new Map<string, Set<number>>();
    const result: ExpiredOffset[] = [];
    for (const topics of this.pendingTransactional.values()) {
      for (const [topic, partitions] of topics) {
        let partitionsSeen = seen.get(topic);
        if (partitionsSeen === undefined) {
          partitionsSeen = new Set();
          seen.set(topic, partitionsSeen);
        }
        for (const partition of partitions.keys()) {
          if (partitionsSeen.has(partition)) continue;
          partitionsSeen.add(partition);
          result.push({ topic, partition });
        }
      }
    }
    return result;
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
