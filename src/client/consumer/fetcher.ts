// Keeps every fetchable partition's data flowing into the FetchBuffer: one Fetch in flight per leader broker
// at a time, each sized by what the buffer can still take, so the application's pace bounds memory. Also
// owns per-partition positions (next offset to fetch) and offset resets through ListOffsets.

import { ErrorCode } from '../../protocol/errors.js';
import { FetchApi, type FetchRequest, type FetchResponse } from '../../protocol/generated/fetch.js';
import { backoffDelayMs, type Cluster, partitionInfo } from '../cluster.js';
import type { BrokerConnection, ClientLogger } from '../connection.js';
import {
  ClientClosedError,
  errorFromCode,
  KafkaClientError,
  OffsetOutOfRangeError,
  StaleMetadataError,
} from '../errors.js';
import { type IsolationLevel, listOffsets, type OffsetSpec, partitionKey } from '../list-offsets.js';
import type { FetchBuffer, FetchedChunk } from './fetch-buffer.js';
import { type AbortedTransaction, decodePartitionRecords, nextFetchOffset } from './message.js';

/** Highest Fetch version used: v13+ addresses topics by id, which not every broker's metadata provides. */
const FETCH_MAX_VERSION = 12;

/** auto.offset.reset: where to start without a committed offset, or after OFFSET_OUT_OF_RANGE. */
export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface FetcherOptions {
  minBytes: number;
  maxWaitMs: number;
  maxBytes: number;
  maxPartitionBytes: number;
  isolationLevel: IsolationLevel;
  verifyCrc: boolean;
  resetPolicy: OffsetResetPolicy;
  requestTimeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxDecompressedBytes: number;
  logger: ClientLogger;
  /** Errors the application must see (no reset policy, corrupt data, authorization...). */
  onError: (error: Error) => void;
}

/** Everything the fetcher knows about one assigned partition. */
export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to fetch; null until known (committed offset or reset pending). */
  fetchOffset: number | null = null;
  /** Next offset to hand to the application: what a commit stores. */
  position: number | null = null;
  /** Bumped by every seek, pause, reset and revoke, so data fetched before it is dropped. */
  epoch = 0;
  paused = false;
  inFlight = false;
  /** A reset waiting to run (or running, when resetting is true). */
  pendingReset: OffsetSpec | null = null;
  resetting = false;
  highWatermark = -1;
  /** Not fetched before this time (after a partition error). */
  retryAtMs = 0;
  errorCount = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get fetchable(): boolean {
    return (
      !this.paused &&
      !this.inFlight &&
      this.fetchOffset !== null &&
      this.pendingReset === null &&
      !this.resetting
    );
  }
}

/** One partition's records from a response, waiting to be decoded. */
interface PartitionWork {
  state: PartitionState;
  epoch: number;
  fetchOffset: number;
  records: Buffer;
  highWatermark: number;
  aborted: AbortedTransaction[] | null;
}

interface LeaderRequest {
  nodeId: number;
  states: PartitionState[];
}

export class Fetcher {
  private readonly states = new Map<string, PartitionState>();
  /**
   * Leaders with a Fetch in flight. One at a time: a broker answers a connection's requests in order, so a
   * second Fetch would wait behind one that long-polls for partitions at their end.
   */
  private readonly leadersInFlight = new Set<number>();
  private readonly leaderRetryAtMs = new Map<number, number>();
  private readonly leaderErrors = new Map<number, number>();
  private wakeTimer: NodeJS.Timeout | null = null;
  private metadataRefresh: Promise<void> | null = null;
  private closed = false;
  private decodeChain: Promise<void> = Promise.resolve();
  private scheduling = false;
  private rescheduleRequested = false;
  /** A Fetch was held back for want of buffer room: room given back must schedule again. */
  private waitingForRoom = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly buffer: FetchBuffer,
    private readonly options: FetcherOptions,
  ) {}

  get assigned(): TopicPartition[] {
    return [...this.states.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  state(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(partitionKey(topic, partition));
  }

  allStates(): IterableIterator<PartitionState> {
    return this.states.values();
  }

  /** Adds partitions (their position is set later by seek/reset); existing ones are kept as they are. */
  add(partitions: readonly TopicPartition[]): PartitionState[] {
    const added: PartitionState[] = [];
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      if (this.states.has(key)) continue;
      const state = new PartitionState(topic, partition);
      this.states.set(key, state);
      added.push(state);
    }
    return added;
  }

  /** Stops fetching the partitions and drops their buffered data. */
  remove(partitions: readonly TopicPartition[]): void {
    const removed = new Set<PartitionState>();
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      const state = this.states.get(key);
      if (state === undefined) continue;
      state.epoch++;
      this.states.delete(key);
      removed.add(state);
    }
    if (removed.size > 0) this.buffer.discard((chunk) => removed.has(chunk.state as PartitionState));
  }

  /** Moves the partition to `offset`: buffered data past the old position is dropped. */
  seek(state: PartitionState, offset: number): void {
    this.invalidate(state);
    state.pendingReset = null;
    state.fetchOffset = offset;
    state.position = offset;
    this.schedule();
  }

  /** Resolves the partition's position through ListOffsets (in the background). */
  reset(state: PartitionState, spec: OffsetSpec): void {
    this.invalidate(state);
    state.pendingReset = spec;
    this.schedule();
  }

  pause(state: PartitionState): void {
    if (state.paused) return;
    state.paused = true;
    // Data fetched past the application's position is dropped; resume fetches it again.
    this.invalidate(state);
    if (state.position !== null) state.fetchOffset = state.position;
  }

  resume(state: PartitionState): void {
    if (!state.paused) return;
    state.paused = false;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    for (const state of this.states.values()) state.epoch++;
    this.states.clear();
  }

  private invalidate(state: PartitionState): void {
    state.epoch++;
    state.retryAtMs = 0;
    this.buffer.discard((chunk) => chunk.state === state);
    if (state.position !== null) state.fetchOffset = state.position;
  }

  /** Sends whatever can be sent now: resets, then one Fetch per leader with no Fetch in flight. */
  schedule(): void {
    if (this.closed) return;
    // schedule() is re-entered from buffer callbacks; run once and repeat if asked meanwhile.
    if (this.scheduling) {
      this.rescheduleRequested = true;
      return;
    }
    this.scheduling = true;
    try {
      do {
        this.rescheduleRequested = false;
        this.scheduleOnce();
      } while (this.rescheduleRequested && !this.closed);
    } finally {
      this.scheduling = false;
    }
  }

  /**
   * The buffer gave bytes back (a chunk consumed, a reservation settled). Only a Fetch held back for room can
   * go out because of that, so nothing else is rescheduled: the scan over every partition would otherwise
   * run once per consumed chunk.
   */
  onBufferRoom(): void {
    if (!this.waitingForRoom) return;
    this.waitingForRoom = false;
    this.schedule();
  }

  private scheduleOnce(): void {
    const now = Date.now();
    const resets: PartitionState[] = [];
    const byLeader = new Map<number, PartitionState[]>();
    let needMetadata = false;
    let nextWakeMs = Number.POSITIVE_INFINITY;
    const metadata = this.cluster.metadata;
    for (const state of this.states.values()) {
      if (state.pendingReset !== null && !state.resetting) {
        resets.push(state);
        continue;
      }
      if (!state.fetchable) continue;
      if (state.retryAtMs > now) {
        nextWakeMs = Math.min(nextWakeMs, state.retryAtMs);
        continue;
      }
      const topic = metadata.topics.get(state.topic);
      const leader = topic === undefined ? undefined : partitionInfo(topic, state.partition)?.leader;
      if (leader === undefined || leader < 0) {
        needMetadata = true;
        continue;
      }
      const leaderRetryAt = this.leaderRetryAtMs.get(leader) ?? 0;
      if (leaderRetryAt > now) {
        nextWakeMs = Math.min(nextWakeMs, leaderRetryAt);
        continue;
      }
      if (this.leadersInFlight.has(leader)) continue;
      let list = byLeader.get(leader);
      if (list === undefined) {
        list = [];
        byLeader.set(leader, list);
      }
      list.push(state);
    }
    if (resets.length > 0) this.runResets(resets);
    if (needMetadata) this.refreshMetadata();
    for (const [nodeId, states] of byLeader) {
      // A response holds at most maxPartitionBytes per partition (beyond one oversized batch), so reserving
      // more would only keep other leaders' fetches waiting.
      const wanted = Math.min(this.options.maxBytes, states.length * this.options.maxPartitionBytes);
      const reserved = this.buffer.reserve(wanted, this.options.maxPartitionBytes);
      if (reserved === 0) {
        this.waitingForRoom = true;
        break;
      }
      this.sendFetch({ nodeId, states }, reserved);
    }
    if (nextWakeMs !== Number.POSITIVE_INFINITY) this.wakeAt(nextWakeMs);
  }

  private wakeAt(timeMs: number): void {
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.schedule();
      },
      Math.max(0, timeMs - Date.now()),
    );
    this.wakeTimer.unref();
  }

  private refreshMetadata(): void {
    if (this.metadataRefresh !== null) return;
    const topics = [...new Set([...this.states.values()].map((s) => s.topic))];
    this.metadataRefresh = (async () => {
      try {
        await this.cluster.refreshMetadata(topics);
      } catch (error) {
        this.options.logger.warn('consumer metadata refresh failed', { message: (error as Error).message });
      }
      // Bounded pace: never more than one refresh per initial backoff.
      await delay(this.options.initialBackoffMs);
    })().finally(() => {
      this.metadataRefresh = null;
      this.schedule();
    });
  }

  private sendFetch(request: LeaderRequest, reservedBytes: number): void {
    const { nodeId, states } = request;
    const epochs = states.map((s) => s.epoch);
    const offsets = states.map((s) => s.fetchOffset!);
    for (const state of states) state.inFlight = true;
    this.leadersInFlight.add(nodeId);
    void (async () => {
      let work: PartitionWork[] = [];
      let failed: unknown = null;
      try {
        const connection = await this.cluster.connection(nodeId);
        const response = await this.fetch(connection, states, offsets, reservedBytes);
        work = this.takeResponse(response, states, epochs, offsets);
        this.leaderErrors.delete(nodeId);
      } catch (error) {
        failed = error;
      } finally {
        for (const state of states) state.inFlight = false;
        this.leadersInFlight.delete(nodeId);
      }
      if (failed !== null) {
        this.buffer.cancel(reservedBytes);
        this.onLeaderFailure(nodeId, failed);
        this.schedule();
        return;
      }
      // The next Fetch goes out now, so the broker prepares it while this one is decoded.
      this.schedule();
      this.decodeChain = this.decodeChain.then(() => this.decodeAndBuffer(work, reservedBytes));
    })();
  }

  private onLeaderFailure(nodeId: number, error: unknown): void {
    if (this.closed || error instanceof ClientClosedError) return;
    const attempt = this.leaderErrors.get(nodeId) ?? 0;
    this.leaderErrors.set(nodeId, attempt + 1);
    const delayMs = backoffDelayMs(attempt, this.options.initialBackoffMs, this.options.maxBackoffMs);
    this.leaderRetryAtMs.set(nodeId, Date.now() + delayMs);
    this.options.logger.warn('fetch failed', { nodeId, delayMs, message: (error as Error).message });
    if (error instanceof KafkaClientError && error.retriable) {
      this.refreshMetadata();
    } else {
      this.options.onError(error as Error);
    }
  }

  private fetch(
    connection: BrokerConnection,
    states: PartitionState[],
    offsets: number[],
    maxBytes: number,
  ): Promise<FetchResponse> {
    const version = connection.versionFor(FetchApi, FETCH_MAX_VERSION);
    const topics = new Map<string, FetchRequest['topics'][number]>();
    states.forEach((state, index) => {
      let topic = topics.get(state.topic);
      if (topic === undefined) {
        topic = { topic: state.topic, topicId: ZERO_UUID, partitions: [] };
        topics.set(state.topic, topic);
      }
      topic.partitions.push({
        partition: state.partition,
        currentLeaderEpoch: -1,
        fetchOffset: BigInt(offsets[index]!),
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: this.options.maxPartitionBytes,
        replicaDirectoryId: ZERO_UUID,
      });
    });
    const request: FetchRequest = {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes,
      isolationLevel: this.options.isolationLevel === 'read_committed' ? 1 : 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics.values()],
      forgottenTopicsData: [],
      rackId: '',
    };
    return connection.send(FetchApi, request, {
      version,
      timeoutMs: this.options.requestTimeoutMs + this.options.maxWaitMs,
    });
  }

  /**
   * Applies a response's partition errors and advances each partition's fetch offset past its whole batches
   * (read from batch headers only), returning the records left to decode.
   */
  private takeResponse(
    response: FetchResponse,
    states: PartitionState[],
    epochs: number[],
    offsets: number[],
  ): PartitionWork[] {
    if (response.errorCode !== ErrorCode.NONE) throw errorFromCode(response.errorCode);
    // Brokers answer in request order; a map of what was sent is built only if one does not.
    let sent: Map<string, number> | null = null;
    let expected = 0;
    const indexOf = (topic: string, partition: number): number | undefined => {
      const next = states[expected];
      if (next !== undefined && next.partition === partition && next.topic === topic) return expected++;
      if (sent === null) {
        sent = new Map();
        for (const [index, state] of states.entries())
          sent.set(partitionKey(state.topic, state.partition), index);
      }
      return sent.get(partitionKey(topic, partition));
    };
    const work: PartitionWork[] = [];
    for (const topicResponse of response.responses) {
      for (const data of topicResponse.partitions) {
        const index = indexOf(topicResponse.topic, data.partitionIndex);
        if (index === undefined) continue;
        const state = states[index]!;
        if (state.epoch !== epochs[index] || this.closed) continue;
        if (data.errorCode !== ErrorCode.NONE) {
          this.onPartitionError(state, data.errorCode, offsets[index]!);
          continue;
        }
        state.highWatermark = Number(data.highWatermark);
        state.errorCount = 0;
        if (data.records === null || data.records.length === 0) continue;
        const fetchOffset = offsets[index]!;
        state.fetchOffset = nextFetchOffset(data.records, fetchOffset);
        // As Kafka's consumer (KIP-74): a partition that got records goes to the end of the next Fetch, so that
        // a response's max_bytes, filled in request order, reaches every partition in turn.
        const key = partitionKey(state.topic, state.partition);
        this.states.delete(key);
        this.states.set(key, state);
        work.push({
          state,
          epoch: epochs[index]!,
          fetchOffset,
          records: data.records,
          highWatermark: state.highWatermark,
          aborted:
            this.options.isolationLevel === 'read_committed' ? abortedOf(data.abortedTransactions) : null,
        });
      }
    }
    return work;
  }

  /** Decodes in response order (the decode chain), then hands the chunks to the buffer. */
  private async decodeAndBuffer(work: PartitionWork[], reservedBytes: number): Promise<void> {
    const chunks: FetchedChunk[] = [];
    for (const item of work) {
      const { state, epoch } = item;
      if (state.epoch !== epoch || this.closed) continue;
      try {
        const decoded = await decodePartitionRecords(item.records, {
          topic: state.topic,
          partition: state.partition,
          fetchOffset: item.fetchOffset,
          verifyCrc: this.options.verifyCrc,
          abortedTransactions: item.aborted,
          maxDecompressedBytes: this.options.maxDecompressedBytes,
        });
        // A seek or revoke may have happened while decoding.
        if (state.epoch !== epoch || this.closed) continue;
        chunks.push({
          state,
          epoch,
          messages: decoded.messages,
          next: 0,
          bytes: decoded.bytes,
          highWatermark: item.highWatermark,
          nextOffset: decoded.nextOffset,
        });
      } catch (error) {
        if (state.epoch !== epoch || this.closed) continue;
        // Records that do not decode are not skipped: the partition stops at them and the error is reported.
        this.invalidate(state);
        state.fetchOffset = item.fetchOffset;
        state.retryAtMs = Date.now() + this.options.maxBackoffMs;
        this.options.onError(error as Error);
      }
    }
    this.buffer.settle(reservedBytes, chunks);
  }

  private onPartitionError(state: PartitionState, code: number, fetchOffset: number): void {
    const error = errorFromCode(code, undefined, { topic: state.topic, partition: state.partition });
    if (error instanceof OffsetOutOfRangeError) {
      if (this.options.resetPolicy === 'none') {
        state.retryAtMs = Number.POSITIVE_INFINITY;
        this.options.onError(
          new OffsetOutOfRangeError(
            code,
            `offset ${fetchOffset} of ${state.topic}-${state.partition} is out of range and auto offset reset is 'none'`,
            { topic: state.topic, partition: state.partition },
          ),
        );
        return;
      }
      this.options.logger.info('offset out of range, resetting', {
        topic: state.topic,
        partition: state.partition,
        fetchOffset,
        policy: this.options.resetPolicy,
      });
      this.reset(state, this.options.resetPolicy);
      return;
    }
    const delayMs = backoffDelayMs(
      state.errorCount++,
      this.options.initialBackoffMs,
      this.options.maxBackoffMs,
    );
    state.retryAtMs = Date.now() + delayMs;
    if (error instanceof StaleMetadataError || error.retriable) {
      this.refreshMetadata();
      return;
    }
    this.options.onError(error);
  }

  private runResets(states: PartitionState[]): void {
    for (const state of states) state.resetting = true;
    const specs = states.map((s) => s.pendingReset!);
    const epochs = states.map((s) => s.epoch);
    void (async () => {
      try {
        const found = await listOffsets(
          this.cluster,
          states.map((state, index) => ({
            topic: state.topic,
            partition: state.partition,
            spec: specs[index]!,
          })),
          this.options.isolationLevel,
        );
        states.forEach((state, index) => {
          if (state.epoch !== epochs[index] || state.pendingReset !== specs[index]) return;
          const offset = found.get(partitionKey(state.topic, state.partition));
          if (offset === undefined) return;
          state.pendingReset = null;
          state.fetchOffset = offset;
          state.position = offset;
        });
      } catch (error) {
        if (this.closed || error instanceof ClientClosedError) return;
        this.options.logger.warn('offset reset failed', { message: (error as Error).message });
        if (!(error instanceof KafkaClientError && error.retriable)) this.options.onError(error as Error);
        await delay(this.options.maxBackoffMs);
      } finally {
        for (const state of states) state.resetting = false;
      }
      this.schedule();
    })();
  }
}

function abortedOf(list: FetchResponse['responses'][number]['partitions'][number]['abortedTransactions']) {
  if (list === null) return [];
  return list.map(
    (t): AbortedTransaction => ({ producerId: Number(t.producerId), firstOffset: Number(t.firstOffset) }),
  );
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
