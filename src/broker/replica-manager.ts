// The partitions this broker hosts and the produce/fetch paths through them. It keeps, per partition, the
// replica state the metadata store assigns (leader, leader epoch, replicas, ISR) next to its log, and
// applies the topic's configs on the way in (validation, compression.type, timestamp type, size limits).
import type { PooledBuffer } from '../common/buffer-pool.js';
import { forEachConcurrently } from '../common/concurrency.js';
import type { BrokerConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { TransactionVerifier } from '../coordinator/transactions/index.js';
import type { MetadataStore, PartitionRecord, TopicRecord } from '../metadata/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  type BatchSetSummary,
  type BatchSummary,
  type CodecIdValue,
  convertLegacyToBatch,
  type DecodedRecord,
  decodeRecordBatchesAsync,
  isLegacyMessageSet,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  readInt64,
  recompressBatch,
  stampLogAppendTime,
  validateBatches,
  writeMaxTimestamps,
} from '../protocol/records/index.js';
import {
  type AbortedTransaction,
  deletesByRetention,
  type LogManager,
  type PartitionLog,
  type ReadResult,
  releaseRead,
  StorageError,
  type TransactionMarker,
} from '../storage/index.js';
import { MemoryBudget } from './memory-budget.js';
import { FetchPurgatory } from './purgatory.js';
import { type PartitionSettings, partitionSettings } from './topic-settings.js';

export interface HostedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  topicId: string;
  /** A partition of a topic the broker itself writes (__consumer_offsets): clients may not append or delete. */
  readonly internal: boolean;
  log: PartitionLog;
  state: PartitionRecord;
  settings: PartitionSettings;
}

export interface ProduceOutcome {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface FetchPartitionResult {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  chunks: Buffer[];
  bytes: number;
  /** Pooled buffers `chunks` point into: released (releaseRead) once the response is written. */
  holds: PooledBuffer[];
  divergingEpoch: { epoch: number; endOffset: number } | null;
  /** read_committed: the aborted transactions overlapping the records returned; null for read_uncommitted. */
  abortedTransactions: AbortedTransaction[] | null;
}

export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
}

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;
/** DeleteRecords' offset meaning "everything below the high watermark". */
const HIGH_WATERMARK = -1;

const ZSTD_CODEC = 4;
/** Logs created at once when metadata brings new partitions. */
const PARTITION_OPEN_CONCURRENCY = 16;

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaManager {
  readonly purgatory = new FetchPurgatory();
  /** Bytes of records that Fetch responses hold until written (fetch.memory.bytes). */
  readonly fetchMemory: MemoryBudget;
  private readonly partitions = new Map<string, HostedPartition>();
  /** The same partitions by topic, indexed by partition: a Fetch names hundreds per topic. */
  private readonly partitionsByTopic = new Map<string, (HostedPartition | undefined)[]>();
  private syncing: Promise<void> = Promise.resolve();
  /** The pass queued behind the running one, not started yet. */
  private queuedPass: Promise<void> | null = null;
  private readonly syncListeners = new Set<() => void>();
  private transactionVerifier: TransactionVerifier | null = null;
  private closed = false;

  constructor(
    private readonly nodeId: number,
    private readonly config: BrokerConfig,
    private readonly metadata: MetadataStore,
    private readonly logs: LogManager,
    private readonly logger: Logger,
  ) {
    this.fetchMemory = new MemoryBudget(config.fetchMemoryBytes);
  }

  get(topic: string, partition: number): HostedPartition | undefined {
    return this.partitionsByTopic.get(topic)?.[partition];
  }

  hostedPartitions(): IterableIterator<HostedPartition> {
    return this.partitions.values();
  }

  /**
   * Brings hosted partitions in line with the metadata store: opens logs for new replicas, applies changed
   * configs and replica state, deletes logs of deleted topics. Runs serialised; callers await the pass that
   * covers their change.
   */
  syncWithMetadata(): Promise<void> {
    // A pass that has not started yet reads the metadata when it starts, so it covers this caller's change
    // too: the topics of one CreateTopics request share a pass instead of queueing one each.
    if (this.queuedPass !== null) return this.queuedPass;
    const pass = this.syncing.then(() => {
      this.queuedPass = null;
      return this.syncOnce();
    });
    this.queuedPass = pass;
    this.syncing = pass.catch((error: unknown) => {
      this.logger.error({ err: error }, 'applying metadata to hosted partitions failed');
    });
    return pass;
  }

  /** Called after each pass of syncWithMetadata, when hosted partitions may have changed. */
  onSynced(listener: () => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  private async syncOnce(): Promise<void> {
    if (this.closed) return;
    const wanted = new Map<string, { topic: TopicRecord; state: PartitionRecord }>();
    for (const topic of this.metadata.listTopics()) {
      for (const state of topic.partitions) {
        if (state.replicas.includes(this.nodeId)) {
          wanted.set(partitionKey(topic.name, state.partition), { topic, state });
        }
      }
    }
    for (const [key, hosted] of this.partitions) {
      const next = wanted.get(key);
      if (next === undefined || next.topic.topicId !== hosted.topicId) {
        this.partitions.delete(key);
        const siblings = this.partitionsByTopic.get(hosted.topic);
        if (siblings !== undefined) {
          siblings[hosted.partition] = undefined;
          if (siblings.every((sibling) => sibling === undefined)) this.partitionsByTopic.delete(hosted.topic);
        }
        await this.logs.deletePartition(hosted.topic, hosted.partition);
      }
    }
    const opening: {
      key: string;
      topic: TopicRecord;
      state: PartitionRecord;
      settings: PartitionSettings;
    }[] = [];
    for (const [key, { topic, state }] of wanted) {
      const settings = partitionSettings(this.config, topic.configs);
      const existing = this.partitions.get(key);
      if (existing !== undefined) {
        existing.state = state;
        existing.settings = settings;
        existing.log.updateConfig(settings.log);
      } else {
        opening.push({ key, topic, state, settings });
      }
    }
    // Several at a time: creating a log waits on a few fsyncs, and a topic may have thousands of partitions.
    await forEachConcurrently(
      opening,
      PARTITION_OPEN_CONCURRENCY,
      async ({ key, topic, state, settings }) => {
        const log = await this.logs.getOrCreate(topic.name, state.partition, settings.log);
        const hosted: HostedPartition = {
          topic: topic.name,
          partition: state.partition,
          key,
          topicId: topic.topicId,
          internal: topic.internal,
          log,
          state,
          settings,
        };
        log.onAppend(() => this.purgatory.notifyAppend(key));
        this.partitions.set(key, hosted);
        let siblings = this.partitionsByTopic.get(hosted.topic);
        if (siblings === undefined) {
          siblings = [];
          this.partitionsByTopic.set(hosted.topic, siblings);
        }
        siblings[hosted.partition] = hosted;
      },
    );
    for (const listener of this.syncListeners) listener();
  }

  /**
   * Lets transactional batches in: each is written only when `verifier` says its partition is part of its
   * producer's ongoing transaction. Until one is set they are refused with INVALID_TXN_STATE.
   */
  setTransactionVerifier(verifier: TransactionVerifier): void {
    this.transactionVerifier = verifier;
  }

  /**
   * Validates and appends one partition's records from a Produce request. Everything up to the log append
   * is synchronous, so pipelined requests on one connection get offsets in request order.
   */
  appendRecords(
    topic: string,
    partition: number,
    records: Buffer | null,
    acks: number,
    produceVersion: number,
    transactionalId: string | null,
  ): Promise<ProduceOutcome> {
    const hosted = this.get(topic, partition);
    if (hosted === undefined) return Promise.resolve(failedProduce(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    if (hosted.internal) {
      // Only the broker writes its own records there; anything else would stop the coordinator loading it.
      return Promise.resolve(
        failedProduce(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic}`),
      );
    }
    if (hosted.state.leader !== this.nodeId)
      return Promise.resolve(failedProduce(ErrorCode.NOT_LEADER_OR_FOLLOWER));
    const { settings } = hosted;
    // Before the records are looked at, as Kafka's leader does.
    if (acks === -1 && hosted.state.isr.length < settings.minInsyncReplicas) {
      return Promise.resolve(
        failedProduce(
          ErrorCode.NOT_ENOUGH_REPLICAS,
          `${hosted.state.isr.length} in-sync replicas, min.insync.replicas is ${settings.minInsyncReplicas}`,
        ),
      );
    }
    if (records === null || records.length === 0) {
      return Promise.resolve(
        failedProduce(ErrorCode.INVALID_RECORD, 'the produce request carries no records'),
      );
    }
    let batches: Buffer;
    try {
      batches = this.prepareBatches(records, produceVersion, hosted, transactionalId);
    } catch (error) {
      if (error instanceof KafkaError) return Promise.resolve(failedProduce(error.code, error.message));
      throw error;
    }
    const logAppendTimeMs = settings.logAppendTime ? Date.now() : -1;
    if (logAppendTimeMs >= 0) stampLogAppendTime(batches, logAppendTimeMs);
    return hosted.log.append(batches, hosted.state.leaderEpoch).then(
      (result) => ({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        baseOffset: result.baseOffset,
        logAppendTimeMs,
        logStartOffset: result.logStartOffset,
      }),
      (error: unknown) => {
        const code = expectedErrorCode(error);
        if (code !== null) return failedProduce(code, (error as Error).message);
        this.logger.error({ err: error, topic, partition }, 'append failed');
        return failedProduce(ErrorCode.KAFKA_STORAGE_ERROR, 'the broker could not write to its log');
      },
    );
  }

  private prepareBatches(
    records: Buffer,
    produceVersion: number,
    hosted: HostedPartition,
    transactionalId: string | null,
  ): Buffer {
    const { settings } = hosted;
    let batches = records;
    if (isLegacyMessageSet(records)) {
      if (produceVersion >= 3) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, 'Produce v3+ requires record batches of magic 2');
      }
      batches = convertLegacyToBatch(records);
    }
    const summary = validateBatches(batches, {
      maxBatchBytes: settings.maxMessageBytes,
      maxTotalBytes: settings.log.segmentBytes,
      requireKeys: settings.compacted,
    });
    if (produceVersion >= 3 && summary.batches.length > 1) {
      // Kafka's ProduceRequest rule since v3: the leader checks an idempotent producer's sequences batch by
      // batch, and one batch per partition per request is what every client sends.
      throw new KafkaError(
        ErrorCode.INVALID_RECORD,
        `Produce requests with version ${produceVersion} are only allowed to contain exactly one record batch per partition`,
      );
    }
    writeMaxTimestamps(batches, summary);
    for (const batch of summary.batches) {
      if (batch.codec === ZSTD_CODEC && produceVersion < 7) {
        throw new KafkaError(
          ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
          'zstd needs Produce v7 or later (KIP-110)',
        );
      }
      if (batch.isControl) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, 'producers may not write control batches');
      }
      if (batch.isTransactional) this.verifyTransactionalBatch(batch, hosted, transactionalId);
    }
    if (settings.compressionCodec !== null) {
      batches = recompressBatches(batches, summary, settings.compressionCodec);
    }
    return batches;
  }

  /** Throws the KafkaError a transactional batch is refused with, unless its transaction may write here. */
  private verifyTransactionalBatch(
    batch: BatchSummary,
    hosted: HostedPartition,
    transactionalId: string | null,
  ): void {
    const { producerId, producerEpoch } = batch;
    if (transactionalId === null) {
      // Kafka refuses transactional records sent without a transactional id (there the whole request).
      throw new KafkaError(
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        'transactional records need the transactional id of their producer',
      );
    }
    const code =
      this.transactionVerifier === null
        ? ErrorCode.INVALID_TXN_STATE
        : this.transactionVerifier.verifyTransactionalProduce(
            producerId,
            producerEpoch,
            hosted.topic,
            hosted.partition,
          );
    if (code !== ErrorCode.NONE) {
      throw new KafkaError(
        code,
        `transaction verification refused producer ${producerId} (epoch ${producerEpoch}) writing to ${hosted.topic}-${hosted.partition}`,
      );
    }
  }

  /**
   * Writes a transaction marker (the coordinator's COMMIT or ABORT) into a partition this broker leads, as
   * Kafka's WriteTxnMarkers does. Resolves with a Kafka error code, NONE once the marker is as durable as the
   * partition's flush policy makes any append; never rejects.
   */
  async writeTransactionMarker(topic: string, partition: number, marker: TransactionMarker): Promise<number> {
    const hosted = this.get(topic, partition);
    if (hosted === undefined) {
      // Known to the metadata but not opened yet is a moment to retry through, as for a replica elsewhere.
      const known = this.metadata.getTopic(topic)?.partitions[partition] !== undefined;
      return known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (!this.isLeader(hosted)) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    // Markers are written with acks=all in Kafka, so the leader applies min.insync.replicas to them too.
    if (hosted.state.isr.length < hosted.settings.minInsyncReplicas) return ErrorCode.NOT_ENOUGH_REPLICAS;
    try {
      await hosted.log.appendTransactionMarker(marker, hosted.state.leaderEpoch);
      return ErrorCode.NONE;
    } catch (error) {
      const code = expectedErrorCode(error);
      if (code !== null) return code;
      this.logger.error({ err: error, topic, partition }, 'writing a transaction marker failed');
      return ErrorCode.KAFKA_STORAGE_ERROR;
    }
  }

  /**
   * Reads one partition for a consumer Fetch. Never throws for per-partition conditions. Answers at once,
   * without a promise, when there is nothing to read: a consumer of many idle partitions asks for all of them
   * in every Fetch.
   */
  readPartition(
    hosted: HostedPartition,
    fetchOffset: number,
    maxBytes: number,
    isolationLevel: number,
    minOneBatch: boolean,
  ): FetchPartitionResult | Promise<FetchPartitionResult> {
    const { log } = hosted;
    const highWatermark = log.highWatermark;
    const lastStableOffset = this.lastStableOffset(hosted);
    const readCommitted = isolationLevel === READ_COMMITTED;
    const result: FetchPartitionResult = {
      errorCode: ErrorCode.NONE,
      highWatermark,
      lastStableOffset,
      logStartOffset: log.logStartOffset,
      chunks: [],
      bytes: 0,
      holds: [],
      divergingEpoch: null,
      abortedTransactions: readCommitted ? [] : null,
    };
    if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
      result.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
      result.abortedTransactions = null;
      return result;
    }
    // read_committed consumers see nothing of a transaction until its marker: the LSO is their end of log.
    const maxOffset = readCommitted ? lastStableOffset : highWatermark;
    if (fetchOffset >= maxOffset || maxBytes <= 0) return result;
    return this.readInto(hosted, result, fetchOffset, maxBytes, maxOffset, minOneBatch);
  }

  private async readInto(
    hosted: HostedPartition,
    result: FetchPartitionResult,
    fetchOffset: number,
    maxBytes: number,
    maxOffset: number,
    minOneBatch: boolean,
  ): Promise<FetchPartitionResult> {
    const { log } = hosted;
    let read: ReadResult | null = null;
    try {
      read = await log.read(fetchOffset, maxBytes, { maxOffset, minOneBatch });
      if (result.abortedTransactions !== null && read.bytes > 0) {
        // Only those the consumer needs to filter what it gets: the ones overlapping the records returned.
        result.abortedTransactions = await log.abortedTransactions(fetchOffset, nextOffsetAfter(read.chunks));
      }
      result.chunks = read.chunks;
      result.bytes = read.bytes;
      result.holds = read.holds;
    } catch (error) {
      if (read !== null) releaseRead(read);
      result.abortedTransactions = null;
      const code = expectedErrorCode(error);
      if (code !== null) {
        result.errorCode = code;
      } else {
        this.logger.error({ err: error, topic: hosted.topic, partition: hosted.partition }, 'read failed');
        result.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      }
    }
    return result;
  }

  /**
   * ListOffsets by timestamp: the first record at or after `timestampMs`. The log's time index finds the
   * batch; the batch is decoded to find the record, since a batch spans a range of timestamps.
   */
  async offsetForTimestamp(hosted: HostedPartition, timestampMs: number): Promise<TimestampAndOffset | null> {
    const batch = await hosted.log.offsetForTimestamp(timestampMs);
    if (batch === null) return null;
    const record = await this.findRecord(hosted, batch.offset, (r) => r.timestamp >= timestampMs);
    return record === null ? batch : { offset: record.offset, timestamp: record.timestamp };
  }

  /** ListOffsets MAX_TIMESTAMP (KIP-734): the first record carrying the partition's largest timestamp. */
  async maxTimestampOffset(hosted: HostedPartition): Promise<TimestampAndOffset | null> {
    const batch = await hosted.log.maxTimestampOffset();
    if (batch === null) return null;
    const record = await this.findRecord(hosted, batch.offset, (r) => r.timestamp === batch.timestamp, true);
    return record === null ? batch : { offset: record.offset, timestamp: record.timestamp };
  }

  /** The first record of the batch holding `offset` (at or after it, unless `wholeBatch`) that matches. */
  private async findRecord(
    hosted: HostedPartition,
    offset: number,
    matches: (record: DecodedRecord) => boolean,
    wholeBatch = false,
  ): Promise<DecodedRecord | null> {
    const read = await hosted.log.read(offset, 1, { minOneBatch: true });
    try {
      const { chunks } = read;
      const first = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      for (const batch of await decodeRecordBatchesAsync(first)) {
        for (const record of batch.records) {
          if ((wholeBatch || record.offset >= offset) && matches(record)) return record;
        }
      }
      return null;
    } finally {
      releaseRead(read);
    }
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (-1: the high watermark) and deletes the whole
   * segments below it. The answer's low watermark is the log start offset afterwards, as Kafka's leader
   * reports it; an offset at or below it changes nothing.
   */
  async deleteRecords(
    hosted: HostedPartition,
    offset: number,
  ): Promise<{ errorCode: number; lowWatermark: number }> {
    const { log } = hosted;
    const failed = (errorCode: number) => ({ errorCode, lowWatermark: -1 });
    if (hosted.internal) return failed(ErrorCode.INVALID_TOPIC_EXCEPTION);
    if (!this.isLeader(hosted)) return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    // A compacted topic keeps its latest value per key; only a delete policy lets records go by offset.
    if (!deletesByRetention(hosted.settings.log)) return failed(ErrorCode.POLICY_VIOLATION);
    const target = offset === HIGH_WATERMARK ? log.highWatermark : offset;
    try {
      // Outside [0, high watermark] the log refuses with OFFSET_OUT_OF_RANGE, checked under its own lock.
      return { errorCode: ErrorCode.NONE, lowWatermark: await log.deleteRecordsBefore(target) };
    } catch (error) {
      const code = expectedErrorCode(error);
      if (code !== null) return failed(code);
      this.logger.error(
        { err: error, topic: hosted.topic, partition: hosted.partition },
        'delete records failed',
      );
      return failed(ErrorCode.KAFKA_STORAGE_ERROR);
    }
  }

  /** Where read_committed consumers stop: the high watermark, or the first offset of the oldest open transaction. */
  lastStableOffset(hosted: HostedPartition): number {
    return hosted.log.lastStableOffset;
  }

  /** Kafka's check of the epoch a client believes the leader has (KIP-320). */
  checkLeaderEpoch(hosted: HostedPartition, currentLeaderEpoch: number): number {
    if (currentLeaderEpoch < 0) return ErrorCode.NONE;
    if (currentLeaderEpoch < hosted.state.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (currentLeaderEpoch > hosted.state.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    return ErrorCode.NONE;
  }

  isLeader(hosted: HostedPartition): boolean {
    return hosted.state.leader === this.nodeId;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.purgatory.close();
    await this.syncing;
  }
}

/** Re-encodes batches whose codec differs from the topic's compression.type. */
function recompressBatches(batches: Buffer, summary: BatchSetSummary, codec: CodecIdValue): Buffer {
  if (summary.batches.every((batch) => batch.codec === codec)) return batches;
  return Buffer.concat(
    summary.batches.map((batch) =>
      recompressBatch(batches.subarray(batch.position, batch.position + batch.length), codec),
    ),
  );
}

/** The offset after the last batch in `chunks` (whole batches, at least one). */
function nextOffsetAfter(chunks: readonly Buffer[]): number {
  const last = chunks[chunks.length - 1]!;
  let next = -1;
  for (let at = 0; at < last.length; at += LOG_OVERHEAD + last.readInt32BE(at + BATCH_LENGTH_OFFSET)) {
    next = readInt64(last, at + BASE_OFFSET_OFFSET) + last.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1;
  }
  return next;
}

/** The Kafka error code of an error that is an answer to the client rather than a broker fault. */
function expectedErrorCode(error: unknown): number | null {
  if (error instanceof KafkaError) return error.code;
  if (error instanceof StorageError && error.errorCode !== ErrorCode.KAFKA_STORAGE_ERROR)
    return error.errorCode;
  return null;
}

function failedProduce(errorCode: number, errorMessage: string | null = null): ProduceOutcome {
  return { errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
}
