// The sender: takes ready batches from the accumulator, groups them per leader broker (one batch per partition
// per Produce request) and completes, retries or fails them from the responses.
//
// Ordering: a partition has at most maxInFlightPerPartition batches in flight (1 by default), and a batch that
// failed with a retriable error stays at the head of its partition's queue until it is resent, so with the
// default nothing can overtake it. Retries back off exponentially; a stale-metadata or connection error also
// pauses the topic's batches until fresh metadata arrives. Every batch is bounded by deliveryTimeoutMs from its
// creation, and by `retries`.
import type { ProduceRequest, ProduceResponse } from '../../protocol/generated/produce.js';
import type { RecordsPayload } from '../../protocol/primitives/writer.js';
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

/** What the sender needs from the cluster; the Producer implements it over Cluster, tests fake it. */
export interface ProduceTarget {
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
  maxInFlightPerPartition: number;
  maxRequestSize: number;
}

/** Produce request overhead besides the batches, bounded generously (topic names are counted separately). */
const REQUEST_OVERHEAD_BYTES = 128;
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

  constructor(accumulator: Accumulator, pool: MemoryPool, target: ProduceTarget, options: SenderOptions) {
    this.accumulator = accumulator;
    this.pool = pool;
    this.target = target;
    this.options = options;
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

    for (const queue of this.accumulator.activeQueues) {
      this.expire(queue, nowMs);
      if (queue.size === 0) {
        this.accumulator.activeQueues.delete(queue);
        continue;
      }
      const first = queue.first!;
      if (!first.inFlight)
        nextWakeMs = Math.min(nextWakeMs, first.createdMs + this.options.deliveryTimeoutMs);
      let inFlight = queue.inFlight;
      if (inFlight >= this.options.maxInFlightPerPartition) continue;
      let leader = -2;
      let round = 0;
      for (let index = 0; index < queue.size && inFlight < this.options.maxInFlightPerPartition; index++) {
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
      batch.attempts++;
      if (batch.sealed !== null) continue;
      if (this.options.codec === CodecId.none) {
        batch.sealed = batch.builder.sealUncompressed();
      } else {
        sealing ??= [];
        sealing.push(
          batch.builder.seal(this.options.codec).then((sealed) => {
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
      transactionalId: null,
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
        if (partitionResponse.errorCode === 0) {
          this.complete(
            batch,
            Number(partitionResponse.baseOffset),
            Number(partitionResponse.logAppendTimeMs),
          );
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
    batch.queue.remove(batch);
    this.releaseMemory(batch, !batch.writeMayBePending);
    batch.fail(error);
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
