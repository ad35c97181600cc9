// The producer without its network: send() routes and appends records (waiting for buffer memory up to
// maxBlockMs), the sender delivers them through a ProduceTarget. Producer wires it to a Cluster; unit tests
// give it a fake target.
import type { CodecIdValue } from '../../protocol/records/index.js';
import { ClientClosedError, type KafkaClientError } from '../errors.js';
import { Accumulator, PendingSend, type RejectSend, type ResolveSend, TopicState } from './accumulator.js';
import { MemoryPool } from './memory-pool.js';
import {
  type Idempotence,
  type ProducerIdentity,
  type ProduceTarget,
  Sender,
  type TransactionGate,
} from './sender.js';
import type { Partitioner, ProducerMessage, RecordMetadata } from './types.js';

/**
 * Smallest chunk of batch memory: a batch's first chunk holds its 61-byte header, and tiny batchSizes (Java's
 * batch.size=0 or 1, "no batching") should not cut records into slivers. Chunks are batchSize otherwise.
 */
const MIN_CHUNK_BYTES = 1024;

let capturedResolve: ResolveSend | null = null;
let capturedReject: RejectSend | null = null;
/** The executor of every send()'s promise: hands its resolving functions over without a closure per promise. */
function capture(resolve: ResolveSend, reject: RejectSend): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

export interface EngineConfig {
  acks: number;
  ackTimeoutMs: number;
  lingerMs: number;
  batchSize: number;
  codec: CodecIdValue;
  bufferMemory: number;
  maxBlockMs: number;
  maxRequestSize: number;
  partitioner: Partitioner | undefined;
  retries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  deliveryTimeoutMs: number;
  maxInFlightPerPartition: number;
  maxInFlightWithoutIdempotence: number;
  idempotence: Idempotence;
  transactionalId: string | null;
}

export class ProducerEngine {
  readonly pool: MemoryPool;
  private readonly accumulator: Accumulator;
  private readonly sender: Sender;
  private readonly target: ProduceTarget;
  private readonly config: EngineConfig;
  /** send() calls still appending (waiting for memory or metadata): close() lets them finish first. */
  private readonly appending = new Set<Promise<void>>();
  /** The topic of the last send: consecutive sends to one topic skip the map lookup. */
  private lastTopic: TopicState | null = null;
  private closed = false;
  /** A transactional producer's reason to refuse send() now (no transaction begun, or a failed one), else null. */
  private sendGuard: (() => KafkaClientError | null) | null = null;

  constructor(config: EngineConfig, target: ProduceTarget) {
    this.config = config;
    this.target = target;
    this.pool = new MemoryPool(
      config.bufferMemory,
      Math.min(config.bufferMemory, Math.max(config.batchSize, MIN_CHUNK_BYTES)),
    );
    this.accumulator = new Accumulator(this.pool, {
      batchSize: config.batchSize,
      maxBatchBytes: config.maxRequestSize,
      maxInFlightPerPartition: config.maxInFlightPerPartition,
      partitioner: config.partitioner,
    });
    this.sender = new Sender(this.accumulator, this.pool, target, {
      acks: config.acks,
      ackTimeoutMs: config.ackTimeoutMs,
      lingerMs: config.lingerMs,
      batchSize: config.batchSize,
      codec: config.codec,
      retries: config.retries,
      initialBackoffMs: config.initialBackoffMs,
      maxBackoffMs: config.maxBackoffMs,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
      maxInFlightPerPartition: config.maxInFlightPerPartition,
      maxInFlightWithoutIdempotence: config.maxInFlightWithoutIdempotence,
      maxRequestSize: config.maxRequestSize,
      idempotence: config.idempotence,
      transactionalId: config.transactionalId,
    });
  }

  /** Makes this a transactional producer's engine (see transactions.ts). */
  enableTransactions(gate: TransactionGate, sendGuard: () => KafkaClientError | null): void {
    this.sender.setTransactional(gate);
    this.sendGuard = sendGuard;
  }

  useIdentity(identity: ProducerIdentity): void {
    this.sender.useIdentity(identity);
  }

  /** A sequenced batch failed: the producer needs a new epoch before it sends again. */
  get needsNewIdentity(): boolean {
    return this.sender.needsNewIdentity;
  }

  /** Lets the sender look at the queues again (a gated partition was admitted). */
  wake(): void {
    this.sender.wake();
  }

  /** Fails every batch not yet sent with `error`; the in-flight ones are left to complete. */
  failUnsent(error: KafkaClientError): void {
    this.sender.failQueued(error);
  }

  /**
   * Fails every record not yet sent, including sends still appending, with `error`, and waits until the
   * batches in flight have completed.
   */
  async abortUnsent(error: KafkaClientError): Promise<void> {
    await Promise.all([...this.appending]);
    this.sender.failQueued(error);
    await this.sender.flush();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves with one RecordMetadata per message, in order, once all of them are written. */
  send(topic: string, messages: readonly ProducerMessage[]): Promise<RecordMetadata[]> {
    if (this.closed) return Promise.reject(new ClientClosedError('the producer is closed'));
    if (this.sendGuard !== null) {
      const refused = this.sendGuard();
      if (refused !== null) return Promise.reject(refused);
    }
    const count = messages.length;
    if (count === 0) return Promise.resolve([]);
    const nowMs = Date.now();
    const promise = new Promise<RecordMetadata[]>(capture);
    const resolve = capturedResolve!;
    const reject = capturedReject!;
    const state = this.knownTopic(topic);
    if (state === undefined) {
      const pending = new PendingSend(topic, messages, nowMs, resolve, reject);
      this.appendTracked(pending, undefined, 0, nowMs + this.config.maxBlockMs);
      return promise;
    }
    if (count === 1) {
      // The common case, kept to the resolving functions: no PendingSend unless memory must be waited for.
      try {
        if (this.accumulator.appendSingle(messages[0]!, state, resolve, reject, nowMs)) {
          this.sender.wake();
          return promise;
        }
      } catch (error) {
        reject(error as Error);
        return promise;
      }
      const pending = new PendingSend(topic, messages, nowMs, resolve, reject);
      this.appendTracked(pending, state, 0, nowMs + this.config.maxBlockMs);
      return promise;
    }
    const pending = new PendingSend(topic, messages, nowMs, resolve, reject);
    let next: number;
    try {
      next = this.accumulator.append(pending, state, 0, 0, nowMs);
    } catch (error) {
      pending.fail(error as Error);
      return promise;
    }
    this.sender.wake();
    if (next < count) this.appendTracked(pending, state, next, nowMs + this.config.maxBlockMs);
    return promise;
  }

  /** Sends everything queued, including sends still appending, and waits until it has all completed. */
  flush(): Promise<void> {
    return this.sender.flush(Promise.all([...this.appending]));
  }

  /** Refuses new sends, lets sends in progress finish appending, delivers everything, then stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    this.sender.close();
    this.pool.rejectWaiters(new ClientClosedError('the producer is closed'));
  }

  /** Runs the slow append path, visible to close() until every record is appended (not delivered). */
  private appendTracked(
    pending: PendingSend,
    known: TopicState | undefined,
    start: number,
    deadlineMs: number,
  ): void {
    const appended = this.appendRest(pending, known, start, deadlineMs);
    this.appending.add(appended);
    void appended.then(() => this.appending.delete(appended));
  }

  /** The slow path: metadata to load first, or memory to wait for. Never rejects: failures go to `pending`. */
  private async appendRest(
    pending: PendingSend,
    known: TopicState | undefined,
    start: number,
    deadlineMs: number,
  ): Promise<void> {
    try {
      const state = known ?? (await this.loadTopic(pending.topic, deadlineMs));
      let next = start;
      if (next === 0 && known === undefined) {
        next = this.accumulator.append(pending, state, 0, 0, Date.now());
        this.sender.wake();
      }
      while (next < pending.messages.length) {
        const credit = this.accumulator.neededBytes;
        await this.pool.reserve(credit, deadlineMs);
        next = this.accumulator.append(pending, state, next, credit, Date.now());
        this.sender.wake();
      }
    } catch (error) {
      pending.fail(error as Error);
    }
  }

  private knownTopic(topic: string): TopicState | undefined {
    const layout = this.target.topicLayout(topic);
    if (layout === undefined) return undefined;
    let state = this.lastTopic;
    if (state === null || state.name !== topic) {
      let found = this.accumulator.topics.get(topic);
      if (found === undefined) {
        found = new TopicState(topic, layout);
        this.accumulator.topics.set(topic, found);
      }
      this.lastTopic = found;
      state = found;
    }
    if (state.layout !== layout) state.setLayout(layout);
    return state;
  }

  private async loadTopic(topic: string, deadlineMs: number): Promise<TopicState> {
    await this.target.loadTopic(topic, deadlineMs);
    const state = this.knownTopic(topic);
    if (state === undefined) throw new Error(`metadata for topic ${topic} vanished after loading`);
    return state;
  }
}
