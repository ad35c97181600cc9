// The record accumulator: routes each record to a partition and appends it to that partition's open batch,
// encoding it in place. A batch closes when the next record does not fit (batchSize), when the sender takes it
// (after lingerMs, or on flush), or when it expires. Each batch buffer is reserved in the MemoryPool first; when
// the pool is full, append() stops and tells the caller how many bytes to wait for.
//
// A partition whose earlier batches are in flight (or waiting to be retried) cannot send its open batch anyway,
// so that batch keeps growing past batchSize, up to maxBatchBytes (maxRequestSize), while memory is free: a
// backlogged partition sends one large batch per round trip instead of queueing many small ones behind a single
// in-flight request. This is what keeps per-partition ordering (one request in flight) fast.
//
// Completion is tracked without an object per record: a one-record send (how most applications call send())
// leaves only its promise's resolve and reject functions and the record's timestamp in its batch; a send of several
// records is one PendingSend, and each batch keeps runs (send, first message index, count) of the records it holds.
import { ErrorCode } from '../../protocol/errors.js';
import {
  dataLength,
  headersSize,
  RecordBatchEncoder,
  type RecordData,
  type RecordHeaders,
  soloBatchSize,
} from '../../protocol/records/encode.js';
import { RecordError } from '../errors.js';
import type { MemoryPool } from './memory-pool.js';
import { checkPartition, nextStickyPartition, partitionForKeyData } from './partitioners.js';
import type { Partitioner, ProducerMessage, RecordMetadata } from './types.js';

export type ResolveSend = (results: RecordMetadata[]) => void;
export type RejectSend = (error: Error) => void;

/**
 * The results of one send() of several records: settles once every record has completed, or at the first failure.
 * Runs complete batch by batch; their RecordMetadata objects are made only when the last one is in, so that a
 * send whose records span several round trips holds a few numbers meanwhile, not an object per record.
 */
export class PendingSend {
  readonly topic: string;
  readonly messages: readonly ProducerMessage[];
  /** Timestamp of records that carry none: the time of the send() call. */
  readonly timestampMs: number;
  /** RUN_FIELDS numbers per completed run: first message index, count, partition, base offset, log append time. */
  private readonly runs: number[] = [];
  private remaining: number;
  private settled = false;
  private readonly resolve: ResolveSend;
  private readonly reject: RejectSend;

  constructor(
    topic: string,
    messages: readonly ProducerMessage[],
    timestampMs: number,
    resolve: ResolveSend,
    reject: RejectSend,
  ) {
    this.topic = topic;
    this.messages = messages;
    this.timestampMs = timestampMs;
    this.remaining = messages.length;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Records `count` messages from `start` as written at consecutive offsets from `baseOffset` (-1: unknown). */
  complete(
    start: number,
    count: number,
    partition: number,
    baseOffset: number,
    logAppendTimeMs: number,
  ): void {
    if (this.settled) return;
    this.runs.push(start, count, partition, baseOffset, logAppendTimeMs);
    this.remaining -= count;
    if (this.remaining > 0) return;
    this.settled = true;
    const results = new Array<RecordMetadata>(this.messages.length);
    const runs = this.runs;
    for (let run = 0; run < runs.length; run += RUN_FIELDS) {
      const first = runs[run]!;
      const end = first + runs[run + 1]!;
      const runPartition = runs[run + 2]!;
      const runBaseOffset = runs[run + 3]!;
      const runLogAppendTimeMs = runs[run + 4]!;
      for (let index = first; index < end; index++) {
        results[index] = {
          topic: this.topic,
          partition: runPartition,
          offset: runBaseOffset >= 0 ? runBaseOffset + index - first : -1,
          timestamp:
            runLogAppendTimeMs >= 0
              ? runLogAppendTimeMs
              : (this.messages[index]!.timestamp ?? this.timestampMs),
        };
      }
    }
    this.resolve(results);
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}

const RUN_FIELDS = 5;

/** The count slot of a one-record send's completion entry (runs hold counts of at least 1). */
const SINGLE = -1;

/**
 * Who waits for a batch's records, in offset order, in flat arrays reused from batch to batch. Entry i has two
 * slots in each array: a one-record send is (resolve, reject) and (timestamp, SINGLE); a run of a PendingSend's
 * records is (send, null) and (first message index, count).
 */
class Completions {
  readonly callbacks: (ResolveSend | RejectSend | PendingSend | null | undefined)[] = [];
  readonly numbers: number[] = [];
  entries = 0;
}

/** Completions lists kept for reuse; lists that grew large are left to the garbage collector. */
class CompletionsPool {
  private readonly free: Completions[] = [];

  take(): Completions {
    return this.free.pop() ?? new Completions();
  }

  give(completions: Completions): void {
    const slots = completions.entries * 2;
    const callbacks = completions.callbacks;
    // Nothing may keep a settled send's promise alive.
    for (let slot = 0; slot < slots; slot++) callbacks[slot] = undefined;
    if (completions.entries > MAX_REUSED_COMPLETIONS || this.free.length >= MAX_FREE_COMPLETIONS) return;
    completions.entries = 0;
    this.free.push(completions);
  }
}

/** Bounds on the Completions lists kept for reuse: their number, and the entries of one. */
const MAX_FREE_COMPLETIONS = 256;
const MAX_REUSED_COMPLETIONS = 4096;

interface FlushWaiter {
  remaining: number;
  resolve: () => void;
}

export class ProducerBatch {
  readonly queue: PartitionQueue;
  /** Encodes the records into the batch's chunks (from the MemoryPool) as they are appended. */
  readonly builder: RecordBatchEncoder;
  /** Bytes held in the MemoryPool until the batch completes: its chunks' size (it grows with them). */
  reservedBytes: number;
  readonly createdMs: number;
  /** No more appends: ready to send. */
  closed = false;
  inFlight = false;
  done = false;
  /** Produce attempts so far. */
  attempts = 0;
  /** Not to be sent again before this time (retry backoff). */
  retryAtMs = 0;
  /** The encoded batch (views of the chunks, or the compressed copy), kept so that a retry resends the same bytes. */
  sealed: Buffer[] | null = null;
  /**
   * A request carrying the chunks ended without a response (timeout, lost connection): a socket may still hold
   * them, so they are left to the garbage collector instead of being reused.
   */
  writeMayBePending = false;
  private readonly completionsPool: CompletionsPool;
  private readonly completions: Completions;
  private flushWaiters: FlushWaiter[] | null = null;

  /** `chunks` are reserved in the pool already; the batch may hold limitBytes. */
  constructor(
    queue: PartitionQueue,
    chunks: Buffer[],
    reservedBytes: number,
    limitBytes: number,
    createdMs: number,
    completionsPool: CompletionsPool,
  ) {
    this.queue = queue;
    this.builder = new RecordBatchEncoder(chunks, limitBytes);
    this.reservedBytes = reservedBytes;
    this.createdMs = createdMs;
    this.completionsPool = completionsPool;
    this.completions = completionsPool.take();
  }

  get topic(): string {
    return this.queue.topic.name;
  }

  get partition(): number {
    return this.queue.partition;
  }

  /** Notes that the record just appended is a one-record send's. */
  addSingle(resolve: ResolveSend, reject: RejectSend, timestampMs: number): void {
    const completions = this.completions;
    const slot = completions.entries * 2;
    completions.callbacks[slot] = resolve;
    completions.callbacks[slot + 1] = reject;
    completions.numbers[slot] = timestampMs;
    completions.numbers[slot + 1] = SINGLE;
    completions.entries++;
  }

  /** Notes that the record just appended is message `index` of `send`. */
  addRecord(send: PendingSend, index: number): void {
    const completions = this.completions;
    const numbers = completions.numbers;
    const last = (completions.entries - 1) * 2;
    if (last >= 0 && completions.callbacks[last] === send && numbers[last]! + numbers[last + 1]! === index) {
      numbers[last + 1]!++;
      return;
    }
    const slot = last + 2;
    completions.callbacks[slot] = send;
    completions.callbacks[slot + 1] = null;
    numbers[slot] = index;
    numbers[slot + 1] = 1;
    completions.entries++;
  }

  /** Resolves the records' sends; baseOffset -1 when the broker gave none (acks=0). */
  complete(baseOffset: number, logAppendTimeMs: number): void {
    if (this.done) return;
    const { callbacks, numbers, entries } = this.completions;
    const topic = this.queue.topic.name;
    const partition = this.queue.partition;
    // Without offsets (acks=0) every record's is -1: the step between records is 0.
    const step = baseOffset >= 0 ? 1 : 0;
    const logAppendTime = logAppendTimeMs >= 0;
    let offset = baseOffset;
    const slots = entries * 2;
    for (let slot = 0; slot < slots; slot += 2) {
      const count = numbers[slot + 1]!;
      if (count === SINGLE) {
        (callbacks[slot] as ResolveSend)([
          { topic, partition, offset, timestamp: logAppendTime ? logAppendTimeMs : numbers[slot]! },
        ]);
        offset += step;
      } else {
        (callbacks[slot] as PendingSend).complete(numbers[slot]!, count, partition, offset, logAppendTimeMs);
        offset += step * count;
      }
    }
    this.finish();
  }

  fail(error: Error): void {
    if (this.done) return;
    const { callbacks, numbers, entries } = this.completions;
    const slots = entries * 2;
    for (let slot = 0; slot < slots; slot += 2) {
      if (numbers[slot + 1] === SINGLE) (callbacks[slot + 1] as RejectSend)(error);
      else (callbacks[slot] as PendingSend).fail(error);
    }
    this.finish();
  }

  addFlushWaiter(waiter: FlushWaiter): void {
    if (this.flushWaiters === null) this.flushWaiters = [waiter];
    else this.flushWaiters.push(waiter);
  }

  private finish(): void {
    this.done = true;
    this.completionsPool.give(this.completions);
    if (this.flushWaiters === null) return;
    for (const waiter of this.flushWaiters) if (--waiter.remaining === 0) waiter.resolve();
    this.flushWaiters = null;
  }
}

/** One partition's batches in append order; the head may be in flight. */
export class PartitionQueue {
  readonly topic: TopicState;
  readonly partition: number;
  /** The batch taking appends, if any (always the last one). */
  open: ProducerBatch | null = null;
  /** Batches of this partition in flight. */
  inFlight = 0;
  /** Idempotent producing: the sequence of the next batch sealed, valid while `sequenceGeneration` is current. */
  nextSequence = 0;
  sequenceGeneration = -1;
  private batches: ProducerBatch[] = [];
  private head = 0;

  constructor(topic: TopicState, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get size(): number {
    return this.batches.length - this.head;
  }

  get first(): ProducerBatch | undefined {
    return this.batches[this.head];
  }

  /** The index-th batch from the head (index < size). */
  at(index: number): ProducerBatch {
    return this.batches[this.head + index]!;
  }

  push(batch: ProducerBatch): void {
    this.batches.push(batch);
  }

  remove(batch: ProducerBatch): void {
    if (this.batches[this.head] === batch) {
      this.batches[this.head++] = undefined as unknown as ProducerBatch;
      if (this.head === this.batches.length) {
        this.batches = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= this.batches.length) {
        this.batches = this.batches.slice(this.head);
        this.head = 0;
      }
      return;
    }
    const index = this.batches.indexOf(batch, this.head);
    if (index >= 0) this.batches.splice(index, 1);
  }

  *[Symbol.iterator](): IterableIterator<ProducerBatch> {
    for (let index = this.head; index < this.batches.length; index++) yield this.batches[index]!;
  }
}

/** A topic's partition layout as the producer last saw it in metadata. */
export interface TopicLayout {
  partitionCount: number;
  /** Leader node id per partition, -1 when the partition has none. */
  leaders: readonly number[];
}

export class TopicState {
  readonly name: string;
  layout: TopicLayout;
  /** Partitions with a leader, ascending. */
  availablePartitions: number[] = [];
  /** Current sticky partition for keyless records, -1 for none yet. */
  stickyPartition = -1;
  private previousSticky = -1;
  private readonly queues: (PartitionQueue | undefined)[] = [];

  constructor(name: string, layout: TopicLayout) {
    this.name = name;
    this.layout = layout;
    this.setLayout(layout);
  }

  setLayout(layout: TopicLayout): void {
    this.layout = layout;
    const available: number[] = [];
    for (let partition = 0; partition < layout.partitionCount; partition++) {
      if ((layout.leaders[partition] ?? -1) >= 0) available.push(partition);
    }
    this.availablePartitions = available;
    if (this.stickyPartition >= layout.partitionCount) this.stickyPartition = -1;
  }

  queue(partition: number): PartitionQueue {
    let queue = this.queues[partition];
    if (queue === undefined) {
      queue = new PartitionQueue(this, partition);
      this.queues[partition] = queue;
    }
    return queue;
  }

  sticky(): number {
    if (this.stickyPartition < 0) {
      this.stickyPartition = nextStickyPartition(
        this.availablePartitions,
        this.layout.partitionCount,
        this.previousSticky,
      );
    }
    return this.stickyPartition;
  }

  /** A batch of `partition` closed or filled up: keyless records move on if it was the sticky partition. */
  moveSticky(partition: number): void {
    if (partition !== this.stickyPartition) return;
    this.previousSticky = partition;
    this.stickyPartition = -1;
  }
}

export interface AccumulatorOptions {
  batchSize: number;
  /** Largest batch: a single record may not need more, and growing batches stop here (maxRequestSize). */
  maxBatchBytes: number;
  /** Batches ahead of the open one at which its partition counts as blocked (maxInFlightPerPartition). */
  maxInFlightPerPartition: number;
  partitioner: Partitioner | undefined;
}

export class Accumulator {
  readonly topics = new Map<string, TopicState>();
  /** Partitions holding at least one batch: what the sender scans. */
  readonly activeQueues = new Set<PartitionQueue>();
  /** After append() stops early: the bytes the next batch needs. */
  neededBytes = 0;
  private readonly pool: MemoryPool;
  private readonly options: AccumulatorOptions;
  private readonly completionsPool = new CompletionsPool();
  /** During append(): what is left of the caller's reservation. */
  private creditBytes = 0;

  constructor(pool: MemoryPool, options: AccumulatorOptions) {
    this.pool = pool;
    this.options = options;
  }

  /** The sender's limit changed (an idempotent producer fell back to one batch in flight). */
  setMaxInFlightPerPartition(maxInFlight: number): void {
    this.options.maxInFlightPerPartition = maxInFlight;
  }

  /**
   * Appends a one-record send's record and returns true, or returns false when it needs a new batch of
   * `neededBytes` the pool cannot give now. Throws for a record that can never be sent.
   */
  appendSingle(
    message: ProducerMessage,
    topic: TopicState,
    resolve: ResolveSend,
    reject: RejectSend,
    nowMs: number,
  ): boolean {
    const timestampMs = message.timestamp ?? nowMs;
    const batch = this.appendRecord(message, topic, timestampMs, 0, nowMs);
    if (batch === null) return false;
    batch.addSingle(resolve, reject, timestampMs);
    return true;
  }

  /**
   * Appends messages from `start` on and returns the index of the first one not appended: messages.length when
   * all are in, otherwise that message needs a new batch of `neededBytes` the pool cannot give now. `creditBytes`
   * is a reservation the caller already waited for; it is used for the first new batch or released.
   * Throws for a record that can never be sent (too large, invalid partition); earlier ones stay appended.
   */
  append(send: PendingSend, topic: TopicState, start: number, creditBytes: number, nowMs: number): number {
    const messages = send.messages;
    this.creditBytes = creditBytes;
    try {
      for (let index = start; index < messages.length; index++) {
        const message = messages[index]!;
        const batch = this.appendRecord(message, topic, message.timestamp ?? send.timestampMs, index, nowMs);
        if (batch === null) return index;
        batch.addRecord(send, index);
      }
      return messages.length;
    } finally {
      if (this.creditBytes > 0) this.pool.release(this.creditBytes);
      this.creditBytes = 0;
    }
  }

  /**
   * Routes one record to its partition and appends it, to the open batch or a new one; returns the batch, or null
   * when the new batch's memory is not free (neededBytes). `index` names the record in errors.
   */
  private appendRecord(
    message: ProducerMessage,
    topic: TopicState,
    timestampMs: number,
    index: number,
    nowMs: number,
  ): ProducerBatch | null {
    const key: RecordData = message.key ?? null;
    const value: RecordData = message.value ?? null;
    const headers = message.headers;
    const keyLength = dataLength(key);
    const valueLength = dataLength(value);
    const headerBytes = headers === undefined ? 1 : headersSize(headers);
    const partitionCount = topic.layout.partitionCount;

    let sticky = false;
    let partition: number;
    if (message.partition !== undefined && message.partition !== null) {
      partition = checkPartition(topic.name, message.partition, partitionCount);
    } else if (this.options.partitioner !== undefined) {
      const chosen = this.options.partitioner({
        topic: topic.name,
        key,
        value,
        headers,
        partitionCount,
        availablePartitions: topic.availablePartitions,
      });
      partition = checkPartition(topic.name, chosen, partitionCount);
    } else if (key !== null) {
      partition = partitionForKeyData(key, keyLength, partitionCount);
    } else {
      partition = topic.sticky();
      sticky = true;
    }

    let queue = topic.queue(partition);
    const open = queue.open;
    if (open !== null) {
      if (open.builder.tryAppend(key, keyLength, value, valueLength, headers, headerBytes, timestampMs)) {
        return open;
      }
      if (sticky) {
        // KIP-480: the sticky partition's batch is full, so keyless records move to the next partition.
        topic.moveSticky(partition);
        queue = topic.queue(topic.sticky());
      }
      const target = queue.open;
      if (
        target !== null &&
        this.appendGrowing(target, key, keyLength, value, valueLength, headers, headerBytes, timestampMs)
      ) {
        return target;
      }
      this.closeBatch(queue);
      // The new batch below belongs to the record's partition: keyless records stick to it.
      if (sticky) topic.stickyPartition = queue.partition;
    }

    const soloBytes = soloBatchSize(keyLength, valueLength, headerBytes);
    const limitBytes = Math.max(this.options.batchSize, soloBytes);
    const chunks = this.pool.chunksFor(limitBytes);
    const bytes = this.pool.bytesOf(chunks);
    if (soloBytes > this.options.maxBatchBytes || bytes > this.pool.totalBytes) {
      throw new RecordError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `record ${index} needs ${soloBytes} bytes, more than maxRequestSize (${this.options.maxBatchBytes}) or bufferMemory (${this.pool.totalBytes})`,
        { topic: topic.name, partition },
      );
    }
    if (this.creditBytes === bytes) {
      this.creditBytes = 0;
    } else {
      if (this.creditBytes > 0) {
        this.pool.release(this.creditBytes);
        this.creditBytes = 0;
      }
      if (!this.pool.tryReserve(bytes)) {
        this.neededBytes = bytes;
        return null;
      }
    }
    const taken: Buffer[] = [];
    for (let chunk = 0; chunk < chunks; chunk++) taken.push(this.pool.takeChunk());
    const batch = new ProducerBatch(queue, taken, bytes, limitBytes, nowMs, this.completionsPool);
    queue.push(batch);
    queue.open = batch;
    this.activeQueues.add(queue);
    if (!batch.builder.tryAppend(key, keyLength, value, valueLength, headers, headerBytes, timestampMs)) {
      throw new Error(`record ${index} does not fit a batch sized for it (${limitBytes} bytes)`);
    }
    return batch;
  }

  /**
   * Appends to `batch`, growing its buffer if the record does not fit and the partition is blocked (see the top
   * of this file). False when the record needs a new batch.
   */
  private appendGrowing(
    batch: ProducerBatch,
    key: RecordData,
    keyLength: number,
    value: RecordData,
    valueLength: number,
    headers: RecordHeaders | undefined,
    headerBytes: number,
    timestampMs: number,
  ): boolean {
    const builder = batch.builder;
    if (builder.tryAppend(key, keyLength, value, valueLength, headers, headerBytes, timestampMs)) return true;
    const queue = batch.queue;
    if (queue.size - 1 < this.options.maxInFlightPerPartition) return false;
    const neededBytes = builder.sizeWith(keyLength, valueLength, headerBytes, timestampMs);
    const maxBytes = this.options.maxBatchBytes;
    if (neededBytes > maxBytes) return false;
    // Chunks are added, never copied: growing costs only the memory.
    const extraChunks =
      neededBytes > builder.capacityBytes ? this.pool.chunksFor(neededBytes - builder.capacityBytes) : 0;
    if (extraChunks > 0) {
      const extraBytes = this.pool.bytesOf(extraChunks);
      if (!this.pool.tryReserve(extraBytes)) return false;
      batch.reservedBytes += extraBytes;
      for (let chunk = 0; chunk < extraChunks; chunk++) builder.addChunk(this.pool.takeChunk());
    }
    builder.raiseLimit(maxBytes);
    return builder.tryAppend(key, keyLength, value, valueLength, headers, headerBytes, timestampMs);
  }

  /** Stops appends to the queue's open batch, making it ready to send. */
  closeBatch(queue: PartitionQueue): void {
    const open = queue.open;
    if (open === null) return;
    open.closed = true;
    queue.open = null;
    queue.topic.moveSticky(queue.partition);
  }

  /** Every batch not yet completed. */
  *pendingBatches(): IterableIterator<ProducerBatch> {
    for (const queue of this.activeQueues) yield* queue;
  }
}
