// The public Consumer: subscribe (topics or regexes, through a consumer group) or assign partitions by hand,
// then read with `for await (const message of consumer)` or `consumer.run({ eachMessage | eachBatch })`.
//
// Positions: a message counts as consumed once it is handed to the application (the iterator), or once its
// handler resolves (run). Commits store the next offset to read, as Kafka does. Auto commit runs every
// autoCommitIntervalMs, before partitions are revoked and at close.
import { ErrorCode } from '../../protocol/errors.js';
import { OffsetCommitApi } from '../../protocol/generated/offset-commit.js';
import { OffsetFetchApi } from '../../protocol/generated/offset-fetch.js';
import { type ClientOptions, Cluster } from '../cluster.js';
import { type ClientLogger, silentLogger } from '../connection.js';
import {
  CLIENT_ERROR_CODE,
  ClientClosedError,
  ConfigError,
  errorFromCode,
  KafkaClientError,
  RebalanceError,
} from '../errors.js';
import { groupBy } from '../group-by.js';
import { type IsolationLevel, type OffsetSpec, partitionKey } from '../list-offsets.js';
import type { ConsumerGroupMetadata } from '../producer/transactions.js';
import { type AssignorName, builtInAssignors, type PartitionAssignor } from './assignors.js';
import { FetchBuffer, type FetchedChunk } from './fetch-buffer.js';
import { Fetcher, type OffsetResetPolicy, type PartitionState, type TopicPartition } from './fetcher.js';
import { GroupMembership, type RevokeInfo } from './membership.js';
import type { ConsumerMessage } from './message.js';

const OFFSET_COMMIT_MAX_VERSION = 8;
/** v8+ batches groups; v7 is the last with the plain single-group layout. */
const OFFSET_FETCH_MAX_VERSION = 7;
/** Bytes of decompressed records one batch may expand to. */
const MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

export interface ConsumerOptions extends ClientOptions {
  /** Consumer group; without it, partitions are assigned by hand and nothing is committed. */
  groupId?: string;
  /** Static membership (KIP-345): a restart within the session timeout keeps the assignment. */
  groupInstanceId?: string;
  /** Subscribe at connect(); same as calling subscribe(). */
  topics?: ReadonlyArray<string | RegExp>;
  /**
   * Assignors in order of preference. Default ['cooperative-sticky', 'range', 'roundrobin',
   * 'RoundRobinAssigner'] (the last is kafkajs's name, so mixed groups with kafkajs agree on one). The member
   * rebalances cooperatively (KIP-429) only when every listed assignor is cooperative, e.g.
   * ['cooperative-sticky'].
   */
  assignors?: ReadonlyArray<AssignorName | PartitionAssignor>;
  /** Default 45000. */
  sessionTimeoutMs?: number;
  /** Default 3000. */
  heartbeatIntervalMs?: number;
  /** How long the coordinator waits for members to rejoin. Default 60000. */
  rebalanceTimeoutMs?: number;
  /** Default true. */
  autoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** Where to start without a committed offset: true = earliest, false (default) = latest. */
  fromBeginning?: boolean;
  /** auto.offset.reset; overrides fromBeginning. 'none' reports OffsetOutOfRangeError instead. */
  autoOffsetReset?: OffsetResetPolicy;
  /** fetch.min.bytes. Default 1. */
  fetchMinBytes?: number;
  /** fetch.max.wait.ms. Default 500. */
  fetchMaxWaitMs?: number;
  /** fetch.max.bytes: bound of one Fetch response. Default 52428800. */
  maxBytes?: number;
  /** max.partition.fetch.bytes. Default 1048576. */
  maxPartitionBytes?: number;
  /** Fetching pauses while this many fetched bytes wait for the application. Default 67108864. */
  maxBufferedBytes?: number;
  /** Default 'read_uncommitted' (Java's default). */
  isolationLevel?: IsolationLevel;
  /** Verify each batch's CRC-32C. Default true. */
  checkCrcs?: boolean;
  /** Called (and awaited) after partitions are assigned, before their positions are looked up: seek here. */
  onAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  /**
   * Called (and awaited) before revoked partitions are committed and the member rejoins. `info.lost` is true
   * when the member fell out of the group, so that the partitions may already be consumed elsewhere.
   */
  onRevoked?: (partitions: TopicPartition[], info: RevokeInfo) => void | Promise<void>;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

export interface AssignedPartition extends TopicPartition {
  /** Start here; default: the committed offset (with a group), else the reset policy. */
  offset?: number;
}

export interface ConsumerBatch {
  topic: string;
  partition: number;
  messages: ConsumerMessage[];
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: number;
}

export interface RunOptions {
  eachMessage?: (message: ConsumerMessage) => void | Promise<void>;
  eachBatch?: (batch: ConsumerBatch) => void | Promise<void>;
}

/** The consumer was used in a way its state does not allow (iterating twice, seeking an unassigned partition). */
export class ConsumerStateError extends KafkaClientError {
  override name = 'ConsumerStateError';
  constructor(message: string, context: { topic?: string; partition?: number } = {}) {
    super({ ...context, code: CLIENT_ERROR_CODE, type: 'ILLEGAL_STATE', retriable: false, message });
  }
}

const DEFAULT_ASSIGNORS: readonly AssignorName[] = [
  'cooperative-sticky',
  'range',
  'roundrobin',
  'RoundRobinAssigner',
];
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class Consumer implements AsyncIterable<ConsumerMessage> {
  private readonly cluster: Cluster;
  private readonly logger: ClientLogger;
  private readonly buffer: FetchBuffer;
  private readonly fetcher: Fetcher;
  private readonly groupId: string | null;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly resetPolicy: OffsetResetPolicy;
  private readonly assignors: PartitionAssignor[];
  private readonly metadataMaxAgeMs: number;
  private membership: GroupMembership | null = null;
  private subscription: Array<string | RegExp> | null = null;
  private manual = false;
  private connected = false;
  private closing = false;
  private reader: 'iterator' | 'run' | null = null;
  private pendingError: Error | null = null;
  private currentHandler: Promise<void> | null = null;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private subscriptionTimer: NodeJS.Timeout | null = null;
  private joinedTopics: string[] = [];
  private joinedPartitionCounts = new Map<string, number>();
  private readonly lastCommitted = new Map<string, number>();
  private commitChain: Promise<void> = Promise.resolve();

  constructor(private readonly options: ConsumerOptions) {
    this.cluster = new Cluster(options);
    this.logger = options.logger ?? silentLogger;
    this.groupId = options.groupId ?? null;
    this.autoCommit = (options.autoCommit ?? true) && this.groupId !== null;
    this.autoCommitIntervalMs = options.autoCommitIntervalMs ?? 5_000;
    this.resetPolicy = options.autoOffsetReset ?? (options.fromBeginning ? 'earliest' : 'latest');
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.assignors = (options.assignors ?? DEFAULT_ASSIGNORS).map((assignor) => {
      if (typeof assignor !== 'string') return assignor;
      const builtIn = builtInAssignors[assignor];
      if (builtIn === undefined)
        throw new ConfigError(ErrorCode.INVALID_CONFIG, `unknown assignor '${assignor}'`);
      return builtIn;
    });
    const retry = options.retry ?? {};
    this.buffer = new FetchBuffer(options.maxBufferedBytes ?? 64 * 1024 * 1024, () =>
      this.fetcher.onBufferRoom(),
    );
    this.fetcher = new Fetcher(this.cluster, this.buffer, {
      minBytes: options.fetchMinBytes ?? 1,
      maxWaitMs: options.fetchMaxWaitMs ?? 500,
      maxBytes: options.maxBytes ?? 52_428_800,
      maxPartitionBytes: options.maxPartitionBytes ?? 1_048_576,
      isolationLevel: options.isolationLevel ?? 'read_uncommitted',
      verifyCrc: options.checkCrcs ?? true,
      resetPolicy: this.resetPolicy,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      initialBackoffMs: retry.initialBackoffMs ?? 100,
      maxBackoffMs: retry.maxBackoffMs ?? 1_000,
      maxDecompressedBytes: MAX_DECOMPRESSED_BYTES,
      logger: this.logger,
      onError: (error) => this.fail(error),
    });
    if (options.topics !== undefined) this.subscription = [...options.topics];
  }

  async connect(): Promise<void> {
    if (this.closing) throw new ClientClosedError('the consumer is closed');
    if (this.connected) return;
    await this.cluster.connect();
    this.connected = true;
    if (this.autoCommit) {
      this.autoCommitTimer = setInterval(() => this.autoCommitNow(), this.autoCommitIntervalMs);
      this.autoCommitTimer.unref();
    }
    if (this.subscription !== null) this.startMembership();
    this.fetcher.schedule();
  }

  /** Joins the group for these topics (names or regexes matched against the cluster's topics). */
  subscribe(topics: ReadonlyArray<string | RegExp>): void {
    this.assertOpen();
    if (this.groupId === null) {
      throw new ConfigError(
        ErrorCode.INVALID_CONFIG,
        'subscribe() needs a groupId; use assign() without one',
      );
    }
    if (this.manual) throw new ConsumerStateError('the consumer already has a manual assignment');
    this.subscription = [...topics];
    if (!this.connected) return;
    if (this.membership === null) this.startMembership();
    else this.membership.requestRejoin('subscription changed');
  }

  /** Consumes exactly these partitions, outside any group rebalancing (commits still use groupId if set). */
  assign(partitions: readonly AssignedPartition[]): void {
    this.assertOpen();
    if (this.subscription !== null)
      throw new ConsumerStateError('the consumer is subscribed; assign() is for manual use');
    this.manual = true;
    const wanted = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    const dropped = this.fetcher.assigned.filter((p) => !wanted.has(partitionKey(p.topic, p.partition)));
    this.fetcher.remove(dropped);
    this.fetcher.add(partitions);
    const unpositioned: PartitionState[] = [];
    for (const p of partitions) {
      const state = this.fetcher.state(p.topic, p.partition)!;
      if (p.offset !== undefined) this.fetcher.seek(state, p.offset);
      else if (state.fetchOffset === null && state.pendingReset === null) unpositioned.push(state);
    }
    if (unpositioned.length > 0) void this.initPositions(unpositioned);
    this.fetcher.schedule();
  }

  /** The partitions this consumer reads now. */
  assignment(): TopicPartition[] {
    return this.fetcher.assigned;
  }

  /**
   * The group, member and generation this consumer reads as, for Producer.sendOffsetsToTransaction(): the
   * coordinator then refuses the offsets if this member has been rebalanced away meanwhile. Needs a groupId.
   */
  groupMetadata(): ConsumerGroupMetadata {
    const groupId = this.groupId;
    if (groupId === null) {
      throw new ConfigError(ErrorCode.INVALID_CONFIG, 'groupMetadata() needs a consumer with a groupId');
    }
    const membership = this.membership;
    return {
      groupId,
      generationId: membership?.generationId ?? -1,
      memberId: membership?.memberId ?? '',
      groupInstanceId: membership?.groupInstanceId ?? null,
    };
  }

  /** The next offset the application will get for the partition, or null while it is being looked up. */
  position(topic: string, partition: number): number | null {
    return this.assignedState({ topic, partition }).position;
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cannot seek to offset ${offset}`);
    this.fetcher.seek(this.assignedState({ topic, partition }), offset);
  }

  /** Default: every assigned partition. */
  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    this.resetTo(partitions, 'earliest');
  }

  seekToEnd(partitions?: readonly TopicPartition[]): void {
    this.resetTo(partitions, 'latest');
  }

  /** Moves to the first offset whose timestamp is at or after `timestamp` (ms), or to the end if none is. */
  seekToTimestamp(timestamp: number, partitions?: readonly TopicPartition[]): void {
    this.resetTo(partitions, { timestamp });
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.fetcher.pause(this.assignedState(p));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.fetcher.resume(this.assignedState(p));
  }

  paused(): TopicPartition[] {
    return [...this.fetcher.allStates()]
      .filter((s) => s.paused)
      .map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * Commits offsets (the next offset to read per partition). Default: the current position of every assigned
   * partition. Throws RebalanceError if the group moved on (the member rejoins by itself).
   */
  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.groupId === null) throw new ConfigError(ErrorCode.INVALID_CONFIG, 'commit() needs a groupId');
    const list = offsets ?? this.currentPositions();
    if (list.length === 0) return;
    await this.serializedCommit(list);
  }

  /** Committed offsets of the group for these partitions (-1 where none is). */
  async committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (this.groupId === null) throw new ConfigError(ErrorCode.INVALID_CONFIG, 'committed() needs a groupId');
    const found = await this.fetchCommitted(partitions);
    return partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      offset: found.get(partitionKey(topic, partition)) ?? -1,
    }));
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumerMessage> {
    this.claimReader('iterator');
    return {
      next: () => this.nextMessage(),
      return: () => {
        this.reader = null;
        return Promise.resolve(DONE);
      },
    };
  }

  /**
   * Hands messages to the handler until close(). Resolves when the consumer closes; rejects with the first
   * error (a handler's or a fatal consumer error). A failing handler's partition is moved back to the message
   * it failed on, so a new run() gets it again.
   */
  async run(handlers: RunOptions): Promise<void> {
    const { eachMessage, eachBatch } = handlers;
    if ((eachMessage === undefined) === (eachBatch === undefined)) {
      throw new ConfigError(ErrorCode.INVALID_CONFIG, 'run() needs exactly one of eachMessage and eachBatch');
    }
    this.claimReader('run');
    try {
      while (!this.closing) {
        this.throwPendingError();
        const chunk = this.buffer.peek();
        if (chunk === undefined) {
          await this.buffer.waitForData();
          continue;
        }
        if (chunk.epoch !== chunk.state.epoch) {
          this.buffer.shift();
          continue;
        }
        this.currentHandler = this.handleChunk(chunk, handlers);
        try {
          await this.currentHandler;
        } finally {
          this.currentHandler = null;
          if (this.buffer.peek() === chunk) this.buffer.shift();
        }
      }
    } finally {
      this.reader = null;
    }
  }

  /** Commits (auto commit), revokes, leaves the group and closes every connection. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer);
    if (this.subscriptionTimer !== null) clearInterval(this.subscriptionTimer);
    this.buffer.wakeReaders();
    try {
      await this.currentHandler?.catch(() => undefined);
      if (this.membership !== null) {
        const owned = this.membership.ownedPartitions();
        if (owned.length > 0) await this.revoke(owned, { lost: false });
        await this.membership.stop();
      } else if (this.autoCommit && this.connected) {
        await this.commitQuietly(this.currentPositions());
      }
    } finally {
      this.fetcher.close();
      this.buffer.wakeReaders();
      await this.cluster.close();
    }
  }

  // --- reading ------------------------------------------------------------------------------------------------

  private claimReader(kind: 'iterator' | 'run'): void {
    if (this.reader !== null) throw new ConsumerStateError(`the consumer is already read by ${this.reader}`);
    this.reader = kind;
  }

  private nextMessage(): Promise<IteratorResult<ConsumerMessage>> {
    for (;;) {
      if (this.pendingError !== null) {
        const error = this.pendingError;
        this.pendingError = null;
        return Promise.reject(error);
      }
      if (this.closing) return Promise.resolve(DONE);
      const chunk = this.buffer.peek();
      if (chunk === undefined) return this.buffer.waitForData().then(() => this.nextMessage());
      if (chunk.epoch !== chunk.state.epoch) {
        this.buffer.shift();
        continue;
      }
      if (chunk.next >= chunk.messages.length) {
        // Only transaction markers or aborted records: nothing to deliver, the position moves past them.
        this.completeChunk(chunk);
        this.buffer.shift();
        continue;
      }
      const message = chunk.messages[chunk.next++]!;
      chunk.state.position = message.offset + 1;
      if (chunk.next >= chunk.messages.length) {
        this.completeChunk(chunk);
        this.buffer.shift();
      }
      return Promise.resolve({ done: false, value: message });
    }
  }

  private async handleChunk(chunk: FetchedChunk, handlers: RunOptions): Promise<void> {
    const state = chunk.state;
    const epoch = chunk.epoch;
    try {
      if (handlers.eachBatch !== undefined) {
        const messages = chunk.next === 0 ? chunk.messages : chunk.messages.slice(chunk.next);
        if (messages.length > 0) {
          await handlers.eachBatch({
            topic: state.topic,
            partition: state.partition,
            messages,
            highWatermark: chunk.highWatermark,
          });
        }
        this.completeChunk(chunk);
        return;
      }
      const eachMessage = handlers.eachMessage!;
      const messages = chunk.messages;
      while (chunk.next < messages.length && state.epoch === epoch && !this.closing) {
        const message = messages[chunk.next]!;
        await eachMessage(message);
        chunk.next++;
        if (state.epoch === epoch) state.position = message.offset + 1;
      }
      if (chunk.next >= messages.length) this.completeChunk(chunk);
    } catch (error) {
      // Redeliver from the failed message: drop what was prefetched past it.
      const current = this.fetcher.state(state.topic, state.partition);
      if (
        current !== undefined &&
        current === state &&
        current.epoch === epoch &&
        current.position !== null
      ) {
        this.fetcher.seek(current, current.position);
      }
      throw error;
    }
  }

  /** Every message of the chunk was delivered: the position moves past what followed them in the fetch. */
  private completeChunk(chunk: FetchedChunk): void {
    if (chunk.state.epoch === chunk.epoch) chunk.state.position = chunk.nextOffset;
  }

  private throwPendingError(): void {
    if (this.pendingError === null) return;
    const error = this.pendingError;
    this.pendingError = null;
    throw error;
  }

  private fail(error: Error): void {
    this.logger.error('consumer error', { message: error.message });
    this.pendingError ??= error;
    this.buffer.wakeReaders();
  }

  // --- partitions and positions -------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closing) throw new ClientClosedError('the consumer is closed');
  }

  private assignedState({ topic, partition }: TopicPartition): PartitionState {
    const state = this.fetcher.state(topic, partition);
    if (state === undefined) {
      throw new ConsumerStateError(`${topic}-${partition} is not assigned to this consumer`, {
        topic,
        partition,
      });
    }
    return state;
  }

  private resetTo(partitions: readonly TopicPartition[] | undefined, spec: OffsetSpec): void {
    const states =
      partitions === undefined ? [...this.fetcher.allStates()] : partitions.map((p) => this.assignedState(p));
    for (const state of states) this.fetcher.reset(state, spec);
  }

  private currentPositions(): TopicPartitionOffset[] {
    const result: TopicPartitionOffset[] = [];
    for (const state of this.fetcher.allStates()) {
      if (state.position !== null)
        result.push({ topic: state.topic, partition: state.partition, offset: state.position });
    }
    return result;
  }

  /** Committed offset where there is one, the reset policy elsewhere; never overrides a seek made meanwhile. */
  private async initPositions(states: PartitionState[]): Promise<void> {
    const epochs = states.map((s) => s.epoch);
    let committed = new Map<string, number>();
    if (this.groupId !== null) {
      try {
        committed = await this.fetchCommitted(states);
      } catch (error) {
        if (this.closing) return;
        this.fail(error as Error);
        return;
      }
    }
    states.forEach((state, index) => {
      if (state.epoch !== epochs[index] || state.fetchOffset !== null || state.pendingReset !== null) return;
      if (this.fetcher.state(state.topic, state.partition) !== state) return;
      const offset = committed.get(partitionKey(state.topic, state.partition)) ?? -1;
      if (offset >= 0) {
        this.lastCommitted.set(partitionKey(state.topic, state.partition), offset);
        this.fetcher.seek(state, offset);
      } else if (this.resetPolicy === 'none') {
        this.fail(
          new ConsumerStateError(
            `${state.topic}-${state.partition} has no committed offset and auto offset reset is 'none'`,
            {
              topic: state.topic,
              partition: state.partition,
            },
          ),
        );
      } else {
        this.fetcher.reset(state, this.resetPolicy);
      }
    });
  }

  // --- group ------------------------------------------------------------------------------------------------

  private startMembership(): void {
    const retry = this.options.retry ?? {};
    this.membership = new GroupMembership({
      cluster: this.cluster,
      groupId: this.groupId!,
      groupInstanceId: this.options.groupInstanceId ?? null,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 45_000,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs ?? 60_000,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 3_000,
      assignors: this.assignors,
      initialBackoffMs: retry.initialBackoffMs ?? 100,
      maxBackoffMs: retry.maxBackoffMs ?? 1_000,
      logger: this.logger,
      subscribedTopics: () => this.resolveSubscription(),
      onAssigned: (partitions) => this.onAssigned(partitions),
      onRevoked: (partitions, info) => this.revoke(partitions, info),
      onFatal: (error) => this.fail(error),
    });
    this.membership.start();
    this.subscriptionTimer = setInterval(() => void this.checkSubscription(), this.metadataMaxAgeMs);
    this.subscriptionTimer.unref();
  }

  /** Resolves when the group has given this consumer its (first) assignment. */
  async waitForAssignment(): Promise<void> {
    if (this.membership === null) return;
    await this.membership.waitForStable();
  }

  private async resolveSubscription(): Promise<string[]> {
    const subscription = this.subscription ?? [];
    const names = new Set(subscription.filter((s): s is string => typeof s === 'string'));
    const patterns = subscription.filter((s): s is RegExp => s instanceof RegExp);
    const metadata = await this.cluster.refreshMetadata(patterns.length > 0 ? null : [...names]);
    for (const topic of metadata.topics.values()) {
      if (!topic.isInternal && patterns.some((p) => matches(p, topic.name))) names.add(topic.name);
    }
    const topics = [...names].sort();
    this.joinedTopics = topics;
    this.joinedPartitionCounts = new Map(
      topics.map((t) => [t, metadata.topics.get(t)?.partitions.length ?? 0] as const),
    );
    return topics;
  }

  /** Rejoins when a regex now matches other topics, or a subscribed topic's partition count changed. */
  private async checkSubscription(): Promise<void> {
    const membership = this.membership;
    if (membership === null || !membership.isStable || this.closing) return;
    const before = this.joinedTopics;
    const counts = this.joinedPartitionCounts;
    try {
      const after = await this.resolveSubscription();
      const changed =
        before.length !== after.length ||
        before.some((t, i) => t !== after[i]) ||
        after.some((t) => counts.get(t) !== this.joinedPartitionCounts.get(t));
      if (changed) membership.requestRejoin('subscribed topics changed');
    } catch (error) {
      this.logger.warn('subscription refresh failed', { message: (error as Error).message });
    }
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const added = this.fetcher.add(partitions);
    await this.options.onAssigned?.(partitions);
    const unpositioned = added.filter((s) => s.fetchOffset === null && s.pendingReset === null);
    if (unpositioned.length > 0) await this.initPositions(unpositioned);
    this.fetcher.schedule();
  }

  /** Waits for the running handler, stops delivering, lets the listener run, then commits what was consumed. */
  private async revoke(partitions: TopicPartition[], info: RevokeInfo): Promise<void> {
    await this.currentHandler?.catch(() => undefined);
    const wanted = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    const positions = this.currentPositions().filter((p) => wanted.has(partitionKey(p.topic, p.partition)));
    this.fetcher.remove(partitions);
    try {
      await this.options.onRevoked?.(partitions, info);
    } catch (error) {
      this.logger.error('onRevoked listener failed', { message: (error as Error).message });
    }
    if (this.autoCommit && !info.lost) await this.commitQuietly(positions);
    for (const key of wanted) this.lastCommitted.delete(key);
  }

  // --- offsets ------------------------------------------------------------------------------------------------

  private autoCommitNow(): void {
    if (this.closing) return;
    const changed = this.currentPositions().filter(
      (p) => this.lastCommitted.get(partitionKey(p.topic, p.partition)) !== p.offset,
    );
    if (changed.length > 0) void this.commitQuietly(changed);
  }

  private async commitQuietly(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.serializedCommit(offsets);
    } catch (error) {
      this.logger.warn('auto commit failed', { message: (error as Error).message });
    }
  }

  /** Commits run one after another, so an older commit can never land after a newer one. */
  private serializedCommit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const run = this.commitChain.then(() => this.sendCommit(offsets));
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  private async sendCommit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const groupId = this.groupId!;
    const membership = this.membership;
    const topics = groupBy(offsets, (o) => o.topic).map(([name, entries]) => ({
      name,
      partitions: entries.map(({ partition, offset }) => ({
        partitionIndex: partition,
        committedOffset: BigInt(offset),
        committedLeaderEpoch: -1,
        commitTimestamp: -1n,
        committedMetadata: null,
      })),
    }));
    await this.cluster.retry(async () => {
      const coordinator = await this.cluster.coordinator(groupId);
      const version = coordinator.versionFor(OffsetCommitApi, OFFSET_COMMIT_MAX_VERSION);
      const response = await coordinator.send(
        OffsetCommitApi,
        {
          groupId,
          generationIdOrMemberEpoch: membership?.generationId ?? -1,
          memberId: membership?.memberId ?? '',
          groupInstanceId: membership?.groupInstanceId ?? null,
          retentionTimeMs: -1n,
          topics,
        },
        { version },
      );
      for (const topic of response.topics) {
        for (const p of topic.partitions) {
          if (p.errorCode === ErrorCode.NONE) continue;
          const error = errorFromCode(p.errorCode, undefined, {
            topic: topic.name,
            partition: p.partitionIndex,
            groupId,
          });
          if (error instanceof RebalanceError) membership?.requestRejoin(`commit failed: ${error.type}`);
          throw error;
        }
      }
    });
    for (const { topic, partition, offset } of offsets)
      this.lastCommitted.set(partitionKey(topic, partition), offset);
  }

  private async fetchCommitted(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const groupId = this.groupId!;
    const topics = groupBy(partitions, (p) => p.topic).map(([name, entries]) => ({
      name,
      partitionIndexes: entries.map((p) => p.partition),
    }));
    return this.cluster.retry(async () => {
      const coordinator = await this.cluster.coordinator(groupId);
      const version = coordinator.versionFor({ ...OffsetFetchApi, minVersion: 1 }, OFFSET_FETCH_MAX_VERSION);
      const response = await coordinator.send(
        OffsetFetchApi,
        {
          groupId,
          topics,
          groups: [],
          requireStable: false,
        },
        { version },
      );
      if (response.errorCode !== ErrorCode.NONE)
        throw errorFromCode(response.errorCode, undefined, { groupId });
      const result = new Map<string, number>();
      for (const topic of response.topics) {
        for (const p of topic.partitions) {
          if (p.errorCode !== ErrorCode.NONE) {
            throw errorFromCode(p.errorCode, undefined, {
              topic: topic.name,
              partition: p.partitionIndex,
              groupId,
            });
          }
          result.set(partitionKey(topic.name, p.partitionIndex), Number(p.committedOffset));
        }
      }
      return result;
    });
  }
}

function matches(pattern: RegExp, name: string): boolean {
  // A global or sticky regex keeps lastIndex between calls; reset it so every topic is tested from the start.
  pattern.lastIndex = 0;
  return pattern.test(name);
}
