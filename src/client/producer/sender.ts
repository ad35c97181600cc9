// The sender: takes ready batches from the accumulator, groups them per leader broker (one batch per partition
// per Produce request) and completes, retries or fails them from the responses.
//
// Ordering: a batch that failed with a retriable error stays at the head of its partition's queue until it is
// resent. An idempotent producer (the default where the cluster offers InitProducerId) stamps its producer id
// and per-partition sequence numbers on each batch and keeps up to 5 in flight per partition: the broker refuses
// a batch behind a gap (OUT_OF_ORDER_SEQUENCE_NUMBER), which is resent after the batch before it, and writes a
// retried batch once. Without idempotence a partition has 1 batch in flight, so nothing can overtake a retry.
// Retries back off exponentially; a stale-metadata or connection error also pauses the topic's batches until
// fresh metadata arrives. Every batch is bounded by deliveryTimeoutMs from its creation, and by `retries`.

import { ErrorCode } from '../../protocol/errors.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/generated/produce.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
import type { BatchHeaderFields } from '../../protocol/records/encode.js';
import { CodecId, type CodecIdValue } from '../../protocol/records/index.js';
import {
  ConnectionError,
  errorFromCode,
  KafkaClientError,
  ProtocolError,
  RecordError,
  RequestTimeoutError,
  StaleMetadataError,
} from '../errors.js';
import type { Accumulator, PartitionQueue, ProducerBatch, TopicLayout } from './accumulator.js';
import type { MemoryPool } from './memory-pool.js';

/** The id and epoch an idempotent producer stamps on its batches. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

/**
 * Idempotence: 'required' (asked for: failing without it), 'preferred' (the default: used when the cluster
 * offers InitProducerId, else off) or 'off'.
 */
export type Idempotence = 'required' | 'preferred' | 'off';

/**
 * A transactional producer's gate (transactions.ts): a partition's batches go out only once the partition is
 * part of the ongoing transaction (AddPartitionsToTxn), and a batch that fails for good dooms the transaction.
 */
export interface TransactionGate {
  /** True when the partition's batches may be sent now; false while it is being added (wake() follows) or cannot be. */
  admit(topic: string, partition: number): boolean;
  /** A batch of the transaction failed for good: the transaction can only be aborted now. */
  batchFailed(error: KafkaClientError): void;
}

/** What the sender needs from the cluster; the Producer implements it over Cluster, tests fake it. */
export interface ProduceTarget {
  /** A new producer id (InitProducerId), or null when the cluster does not offer InitProducerId. */
  initProducerId(): Promise<ProducerIdentity | null>;
  /** The cached partition layout of a topic, or undefined when unknown. A new object whenever it changed. */
  topicLayout(topic: string): TopicLayout | undefined;
  /** Loads a topic's layout (creating the topic if the broker auto-creates), failing after deadlineMs. */
  loadTopic(topic: string, deadlineMs: number): Promise<TopicLayout>;
  /** Fetches fresh metadata for these topics. */
  refreshMetadata(topics: readonly string[]): Promise<void>;
  /** Sends one Produce request to broker `nodeId`; resolves with null when acks=0 (no response). */
  produce(nodeId: number, request: ProduceRequest<RecordsPayload>): Promise<ProduceResponse | null>;
}

export interface SenderOptions {
  acks: number;
  /** The Produce request's timeout field: how long the broker may wait for replication. */
  ackTimeoutMs: number;
  lingerMs: number;
  batchSize: number;
  codec: CodecIdValue;
  retries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  deliveryTimeoutMs: number;
  /** Batches in flight per partition while idempotent, and without idempotence. */
  maxInFlightPerPartition: number;
  maxInFlightWithoutIdempotence: number;
  maxRequestSize: number;
  idempotence: Idempotence;
  /** Sent in every Produce request of a transactional producer. */
  transactionalId: string | null;
}

/** Record batch attribute bit 4: the batch belongs to a transaction. */
const TRANSACTIONAL_FLAG = 0x10;
/** Sequences are int32 and wrap to 0 after 2^31-1. */
const SEQUENCE_MODULUS = 0x8000_0000;

/** Produce request overhead besides the batches, bounded generously (topic names are counted separately). */
const REQUEST_OVERHEAD_BYTES = 128;
const NO_FIELDS: BatchHeaderFields = {};
const PARTITION_OVERHEAD_BYTES = 16;

export class Sender {
  private readonly accumulator: Accumulator;
  private readonly pool: MemoryPool;
  private readonly target: ProduceTarget;
  private readonly options: SenderOptions;
  private drainScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = Number.POSITIVE_INFINITY;
  /** Flush calls in progress: while > 0, batches go out without waiting for linger. */
  private flushing = 0;
  /** Topics whose batches wait for a metadata refresh. */
  private readonly staleTopics = new Set<string>();
  private refreshing = false;
  private nextRefreshAtMs = 0;
  private closed = false;
  /** Idempotent: batches carry `identity` and per-partition sequences; false once it turned out unavailable. */
  private idempotent: boolean;
  private maxInFlight: number;
  private identity: ProducerIdentity | null = null;
  private identityFetching = false;
  private identityAttempts = 0;
  private identityRetryAtMs = 0;
  /**
   * The broker's sequence state and ours may disagree (a sequenced batch failed for good, or the broker lost
   * the producer): once nothing is in flight, a new producer id starts every partition at sequence 0.
   */
  private resetNeeded = false;
  /** Bumped with each new identity: a partition whose sequenceGeneration differs starts at 0. */
  private generation = 0;
  private batchesInFlight = 0;
  /** Set for a transactional producer, whose identity comes from initTransactions() instead of fetchIdentity(). */
  private gate: TransactionGate | null = null;

  constructor(accumulator: Accumulator, pool: MemoryPool, target: ProduceTarget, options: SenderOptions) {
    this.accumulator = accumulator;
    this.pool = pool;
    this.target = target;
    this.options = options;
    this.idempotent = options.idempotence !== 'off';
    this.maxInFlight = this.idempotent
      ? options.maxInFlightPerPartition
      : options.maxInFlightWithoutIdempotence;
  }

  /** Makes this a transactional producer's sender: idempotent, identity given by useIdentity(), gated partitions. */
  setTransactional(gate: TransactionGate): void {
    this.gate = gate;
    this.idempotent = true;
    this.maxInFlight = this.options.maxInFlightPerPartition;
  }

  /** A batch failed after its sequence was taken: the identity must be replaced before more batches go out. */
  get needsNewIdentity(): boolean {
    return this.resetNeeded;
  }

  /** Schedules a drain on the next turn of the event loop (once, however many appends happened). */
  wake(): void {
    if (this.drainScheduled || this.closed) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  /**
   * Sends every pending batch now and resolves when all of them have completed (successfully or not).
   * `appended` resolves when appends already under way are in: their batches are waited for too.
   */
  async flush(appended?: Promise<unknown>): Promise<void> {
    this.flushing++;
    try {
      this.wake();
      if (appended !== undefined) await appended;
      const waiter = { remaining: 0, resolve: () => {} };
      const done = new Promise<void>((resolve) => {
        waiter.resolve = resolve;
      });
      for (const batch of this.accumulator.pendingBatches()) {
        if (batch.done) continue;
        batch.addFlushWaiter(waiter);
        waiter.remaining++;
      }
      if (waiter.remaining === 0) return;
      this.wake();
      await done;
    } finally {
      this.flushing--;
    }
  }

  /** Stops scheduling; call after flush(). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.closed) return;
    const nowMs = Date.now();
    let nextWakeMs = Number.POSITIVE_INFINITY;
    // Per leader, one list per "round": round r holds the r-th batch taken from each partition, so that every
    // request carries at most one batch per partition.
    let byLeader: Map<number, ProducerBatch[][]> | null = null;
    let staleFound = false;
    // An idempotent producer sends nothing until it has its identity, nor while one is being replaced.
    let canSend = true;
    if (this.idempotent && (this.identity === null || this.resetNeeded)) {
      canSend = false;
      // A transactional producer's identity is replaced by its transaction manager, when it aborts.
      if (this.gate === null && this.accumulator.activeQueues.size > 0) {
        if (this.batchesInFlight > 0 || this.identityFetching) {
          // The last response in flight wakes the sender; so does the fetch when it ends.
        } else if (nowMs >= this.identityRetryAtMs) {
          this.fetchIdentity();
        } else {
          nextWakeMs = this.identityRetryAtMs;
        }
      }
    }

    for (const queue of this.accumulator.activeQueues) {
      this.expire(queue, nowMs);
      if (queue.size === 0) {
        this.accumulator.activeQueues.delete(queue);
        continue;
      }
      const first = queue.first!;
      if (!first.inFlight)
        nextWakeMs = Math.min(nextWakeMs, first.createdMs + this.options.deliveryTimeoutMs);
      if (!canSend) continue;
      let inFlight = queue.inFlight;
      if (inFlight >= this.maxInFlight) continue;
      if (this.gate !== null && !this.gate.admit(queue.topic.name, queue.partition)) continue;
      let leader = -2;
      let round = 0;
      for (let index = 0; index < queue.size && inFlight < this.maxInFlight; index++) {
        const batch = queue.at(index);
        if (batch.inFlight) continue;
        // A batch waiting to be retried holds back everything behind it.
        if (batch.retryAtMs > nowMs) {
          nextWakeMs = Math.min(nextWakeMs, batch.retryAtMs);
          break;
        }
        // An open batch that grew to batchSize while its partition was blocked goes now.
        if (!batch.closed && this.flushing === 0 && batch.builder.sizeBytes < this.options.batchSize) {
          const readyAtMs = batch.createdMs + this.options.lingerMs;
          if (readyAtMs > nowMs) {
            nextWakeMs = Math.min(nextWakeMs, readyAtMs);
            break;
          }
        }
        if (leader === -2) leader = this.leaderOf(queue);
        if (leader < 0) {
          staleFound = true;
          break;
        }
        if (!batch.closed) this.accumulator.closeBatch(queue);
        byLeader ??= new Map();
        let rounds = byLeader.get(leader);
        if (rounds === undefined) {
          rounds = [];
          byLeader.set(leader, rounds);
        }
        const roundBatches = rounds[round];
        if (roundBatches === undefined) rounds[round] = [batch];
        else roundBatches.push(batch);
        round++;
        inFlight++;
      }
    }

    if (byLeader !== null) {
      for (const [leader, rounds] of byLeader) {
        for (const batches of rounds) this.sendToLeader(leader, batches);
      }
    }
    if (staleFound) {
      if (this.refreshing) {
        // The refresh in progress wakes the sender when it ends.
      } else if (nowMs >= this.nextRefreshAtMs) {
        this.refresh();
      } else {
        nextWakeMs = Math.min(nextWakeMs, this.nextRefreshAtMs);
      }
    }
    this.armTimer(nextWakeMs, nowMs);
  }

  /** Asks for a producer id; on success every partition's sequences restart at 0 under it. */
  private fetchIdentity(): void {
    this.identityFetching = true;
    this.target.initProducerId().then(
      (identity) => {
        this.identityFetching = false;
        this.identityAttempts = 0;
        if (identity === null) {
          if (this.options.idempotence === 'required') {
            this.failQueued(
              new KafkaClientError({
                code: -1,
                type: 'IDEMPOTENCE_UNAVAILABLE',
                retriable: false,
                message: 'idempotent: true, but no broker of the cluster offers InitProducerId',
              }),
            );
            return;
          }
          // Only preferred: produce as a plain producer, one batch per partition in flight to keep order.
          this.idempotent = false;
          this.maxInFlight = this.options.maxInFlightWithoutIdempotence;
          this.accumulator.setMaxInFlightPerPartition(this.maxInFlight);
        } else {
          this.useIdentity(identity);
        }
        this.wake();
      },
      (error: unknown) => {
        this.identityFetching = false;
        const retriable = error instanceof KafkaClientError && error.retriable && !this.closed;
        if (!retriable) {
          this.failQueued(
            error instanceof KafkaClientError
              ? error
              : new KafkaClientError({
                  code: -1,
                  type: 'IDEMPOTENCE_UNAVAILABLE',
                  retriable: false,
                  message: `could not get a producer id: ${error instanceof Error ? error.message : String(error)}`,
                  cause: error,
                }),
          );
          return;
        }
        this.identityRetryAtMs = Date.now() + this.backoffMs(++this.identityAttempts);
        this.wake();
      },
    );
  }

  /** Takes a new producer id or epoch: every partition's sequences restart at 0 under it. */
  useIdentity(identity: ProducerIdentity): void {
    this.identity = identity;
    this.resetNeeded = false;
    this.generation++;
    // Batches sealed under the previous identity are sealed again, with this one and new sequences.
    for (const queue of this.accumulator.activeQueues) {
      for (let index = 0; index < queue.size; index++) queue.at(index).sealed = null;
    }
  }

  /** Fails every queued batch not in flight (no identity to send them with, or their transaction is over). */
  failQueued(error: KafkaClientError): void {
    for (const queue of [...this.accumulator.activeQueues]) {
      for (const batch of [...queue]) {
        if (batch.inFlight) continue;
        if (queue.open === batch) this.accumulator.closeBatch(queue);
        this.fail(batch, error);
      }
    }
  }

  /** The partition's leader from current metadata; -1 (and the topic marked stale) when unknown or refreshing. */
  private leaderOf(queue: PartitionQueue): number {
    const topic = queue.topic;
    if (this.staleTopics.has(topic.name)) return -1;
    const layout = this.target.topicLayout(topic.name);
    if (layout !== undefined && layout !== topic.layout) topic.setLayout(layout);
    const leader = topic.layout.leaders[queue.partition] ?? -1;
    if (leader < 0) this.staleTopics.add(topic.name);
    return leader;
  }

  private armTimer(atMs: number, nowMs: number): void {
    if (atMs === Number.POSITIVE_INFINITY) return;
    if (this.timer !== null) {
      if (this.timerAtMs <= atMs) return;
      clearTimeout(this.timer);
    }
    this.timerAtMs = atMs;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAtMs = Number.POSITIVE_INFINITY;
        this.drain();
      },
      Math.max(0, atMs - nowMs),
    );
  }

  /** Fails the queue's oldest batches that are not in flight and have outlived deliveryTimeoutMs. */
  private expire(queue: PartitionQueue, nowMs: number): void {
    for (;;) {
      const batch = queue.first;
      if (batch === undefined || batch.inFlight) return;
      const ageMs = nowMs - batch.createdMs;
      if (ageMs < this.options.deliveryTimeoutMs) return;
      if (queue.open === batch) this.accumulator.closeBatch(queue);
      this.fail(
        batch,
        new RequestTimeoutError(
          `expiring ${batch.builder.recordCount} record(s) for ${batch.topic}-${batch.partition}: ${ageMs} ms since the batch was created (deliveryTimeoutMs ${this.options.deliveryTimeoutMs})`,
          { topic: batch.topic, partition: batch.partition },
        ),
      );
    }
  }

  private refresh(): void {
    const topics = [...this.staleTopics];
    this.refreshing = true;
    this.target.refreshMetadata(topics).then(
      () => {
        for (const topic of topics) this.staleTopics.delete(topic);
        this.refreshDone();
      },
      () => this.refreshDone(),
    );
  }

  private refreshDone(): void {
    this.refreshing = false;
    this.nextRefreshAtMs = Date.now() + this.options.initialBackoffMs;
    this.wake();
  }

  private sendToLeader(leader: number, batches: ProducerBatch[]): void {
    // Split so that no request exceeds maxRequestSize (uncompressed sizes: an upper bound).
    let group: ProducerBatch[] = [];
    let groupBytes = REQUEST_OVERHEAD_BYTES;
    for (const batch of batches) {
      const bytes = batch.builder.sizeBytes + PARTITION_OVERHEAD_BYTES + batch.topic.length;
      if (group.length > 0 && groupBytes + bytes > this.options.maxRequestSize) {
        this.sendRequest(leader, group);
        group = [];
        groupBytes = REQUEST_OVERHEAD_BYTES;
      }
      group.push(batch);
      groupBytes += bytes;
    }
    if (group.length > 0) this.sendRequest(leader, group);
  }

  private sendRequest(leader: number, batches: ProducerBatch[]): void {
    let sealing: Promise<Buffer[]>[] | null = null;
    for (const batch of batches) {
      batch.inFlight = true;
      batch.queue.inFlight++;
      this.batchesInFlight++;
      batch.attempts++;
      if (batch.sealed !== null) continue;
      const fields = this.idempotent ? this.sequenceFields(batch) : NO_FIELDS;
      if (this.options.codec === CodecId.none) {
        batch.sealed = batch.builder.sealUncompressed(fields);
      } else {
        sealing ??= [];
        sealing.push(
          batch.builder.seal(this.options.codec, fields).then((sealed) => {
            batch.sealed = sealed;
            return sealed;
          }),
        );
      }
    }
    if (sealing === null) {
      this.produce(leader, batches);
      return;
    }
    Promise.all(sealing).then(
      () => this.produce(leader, batches),
      (error: unknown) => {
        for (const batch of batches) {
          this.endAttempt(batch);
          this.fail(batch, asClientError(error, batch));
        }
      },
    );
  }

  /** The producer id, epoch and the partition's next sequences, taken by `batch` (sealed in queue order). */
  private sequenceFields(batch: ProducerBatch): BatchHeaderFields {
    const identity = this.identity as ProducerIdentity;
    const queue = batch.queue;
    if (queue.sequenceGeneration !== this.generation) {
      queue.sequenceGeneration = this.generation;
      queue.nextSequence = 0;
    }
    const baseSequence = queue.nextSequence;
    queue.nextSequence = (baseSequence + batch.builder.recordCount) % SEQUENCE_MODULUS;
    return {
      producerId: identity.producerId,
      producerEpoch: identity.producerEpoch,
      baseSequence,
      attributeFlags: this.gate === null ? 0 : TRANSACTIONAL_FLAG,
    };
  }

  private produce(leader: number, batches: ProducerBatch[]): void {
    const topicData: ProduceRequest<RecordsPayload>['topicData'] = [];
    for (const batch of batches) {
      let topic = topicData.find((entry) => entry.name === batch.topic);
      if (topic === undefined) {
        topic = { name: batch.topic, partitionData: [] };
        topicData.push(topic);
      }
      topic.partitionData.push({ index: batch.partition, records: batch.sealed });
    }
    const request: ProduceRequest<RecordsPayload> = {
      transactionalId: this.options.transactionalId,
      acks: this.options.acks,
      timeoutMs: this.options.ackTimeoutMs,
      topicData,
    };
    let sent: Promise<ProduceResponse | null>;
    try {
      sent = this.target.produce(leader, request);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (response) => this.onResponse(batches, response),
      (error: unknown) => this.onRequestError(batches, error),
    );
  }

  private onResponse(batches: ProducerBatch[], response: ProduceResponse | null): void {
    if (response === null) {
      for (const batch of batches) {
        this.endAttempt(batch);
        this.complete(batch, -1, -1);
      }
      return;
    }
    const answered = new Set<ProducerBatch>();
    let cursor = 0;
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitionResponses) {
        // Brokers answer in request order, so the next batch is almost always the one.
        let batch = batches[cursor];
        if (
          batch === undefined ||
          batch.topic !== topicResponse.name ||
          batch.partition !== partitionResponse.index
        ) {
          batch = batches.find(
            (b) => b.topic === topicResponse.name && b.partition === partitionResponse.index,
          );
        }
        cursor++;
        if (batch === undefined || answered.has(batch)) continue;
        answered.add(batch);
        this.endAttempt(batch);
        const code = partitionResponse.errorCode;
        if (code === 0 || (code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER && this.idempotent)) {
          // A duplicate was written before: Kafka's brokers since 1.0 answer it with its offsets and no error,
          // older ones with this code and none.
          this.complete(
            batch,
            Number(partitionResponse.baseOffset),
            Number(partitionResponse.logAppendTimeMs),
          );
        } else if (this.idempotent && this.resendsInSequence(batch, code)) {
          // Handled: the batch is resent in its place.
        } else {
          const error = errorFromCode(
            partitionResponse.errorCode,
            partitionResponse.errorMessage ?? undefined,
            {
              topic: batch.topic,
              partition: batch.partition,
            },
          );
          this.retryOrFail(batch, error);
        }
      }
    }
    for (const batch of batches) {
      if (answered.has(batch)) continue;
      this.endAttempt(batch);
      this.fail(
        batch,
        new ProtocolError(`the Produce response has no result for ${batch.topic}-${batch.partition}`, {
          topic: batch.topic,
          partition: batch.partition,
        }),
      );
    }
  }

  /**
   * The idempotence answers a resend cures. OUT_OF_ORDER_SEQUENCE_NUMBER behind an earlier batch of the
   * partition that is being retried is that batch's gap: resent after it. At the head of the partition, and
   * UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH or INVALID_PRODUCER_ID_MAPPING, the broker's state is not ours:
   * resent under a new producer id (Java's producer resets its id the same way).
   */
  private resendsInSequence(batch: ProducerBatch, code: number): boolean {
    const ownGap = code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && batch.queue.first !== batch;
    const stateLost =
      code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER ||
      code === ErrorCode.UNKNOWN_PRODUCER_ID ||
      code === ErrorCode.INVALID_PRODUCER_EPOCH ||
      code === ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (!ownGap && !stateLost) return false;
    // In a transaction, lost state fails the batch: the transaction aborts and a new epoch restarts sequences.
    if (!ownGap && this.gate !== null) return false;
    const nowMs = Date.now();
    if (nowMs >= batch.createdMs + this.options.deliveryTimeoutMs) return false;
    if (!ownGap) this.resetNeeded = true;
    batch.retryAtMs = nowMs;
    this.wake();
    return true;
  }

  private onRequestError(batches: ProducerBatch[], error: unknown): void {
    for (const batch of batches) {
      batch.writeMayBePending = true;
      this.endAttempt(batch);
      this.retryOrFail(batch, asClientError(error, batch));
    }
  }

  private endAttempt(batch: ProducerBatch): void {
    if (!batch.inFlight) return;
    batch.inFlight = false;
    batch.queue.inFlight--;
    this.batchesInFlight--;
  }

  private retryOrFail(batch: ProducerBatch, error: KafkaClientError): void {
    const nowMs = Date.now();
    // Record errors are about the bytes themselves: sending them again cannot help.
    const retriable = error.retriable && !(error instanceof RecordError) && !this.closed;
    const backoffMs = this.backoffMs(batch.attempts);
    const deadlineMs = batch.createdMs + this.options.deliveryTimeoutMs;
    if (!retriable || batch.attempts > this.options.retries || nowMs + backoffMs >= deadlineMs) {
      this.fail(batch, error);
      return;
    }
    batch.retryAtMs = nowMs + backoffMs;
    if (error instanceof StaleMetadataError || error instanceof ConnectionError) {
      this.staleTopics.add(batch.topic);
    }
    this.wake();
  }

  private backoffMs(attempts: number): number {
    const exponential = this.options.initialBackoffMs * 2 ** Math.max(0, attempts - 1);
    const capped = Math.min(this.options.maxBackoffMs, exponential);
    // ±20% jitter so that producers that failed together do not retry together.
    return Math.round(capped * (0.8 + Math.random() * 0.4));
  }

  private complete(batch: ProducerBatch, baseOffset: number, logAppendTimeMs: number): void {
    batch.queue.remove(batch);
    // Answered (or, with acks=0, written): the broker has every byte, so the chunks can take new records.
    this.releaseMemory(batch, true);
    batch.complete(baseOffset, logAppendTimeMs);
    this.wake();
  }

  private fail(batch: ProducerBatch, error: Error): void {
    // A sequenced batch that is never written leaves a gap the partition's later batches cannot pass.
    if (this.idempotent && batch.sealed !== null) this.resetNeeded = true;
    batch.queue.remove(batch);
    this.releaseMemory(batch, !batch.writeMayBePending);
    batch.fail(error);
    if (this.gate !== null) this.gate.batchFailed(asClientError(error, batch));
    this.wake();
  }

  private releaseMemory(batch: ProducerBatch, reuseChunks: boolean): void {
    if (reuseChunks) this.pool.recycle(batch.builder.chunks);
    this.pool.release(batch.reservedBytes);
  }
}

function asClientError(error: unknown, batch: ProducerBatch): KafkaClientError {
  if (error instanceof KafkaClientError) return error;
  return new KafkaClientError({
    code: -1,
    type: 'PRODUCE_FAILED',
    retriable: false,
    message: `producing to ${batch.topic}-${batch.partition} failed: ${error instanceof Error ? error.message : String(error)}`,
    topic: batch.topic,
    partition: batch.partition,
    cause: error,
  });
}
