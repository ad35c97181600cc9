// The transaction coordinator (Kafka's TransactionCoordinator with its TransactionStateManager): it owns the
// transactional ids that hash to the __transaction_state partitions this broker leads, hands their producers
// ids and epochs, records which partitions each transaction touches, and ends transactions by writing
// commit/abort markers into those partitions. Every state change is durable in __transaction_state before it
// takes effect, so a restarted broker replays the partitions and finishes what was under way.
//
// I/O goes through three small interfaces (the state log, the marker writer and the producer id source) and
// time through a Scheduler, so this runs in tests without sockets, storage or waiting.
//
// Unlike Kafka, which answers EndTxn once PrepareCommit/PrepareAbort is durable and sends markers afterwards,
// EndTxn here answers after the markers and CompleteCommit/CompleteAbort are durable: markers are local
// writes, and a client's next read (read_committed or OffsetFetch) then sees the outcome.
import { ErrorCode } from '../../protocol/errors.js';
import type { TransactionMarker } from '../../storage/index.js';
import { errorCodeOf } from '../errors.js';
import { partitionFor } from '../partition-for.js';
import type { Scheduler, TimerHandle } from '../scheduler.js';
import { TransactionPartitionLoadError } from './errors.js';
import {
  isEpochExhausted,
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  type TopicPartition,
  TRANSACTION_STATES,
  TransactionMetadata,
  type TransactionStateName,
  type TransactionTransition,
} from './metadata.js';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
} from './records.js';

export type { TransactionMarker };

/** Writes a commit/abort marker into a partition; resolves with a Kafka error code (NONE once durable). */
export interface TransactionMarkerWriter {
  write(topic: string, partition: number, marker: TransactionMarker): Promise<number>;
}

/** One record of __transaction_state; a null value is a tombstone. */
export interface TransactionStateRecord {
  key: Buffer;
  value: Buffer | null;
}

/**
 * __transaction_state as the coordinator needs it. append rejects with an error carrying a Kafka error code
 * (`code` or `errorCode`), or without one for a failure of the log itself.
 */
export interface TransactionStateLog {
  append(partition: number, records: TransactionStateRecord[]): Promise<void>;
}

export interface ProducerIdSource {
  nextProducerId(): Promise<number>;
}

/**
 * Answers the produce path's question (KIP-890 partition verification): a Kafka error code, NONE when the
 * partition belongs to the producer's ongoing transaction at that epoch.
 */
export interface TransactionVerifier {
  verifyTransactionalProduce(
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): number;
}

export interface TransactionCoordinatorLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface TransactionCoordinatorConfig {
  /** Partitions of __transaction_state: the modulus of partitionFor. */
  transactionStatePartitions: number;
  transactionMaxTimeoutMs: number;
  transactionalIdExpirationMs: number;
  abortTimedOutTransactionCleanupIntervalMs: number;
  removeExpiredTransactionalIdCleanupIntervalMs: number;
}

/** Kafka's defaults for the settings above, with 50 partitions. */
export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: TransactionCoordinatorConfig = {
  transactionStatePartitions: 50,
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortTimedOutTransactionCleanupIntervalMs: 10_000,
  removeExpiredTransactionalIdCleanupIntervalMs: 3_600_000,
};

export interface TransactionCoordinatorOptions {
  log: TransactionStateLog;
  markers: TransactionMarkerWriter;
  producerIds: ProducerIdSource;
  scheduler: Scheduler;
  config?: Partial<TransactionCoordinatorConfig>;
  logger?: TransactionCoordinatorLogger;
}

export interface ProducerIdAndEpoch {
  producerId: number;
  producerEpoch: number;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface ListTransactionsFilter {
  states: readonly string[];
  producerIds: readonly number[];
  /** Only transactions running longer than this; negative: no filter. */
  durationMs: number;
}

export interface ListedTransaction {
  transactionalId: string;
  producerId: number;
  transactionState: TransactionStateName;
}

export interface ListTransactionsResult {
  errorCode: number;
  unknownStateFilters: string[];
  transactionStates: ListedTransaction[];
}

export interface DescribedTransaction {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

interface PartitionEntry {
  readonly partition: number;
  /** The leader epoch of the __transaction_state partition when loaded; written into markers. */
  readonly coordinatorEpoch: number;
  loading: boolean;
  readonly transactions: Map<string, TransactionMetadata>;
}

type Lookup = { errorCode: number } | { entry: PartitionEntry; metadata: TransactionMetadata | undefined };

interface Sleeper {
  handle: TimerHandle;
  resolve: () => void;
}

/** Marker and CompleteX retries back off from this to MAX_RETRY_BACKOFF_MS while the partition stays ours. */
const INITIAL_RETRY_BACKOFF_MS = 100;
const MAX_RETRY_BACKOFF_MS = 5_000;
/** Tombstones of expired ids per append. */
const EXPIRATION_BATCH_RECORDS = 500;
/** InitProducerId rounds that may each wait for a producer id while the state moves on. */
const INIT_PRODUCER_ID_ATTEMPTS = 3;

const SILENT_LOGGER: TransactionCoordinatorLogger = { info() {}, warn() {} };

export class TransactionCoordinator implements TransactionVerifier {
  private readonly log: TransactionStateLog;
  private readonly markers: TransactionMarkerWriter;
  private readonly producerIds: ProducerIdSource;
  private readonly scheduler: Scheduler;
  private readonly logger: TransactionCoordinatorLogger;
  readonly config: TransactionCoordinatorConfig;
  private readonly partitions = new Map<number, PartitionEntry>();
  /** Every loaded transactional id by its current producer id, for produce verification. */
  private readonly byProducerId = new Map<number, TransactionMetadata>();
  private readonly timers = new Set<TimerHandle>();
  private readonly sleepers = new Set<Sleeper>();
  private active = false;

  constructor(options: TransactionCoordinatorOptions) {
    this.log = options.log;
    this.markers = options.markers;
    this.producerIds = options.producerIds;
    this.scheduler = options.scheduler;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.config = { ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG, ...options.config };
  }

  /** Starts the timeout and expiration sweeps. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.repeat(this.config.abortTimedOutTransactionCleanupIntervalMs, () =>
      this.abortTimedOutTransactions(),
    );
    this.repeat(this.config.removeExpiredTransactionalIdCleanupIntervalMs, () =>
      this.removeExpiredTransactionalIds(),
    );
  }

  /** Stops the sweeps and drops all state; requests under way answer NOT_COORDINATOR. */
  shutdown(): void {
    this.active = false;
    for (const handle of this.timers) this.scheduler.clearTimeout(handle);
    this.timers.clear();
    for (const partition of [...this.partitions.keys()]) this.unloadPartition(partition);
    for (const sleeper of this.sleepers) {
      this.scheduler.clearTimeout(sleeper.handle);
      sleeper.resolve();
    }
    this.sleepers.clear();
  }

  partitionFor(transactionalId: string): number {
    return partitionFor(transactionalId, this.config.transactionStatePartitions);
  }

  /** Partitions loaded or loading, with whether they are still loading. */
  ownedPartitions(): Map<number, { loading: boolean; coordinatorEpoch: number }> {
    return new Map(
      [...this.partitions].map(([p, e]) => [p, { loading: e.loading, coordinatorEpoch: e.coordinatorEpoch }]),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Loading

  /**
   * Becomes the coordinator of `partition`: replays its records (requests for its ids answer
   * COORDINATOR_LOAD_IN_PROGRESS meanwhile), then finishes the transactions found in PrepareCommit or
   * PrepareAbort in the background. Ongoing ones are left to their timeout.
   */
  async loadPartition(
    partition: number,
    coordinatorEpoch: number,
    records: AsyncIterable<TransactionStateRecord>,
  ): Promise<void> {
    if (!this.active) {
      throw new TransactionPartitionLoadError(
        `cannot load partition ${partition}: coordinator is not started`,
      );
    }
    if (this.partitions.has(partition)) {
      throw new TransactionPartitionLoadError(`partition ${partition} is already loaded or loading`);
    }
    const entry: PartitionEntry = { partition, coordinatorEpoch, loading: true, transactions: new Map() };
    this.partitions.set(partition, entry);
    const loaded = new Map<string, TransactionMetadata>();
    try {
      for await (const record of records) {
        if (!this.isCurrent(entry)) return;
        const transactionalId = decodeTransactionLogKey(record.key);
        if (transactionalId === null) {
          this.logger.warn(
            `skipping a record with an unknown key version in __transaction_state-${partition}`,
          );
          continue;
        }
        if (record.value === null) {
          loaded.delete(transactionalId);
          continue;
        }
        const value = decodeTransactionLogValue(record.value);
        // Re-inserted so that iteration follows the last write, as replay would.
        loaded.delete(transactionalId);
        loaded.set(
          transactionalId,
          new TransactionMetadata(transactionalId, {
            producerId: value.producerId,
            producerEpoch: value.producerEpoch,
            txnTimeoutMs: value.transactionTimeoutMs,
            state: value.state,
            partitions: value.partitions,
            txnStartTimestamp: value.startTimestampMs,
            txnLastUpdateTimestamp: value.lastUpdateTimestampMs,
          }),
        );
      }
    } catch (error) {
      if (this.isCurrent(entry)) this.partitions.delete(partition);
      throw error;
    }
    if (!this.isCurrent(entry)) return;
    for (const [transactionalId, metadata] of loaded) {
      entry.transactions.set(transactionalId, metadata);
      this.byProducerId.set(metadata.producerId, metadata);
    }
    entry.loading = false;
    this.logger.info(`loaded ${loaded.size} transactional ids from __transaction_state-${partition}`);
    const now = this.scheduler.nowMs();
    for (const metadata of loaded.values()) {
      if (metadata.state !== 'PrepareCommit' && metadata.state !== 'PrepareAbort') continue;
      const commit = metadata.state === 'PrepareCommit';
      const complete = metadata.prepareComplete(now);
      this.completeTransaction(entry, metadata, complete, commit).then(
        (errorCode) => this.logCompletion(metadata.transactionalId, 'completing after load', errorCode),
        (error: unknown) =>
          this.logger.warn(`completing ${metadata.transactionalId} after load failed: ${error}`),
      );
    }
  }

  /** Stops being the coordinator of `partition`; its ids are forgotten until loaded again. */
  unloadPartition(partition: number): void {
    const entry = this.partitions.get(partition);
    if (entry === undefined) return;
    this.partitions.delete(partition);
    for (const metadata of entry.transactions.values()) this.unindex(metadata.producerId, metadata);
  }

  // ---------------------------------------------------------------------------------------------------
  // Requests

  /** InitProducerId with a transactional id. Errors use the current codes (PRODUCER_FENCED); see the handler. */
  async initProducerId(
    transactionalId: string,
    transactionTimeoutMs: number,
    expected: ProducerIdAndEpoch | null,
  ): Promise<InitProducerIdResult> {
    if (transactionalId === '') return initError(ErrorCode.INVALID_REQUEST);
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.transactionMaxTimeoutMs) {
      return initError(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }
    // A producer id is taken (asynchronously) only when one is needed; the state is then looked at afresh.
    let spareProducerId: number | null = null;
    for (let attempt = 0; attempt < INIT_PRODUCER_ID_ATTEMPTS; attempt++) {
      const found = this.lookup(transactionalId);
      if ('errorCode' in found) return initError(found.errorCode);
      const { entry } = found;
      let { metadata } = found;
      if (metadata === undefined) {
        if (spareProducerId === null) {
          const allocated = await this.allocateProducerId();
          if (typeof allocated !== 'number') return allocated;
          spareProducerId = allocated;
          continue;
        }
        metadata = new TransactionMetadata(transactionalId, {
          producerId: spareProducerId,
          producerEpoch: NO_PRODUCER_EPOCH,
          txnTimeoutMs: transactionTimeoutMs,
          state: 'Empty',
          txnLastUpdateTimestamp: this.scheduler.nowMs(),
        });
        spareProducerId = null;
        entry.transactions.set(transactionalId, metadata);
        this.byProducerId.set(metadata.producerId, metadata);
      }
      const prepared = this.prepareInitProducerId(metadata, transactionTimeoutMs, expected, spareProducerId);
      if (prepared === 'needs-producer-id') {
        const allocated = await this.allocateProducerId();
        if (typeof allocated !== 'number') return allocated;
        spareProducerId = allocated;
        continue;
      }
      if ('errorCode' in prepared) return initError(prepared.errorCode);
      const { transition } = prepared;
      if (transition.state === 'PrepareEpochFence') {
        // Abort the open transaction with the fenced epoch, then let the producer retry: its retry bumps the
        // epoch once more (or rotates the producer id if the fence used up the epochs).
        const errorCode = await this.endTransaction(
          transactionalId,
          transition.producerId,
          transition.producerEpoch,
          false,
          false,
        );
        return initError(errorCode === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : errorCode);
      }
      const { errorCode } = await this.appendTransition(entry, metadata, transition, false);
      if (errorCode !== ErrorCode.NONE) return initError(errorCode);
      this.logger.info(
        `initialized transactional id ${transactionalId} with producer id ${transition.producerId} and epoch ` +
          `${transition.producerEpoch} on __transaction_state-${entry.partition}`,
      );
      return {
        errorCode: ErrorCode.NONE,
        producerId: transition.producerId,
        producerEpoch: transition.producerEpoch,
      };
    }
    return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
  }

  /** AddPartitionsToTxn (and AddOffsetsToTxn with the group's offsets partition). */
  async addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const found = this.lookup(transactionalId);
    if ('errorCode' in found) return found.errorCode;
    const { entry, metadata } = found;
    if (metadata === undefined || metadata.producerId !== producerId)
      return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (metadata.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (metadata.pendingState !== null) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (metadata.state === 'PrepareCommit' || metadata.state === 'PrepareAbort') {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    if (metadata.state === 'Ongoing' && metadata.containsAll(partitions)) return ErrorCode.NONE;
    const transition = metadata.prepareAddPartitions(partitions, this.scheduler.nowMs());
    return (await this.appendTransition(entry, metadata, transition, false)).errorCode;
  }

  /**
   * AddPartitionsToTxn v4+ with verifyOnly: which partitions are in the ongoing transaction (NONE), which
   * are not (TRANSACTION_ABORTABLE), or one error for all.
   */
  verifyPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): number[] {
    const all = (errorCode: number) => partitions.map(() => errorCode);
    if (transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    const found = this.lookup(transactionalId);
    if ('errorCode' in found) return all(found.errorCode);
    const { metadata } = found;
    if (metadata === undefined || metadata.producerId !== producerId) {
      return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    }
    if (metadata.producerEpoch !== producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (metadata.state === 'PrepareCommit' || metadata.state === 'PrepareAbort') {
      return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    return partitions.map((tp) =>
      metadata.hasPartition(tp.topic, tp.partition) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE,
    );
  }

  /** EndTxn: resolves once the markers and CompleteCommit/CompleteAbort are durable, or with the error. */
  endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    return this.endTransaction(transactionalId, producerId, producerEpoch, commit, true);
  }

  /**
   * Produce verification (KIP-890 part 1), in the codes Produce answers with: NONE when the partition is in
   * the producer's ongoing transaction at that epoch; INVALID_TXN_STATE when it was not added;
   * INVALID_PRODUCER_EPOCH for another epoch; NOT_ENOUGH_REPLICAS (retriable, as Kafka) while the
   * transaction is being completed or the coordinator is loading.
   */
  verifyTransactionalProduce(
    producerId: number,
    producerEpoch: number,
    topic: string,
    partition: number,
  ): number {
    const metadata = this.byProducerId.get(producerId);
    if (metadata === undefined) {
      const loading = [...this.partitions.values()].some((entry) => entry.loading);
      return loading ? ErrorCode.NOT_ENOUGH_REPLICAS : ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    }
    if (metadata.producerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (metadata.state === 'PrepareCommit' || metadata.state === 'PrepareAbort') {
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    }
    return metadata.state === 'Ongoing' && metadata.hasPartition(topic, partition)
      ? ErrorCode.NONE
      : ErrorCode.INVALID_TXN_STATE;
  }

  listTransactions(filter: ListTransactionsFilter): ListTransactionsResult {
    const result: ListTransactionsResult = {
      errorCode: ErrorCode.NONE,
      unknownStateFilters: [],
      transactionStates: [],
    };
    if (!this.active) return { ...result, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    if ([...this.partitions.values()].some((entry) => entry.loading)) {
      return { ...result, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    }
    const states = new Set<string>();
    for (const name of filter.states) {
      if ((TRANSACTION_STATES as readonly string[]).includes(name)) states.add(name);
      else result.unknownStateFilters.push(name);
    }
    const producerIds = new Set(filter.producerIds);
    const now = this.scheduler.nowMs();
    for (const entry of this.partitions.values()) {
      for (const metadata of entry.transactions.values()) {
        // Dead is transient (the id is being removed).
        if (metadata.state === 'Dead') continue;
        if (producerIds.size > 0 && !producerIds.has(metadata.producerId)) continue;
        if (filter.states.length > 0 && !states.has(metadata.state)) continue;
        if (filter.durationMs >= 0 && now - metadata.txnStartTimestamp <= filter.durationMs) continue;
        result.transactionStates.push({
          transactionalId: metadata.transactionalId,
          producerId: metadata.producerId,
          transactionState: metadata.state,
        });
      }
    }
    return result;
  }

  describeTransaction(transactionalId: string): DescribedTransaction {
    const failed = (errorCode: number): DescribedTransaction => ({
      errorCode,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0,
      producerId: 0,
      producerEpoch: 0,
      topics: [],
    });
    if (!this.active) return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
    const found = this.lookup(transactionalId);
    if ('errorCode' in found) return failed(found.errorCode);
    const { metadata } = found;
    if (metadata === undefined || metadata.state === 'Dead')
      return failed(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    const topics = new Map<string, number[]>();
    for (const { topic, partition } of metadata.partitions.values()) {
      const list = topics.get(topic);
      if (list === undefined) topics.set(topic, [partition]);
      else list.push(partition);
    }
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: metadata.state,
      transactionTimeoutMs: metadata.txnTimeoutMs,
      transactionStartTimeMs: metadata.txnStartTimestamp,
      producerId: metadata.producerId,
      producerEpoch: metadata.producerEpoch,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Sweeps

  /** Aborts Ongoing transactions older than their timeout, fencing their producer (epoch bump). */
  abortTimedOutTransactions(): void {
    const now = this.scheduler.nowMs();
    for (const entry of this.partitions.values()) {
      if (entry.loading) continue;
      for (const metadata of entry.transactions.values()) {
        if (metadata.pendingState !== null || metadata.state !== 'Ongoing') continue;
        if (metadata.txnStartTimestamp + metadata.txnTimeoutMs >= now) continue;
        if (metadata.producerEpoch >= MAX_PRODUCER_EPOCH) {
          this.logger.warn(`cannot fence ${metadata.transactionalId}: its epoch is at the maximum`);
          continue;
        }
        const { transactionalId } = metadata;
        const fence = metadata.prepareFenceProducerEpoch();
        this.logger.info(
          `aborting transaction of ${transactionalId} (producer id ${fence.producerId}) after its timeout of ` +
            `${metadata.txnTimeoutMs} ms`,
        );
        this.endTransaction(transactionalId, fence.producerId, fence.producerEpoch, false, false).then(
          (errorCode) => this.logCompletion(transactionalId, 'aborting a timed-out transaction', errorCode),
          (error: unknown) => this.logger.warn(`aborting ${transactionalId} failed: ${error}`),
        );
      }
    }
  }

  /** Removes ids with no transaction that have been idle for transactional.id.expiration.ms (tombstones). */
  removeExpiredTransactionalIds(): void {
    const cutoff = this.scheduler.nowMs() - this.config.transactionalIdExpirationMs;
    for (const entry of this.partitions.values()) {
      if (entry.loading) continue;
      const expired: TransactionMetadata[] = [];
      for (const metadata of entry.transactions.values()) {
        if (metadata.pendingState !== null || !metadata.isExpirationAllowed) continue;
        if (metadata.txnLastUpdateTimestamp > cutoff) continue;
        metadata.prepareDead();
        expired.push(metadata);
      }
      for (let i = 0; i < expired.length; i += EXPIRATION_BATCH_RECORDS) {
        void this.writeTombstones(entry, expired.slice(i, i + EXPIRATION_BATCH_RECORDS));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Internals

  private async writeTombstones(entry: PartitionEntry, expired: TransactionMetadata[]): Promise<void> {
    const epochs = expired.map((metadata) => metadata.producerEpoch);
    let errorCode: number = ErrorCode.NONE;
    try {
      await this.log.append(
        entry.partition,
        expired.map((metadata) => ({ key: encodeTransactionLogKey(metadata.transactionalId), value: null })),
      );
    } catch (error) {
      errorCode = appendErrorCode(error);
    }
    expired.forEach((metadata, i) => {
      const current = this.isCurrent(entry) && entry.transactions.get(metadata.transactionalId) === metadata;
      if (!current) return;
      if (
        errorCode === ErrorCode.NONE &&
        metadata.pendingState === 'Dead' &&
        metadata.producerEpoch === epochs[i]
      ) {
        entry.transactions.delete(metadata.transactionalId);
        this.unindex(metadata.producerId, metadata);
      } else {
        metadata.abandonTransition();
      }
    });
    if (errorCode === ErrorCode.NONE) {
      this.logger.info(
        `expired ${expired.length} transactional ids of __transaction_state-${entry.partition}`,
      );
    } else {
      this.logger.warn(
        `could not expire transactional ids of __transaction_state-${entry.partition}: ${errorCode}`,
      );
    }
  }

  private prepareInitProducerId(
    metadata: TransactionMetadata,
    transactionTimeoutMs: number,
    expected: ProducerIdAndEpoch | null,
    spareProducerId: number | null,
  ): { transition: TransactionTransition } | { errorCode: number } | 'needs-producer-id' {
    if (metadata.pendingState !== null) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    // KIP-360: a producer naming its id is fenced unless the id is new (no epoch yet), is the current one
    // (its epoch is checked below), or is the previous one whose epochs ran out (a retry of the rotation).
    if (
      expected !== null &&
      !(
        metadata.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.producerId === metadata.producerId ||
        (expected.producerId === metadata.lastProducerId && isEpochExhausted(expected.producerEpoch))
      )
    ) {
      return { errorCode: ErrorCode.PRODUCER_FENCED };
    }
    switch (metadata.state) {
      case 'PrepareCommit':
      case 'PrepareAbort':
        return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
      case 'Empty':
      case 'CompleteCommit':
      case 'CompleteAbort': {
        const now = this.scheduler.nowMs();
        if (
          metadata.isProducerEpochExhausted &&
          (expected === null || expected.producerEpoch === metadata.producerEpoch)
        ) {
          if (spareProducerId === null) return 'needs-producer-id';
          return {
            transition: metadata.prepareProducerIdRotation(
              spareProducerId,
              transactionTimeoutMs,
              now,
              expected !== null,
            ),
          };
        }
        const bumped = metadata.prepareIncrementProducerEpoch(
          transactionTimeoutMs,
          expected === null ? null : expected.producerEpoch,
          now,
        );
        return 'transition' in bumped ? bumped : { errorCode: ErrorCode.PRODUCER_FENCED };
      }
      case 'Ongoing':
        return { transition: metadata.prepareFenceProducerEpoch() };
      case 'Dead':
      case 'PrepareEpochFence':
        // Never a settled state: Dead and PrepareEpochFence only ever pend.
        throw new Error(`${metadata.transactionalId} is in state ${metadata.state}`);
    }
  }

  private async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    fromClient: boolean,
  ): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const found = this.lookup(transactionalId);
    if ('errorCode' in found) return found.errorCode;
    const { entry, metadata } = found;
    if (metadata === undefined || metadata.producerId !== producerId)
      return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // A client must name the current epoch; the coordinator's own aborts carry a bumped one.
    if ((fromClient && producerEpoch !== metadata.producerEpoch) || producerEpoch < metadata.producerEpoch) {
      return ErrorCode.PRODUCER_FENCED;
    }
    if (metadata.pendingState !== null && metadata.pendingState !== 'PrepareEpochFence') {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    let isEpochFence = false;
    let transition: TransactionTransition;
    switch (metadata.state) {
      case 'Ongoing':
        if (!commit && metadata.pendingState === 'PrepareEpochFence') {
          isEpochFence = true;
          metadata.beginFencedAbort(producerEpoch);
        }
        transition = metadata.prepareAbortOrCommit(
          commit ? 'PrepareCommit' : 'PrepareAbort',
          this.scheduler.nowMs(),
        );
        break;
      // A retry of an EndTxn that completed, or one still under way.
      case 'CompleteCommit':
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case 'PrepareCommit':
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case 'PrepareAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case 'Empty':
        return ErrorCode.INVALID_TXN_STATE;
      case 'Dead':
      case 'PrepareEpochFence':
        throw new Error(`${transactionalId} is in state ${metadata.state}`);
    }
    // Once Prepare* is durable the outcome is decided: should the partition change hands before the markers
    // are written, its next owner finds Prepare* in the log and completes the transaction. The client is told
    // NONE rather than NOT_COORDINATOR, as Kafka answers EndTxn once Prepare* is written: kafkajs does not
    // retry EndTxn, so NOT_COORDINATOR would leave it believing a committed transaction failed.
    const { errorCode, durable } = await this.appendTransition(entry, metadata, transition, false);
    if (durable) {
      // NOT_COORDINATOR here means the record is written but the partition is no longer ours.
      if (errorCode === ErrorCode.NONE) {
        const complete = metadata.prepareComplete(this.scheduler.nowMs());
        await this.completeTransaction(entry, metadata, complete, commit);
      }
      return ErrorCode.NONE;
    }
    if (isEpochFence && this.isCurrent(entry)) metadata.hasFailedEpochFence = true;
    return errorCode;
  }

  /**
   * Writes the markers (all partitions at once, retrying the failed ones with backoff), then the Complete*
   * state (retried likewise). Stops with NOT_COORDINATOR once the partition is no longer ours.
   */
  private async completeTransaction(
    entry: PartitionEntry,
    metadata: TransactionMetadata,
    complete: TransactionTransition,
    commit: boolean,
  ): Promise<number> {
    const marker: TransactionMarker = {
      producerId: complete.producerId,
      producerEpoch: complete.producerEpoch,
      coordinatorEpoch: entry.coordinatorEpoch,
      commit,
    };
    let backoffMs = INITIAL_RETRY_BACKOFF_MS;
    let pending = metadata.partitionList();
    while (pending.length > 0) {
      const results = await Promise.all(
        pending.map((tp) =>
          this.markers
            .write(tp.topic, tp.partition, marker)
            .catch((error: unknown) => markerErrorCode(error)),
        ),
      );
      if (!this.isCurrent(entry)) return ErrorCode.NOT_COORDINATOR;
      const retry: TopicPartition[] = [];
      results.forEach((errorCode, i) => {
        const tp = pending[i]!;
        switch (errorCode) {
          case ErrorCode.NONE:
            break;
          // The topic is gone: no reader is left to see the marker.
          case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
          // The partition already holds a newer epoch of this producer, which ended this transaction there.
          case ErrorCode.INVALID_PRODUCER_EPOCH:
            this.logger.warn(
              `no ${commit ? 'commit' : 'abort'} marker for ${metadata.transactionalId} in ` +
                `${tp.topic}-${tp.partition}: error ${errorCode}`,
            );
            break;
          default:
            retry.push(tp);
            return;
        }
        metadata.removePartition(tp);
      });
      pending = retry;
      if (pending.length > 0) {
        this.logger.warn(
          `retrying markers of ${metadata.transactionalId} for ${pending.length} partitions in ${backoffMs} ms`,
        );
        await this.delay(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_RETRY_BACKOFF_MS);
        if (!this.isCurrent(entry)) return ErrorCode.NOT_COORDINATOR;
      }
    }
    backoffMs = INITIAL_RETRY_BACKOFF_MS;
    for (;;) {
      const { errorCode } = await this.appendTransition(entry, metadata, complete, true);
      if (errorCode === ErrorCode.NONE || !this.isCurrent(entry)) return errorCode;
      this.logger.warn(
        `retrying ${complete.state} of ${metadata.transactionalId} in ${backoffMs} ms: error ${errorCode}`,
      );
      await this.delay(backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_RETRY_BACKOFF_MS);
      if (!this.isCurrent(entry)) return ErrorCode.NOT_COORDINATOR;
    }
  }

  /**
   * Writes `transition` for the id and applies it once durable. On failure the pending change is dropped,
   * unless `keepPending` (the caller retries it). `durable` says the record was written, even when the
   * partition changed hands meanwhile (NOT_COORDINATOR: the new owner, not this one, applies it).
   */
  private async appendTransition(
    entry: PartitionEntry,
    metadata: TransactionMetadata,
    transition: TransactionTransition,
    keepPending: boolean,
  ): Promise<{ errorCode: number; durable: boolean }> {
    const { transactionalId } = metadata;
    if (!this.isCurrent(entry) || entry.transactions.get(transactionalId) !== metadata) {
      return { errorCode: ErrorCode.NOT_COORDINATOR, durable: false };
    }
    let errorCode: number = ErrorCode.NONE;
    try {
      await this.log.append(entry.partition, [
        {
          key: encodeTransactionLogKey(transactionalId),
          value: encodeTransactionLogValue({
            producerId: transition.producerId,
            producerEpoch: transition.producerEpoch,
            transactionTimeoutMs: transition.txnTimeoutMs,
            state: transition.state,
            partitions: [...transition.partitions],
            lastUpdateTimestampMs: transition.txnLastUpdateTimestamp,
            startTimestampMs: transition.txnStartTimestamp,
          }),
        },
      ]);
    } catch (error) {
      errorCode = appendErrorCode(error);
    }
    // The partition may have changed hands while the write was under way: its new owner replays the log.
    const durable = errorCode === ErrorCode.NONE;
    if (!this.isCurrent(entry) || entry.transactions.get(transactionalId) !== metadata) {
      return { errorCode: durable ? ErrorCode.NOT_COORDINATOR : errorCode, durable };
    }
    if (!durable) {
      if (!keepPending) metadata.abandonTransition();
      return { errorCode, durable };
    }
    const previousProducerId = metadata.producerId;
    metadata.completeTransition(transition);
    if (metadata.producerId !== previousProducerId) {
      this.unindex(previousProducerId, metadata);
      this.byProducerId.set(metadata.producerId, metadata);
    }
    return { errorCode: ErrorCode.NONE, durable };
  }

  private lookup(transactionalId: string): Lookup {
    const entry = this.partitions.get(this.partitionFor(transactionalId));
    if (entry === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR };
    if (entry.loading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    return { entry, metadata: entry.transactions.get(transactionalId) };
  }

  private isCurrent(entry: PartitionEntry): boolean {
    return this.partitions.get(entry.partition) === entry;
  }

  private unindex(producerId: number, metadata: TransactionMetadata): void {
    if (this.byProducerId.get(producerId) === metadata) this.byProducerId.delete(producerId);
  }

  private async allocateProducerId(): Promise<number | InitProducerIdResult> {
    try {
      return await this.producerIds.nextProducerId();
    } catch (error) {
      // The store is closed or failed: a retriable code would keep the producer retrying quietly.
      this.logger.warn(`could not allocate a producer id: ${error}`);
      return initError(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  private logCompletion(transactionalId: string, what: string, errorCode: number): void {
    if (errorCode === ErrorCode.NONE) this.logger.info(`${what} of ${transactionalId} done`);
    else this.logger.warn(`${what} of ${transactionalId} stopped with error ${errorCode}`);
  }

  private repeat(intervalMs: number, task: () => void): void {
    const schedule = () => {
      const handle = this.scheduler.setTimeout(() => {
        this.timers.delete(handle);
        if (!this.active) return;
        task();
        schedule();
      }, intervalMs);
      this.timers.add(handle);
    };
    schedule();
  }

  /** Waits `ms` on the scheduler; shutdown ends every wait at once. */
  private delay(ms: number): Promise<void> {
    if (!this.active) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        handle: this.scheduler.setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}

function initError(errorCode: number): InitProducerIdResult {
  return { errorCode, producerId: -1, producerEpoch: NO_PRODUCER_EPOCH };
}

/** Kafka's translation of a failed __transaction_state append into what the client is told. */
function appendErrorCode(error: unknown): number {
  const code = errorCodeOf(error);
  switch (code) {
    // A failure of the log without a Kafka code: transient, as far as the client can tell.
    case undefined:
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

function markerErrorCode(error: unknown): number {
  return errorCodeOf(error) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
}
