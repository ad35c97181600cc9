import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferPool, type PooledBuffer } from '../common/buffer-pool.js';
import { encodeRecordBatch } from '../protocol/records/batch.js';
import {
  BASE_OFFSET_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readInt64,
  writeInt64,
} from '../protocol/records/layout.js';
import { type BatchHeader, batchSizeAt, readBatchHeader } from './batch.js';
import {
  CheckpointFile,
  LeaderEpochCache,
  offsetCheckpointText,
  readOffsetCheckpoint,
  syncDirectory,
  writeFileAtomically,
} from './checkpoint.js';
import {
  DEFAULT_MAX_INDEX_ENTRIES,
  deletesByRetention,
  type LogConfig,
  validateLogConfig,
} from './config.js';
import {
  asStorageError,
  CorruptBatchError,
  FencedLeaderEpochError,
  KafkaStorageError,
  OffsetOutOfRangeError,
  type StorageError,
} from './errors.js';
import {
  type AppendOrigin,
  type DuplicateBatch,
  hasProducerBatches,
  ProducerStateManager,
  type ProducerStateSummary,
  removeSnapshots,
  replaySegments,
  snapshotFileName,
  snapshotOffsets,
  writeSnapshot,
} from './producer-state.js';
import { FileHandlePool, IndexCache, type SegmentIndexes, type StorageResources } from './resources.js';
import {
  LOG_SUFFIX,
  LogSegment,
  MAX_RELATIVE_OFFSET,
  OFFSET_INDEX_SUFFIX,
  parseSegmentFileName,
  readFully,
  scanSegment,
  TIME_INDEX_SUFFIX,
} from './segment.js';
import { SerialQueue } from './serial-queue.js';
import { type ReadResult, releaseRead, TailCache, TailCacheBudget } from './tail-cache.js';
import { type AbortedTransaction, TransactionIndex, TXN_INDEX_SUFFIX } from './txn-index.js';

export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';
export const RECOVERY_POINT_FILE = 'recovery-point-checkpoint';
export const LOG_START_OFFSET_FILE = 'log-start-offset-checkpoint';
export const LEADER_EPOCH_FILE = 'leader-epoch-checkpoint';
export const DELETED_SUFFIX = '.deleted';
const EMPTY = Buffer.alloc(0);

/** writev takes at most IOV_MAX (1024 on Linux) buffers. */
const MAX_WRITE_BUFFERS = 1024;
const MAX_WRITE_GROUP_BYTES = 64 * 1024 * 1024;
const MIN_READ_WINDOW_BYTES = 64 * 1024;
/**
 * Reads go through pooled windows of at most this size (a batch larger than it gets a window of its own).
 * One megabyte is one syscall per megabyte, and a size class of its own, so windows released by one
 * response are exactly what the next read asks for.
 */
const MAX_READ_WINDOW_BYTES = 1024 * 1024;
const HEADER_WINDOW_BYTES = 64 * 1024;

export const DEFAULT_TAIL_CACHE_BYTES = 4 * 1024 * 1024;
const MIN_TAIL_CHUNK_BYTES = 16 * 1024;
const MAX_TAIL_CHUNK_BYTES = 256 * 1024;

/** pino-compatible: structured fields first, message second. */
export interface StorageLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const silentLogger: StorageLogger = { info() {}, warn() {}, error() {} };

export interface PartitionLogOptions {
  logger?: StorageLogger;
  nowMs?: () => number;
  /** Shared bounds (handles, index cache, tail cache budget); LogManager passes its own. */
  resources?: StorageResources;
  /** Tail cache bytes for this log (default 4 MiB); 0 disables it. */
  tailCacheBytes?: number;
  /** When true (default) the log advances its high watermark as appends complete (single node). */
  manageHighWatermark?: boolean;
}

let defaultResources: StorageResources | null = null;

/** Free buffers kept for reuse by logs that were not given a pool. */
const DEFAULT_FREE_BUFFER_BYTES = 8 * 1024 * 1024;

/** The bounds used by logs opened without a LogManager. */
export function sharedStorageResources(): StorageResources {
  defaultResources ??= createStorageResources({});
  return defaultResources;
}

/** Bytes all tail caches of a process hold together, unless told otherwise. */
export const DEFAULT_TAIL_CACHE_BUDGET_BYTES = 16 * 1024 * 1024;

export function createStorageResources(limits: {
  maxOpenFiles?: number;
  indexCacheBytes?: number;
  tailCacheBytes?: number;
  bufferPool?: BufferPool;
}): StorageResources {
  return {
    backgroundSyncs: new SerialQueue(),
    fileHandles: new FileHandlePool(limits.maxOpenFiles ?? 128),
    indexCache: new IndexCache(limits.indexCacheBytes ?? 16 * 1024 * 1024),
    tailCacheBudget: new TailCacheBudget(limits.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BUDGET_BYTES),
    bufferPool: limits.bufferPool ?? new BufferPool(DEFAULT_FREE_BUFFER_BYTES),
  };
}

/** An end-transaction marker the transaction coordinator writes into the partition. */
export interface TransactionMarker {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
}

/** What a fetch gets when no transaction was aborted: shared, frozen, never to be modified. */
const NO_ABORTED_TRANSACTIONS: Promise<AbortedTransaction[]> = Promise.resolve(
  Object.freeze([]) as unknown as AbortedTransaction[],
);
const CONTROL_RECORD_VERSION = 0;

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  logStartOffset: number;
}

export interface ReadOptions {
  /** Exclusive bound on the offsets returned; defaults to the high watermark. */
  maxOffset?: number;
  /** Return the first batch whole even when it is larger than maxBytes (KIP-74). */
  minOneBatch?: boolean;
}

/** Counters for tests and metrics. */
export interface LogStats {
  appends: number;
  writevCalls: number;
  fsyncCalls: number;
  bytesWritten: number;
  segmentsRolled: number;
  /** Rolls made durable behind the appends (persistRoll finished). */
  rollsPersisted: number;
}

interface AppendJob {
  readonly segment: LogSegment;
  readonly data: Buffer;
  /** Keeps `data` (a tail-cache chunk) from being reused until it is written. */
  readonly hold: PooledBuffer | null;
  readonly position: number;
  /** The log end offset once this job is written. */
  readonly endOffset: number;
  readonly result: AppendResult | null;
  readonly resolve: (result: AppendResult) => void;
  /** For a roll (no data): called once the writer has sealed the previous segment. */
  readonly rolled: (() => void) | null;
  readonly reject: (error: Error) => void;
}

interface FlushWaiter {
  readonly targetOffset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The batch at `position` in a sealed segment did not match its index entry: rebuild the index and retry. */
class StaleIndexError extends Error {}

/**
 * One partition's write-ahead log: segments of Kafka record batches with sparse indexes, a group-committing
 * writer, crash recovery on open, retention, truncation and a leader epoch cache.
 *
 * Appends get their offsets synchronously, in call order; the bytes are then written by a single writer
 * loop that coalesces every append queued meanwhile into one writev and, when the flush policy asks for it,
 * one fdatasync. Reads never see bytes before they are written.
 */
export class PartitionLog {
  readonly stats: LogStats = {
    appends: 0,
    writevCalls: 0,
    fsyncCalls: 0,
    bytesWritten: 0,
    segmentsRolled: 0,
    rollsPersisted: 0,
  };
  private config: LogConfig;
  private readonly logger: StorageLogger;
  private readonly nowMs: () => number;
  private readonly resources: StorageResources;
  private readonly manageHighWatermark: boolean;
  private readonly tail: TailCache;
  private epochs: LeaderEpochCache;
  private segments: LogSegment[] = [];
  /** The offset the next append gets. */
  private nextOffset = 0;
  /** Every offset below is in the file (the log end offset readers see). */
  private writtenOffset = 0;
  /** Every offset below is fsynced in its segment (rolled segments may still have their own fsync to come). */
  private syncedOffset = 0;
  /** Every offset below is durable: fsynced, and so is every segment before its own. */
  private flushedOffset = 0;
  private recoveryPointFile: CheckpointFile;
  private startOffset = 0;
  private logStartOffsetFile: CheckpointFile;
  /**
   * The clean-shutdown marker stays from a clean open until the first change, so that a log nothing changed
   * in is opened and closed without writing (thousands of idle partitions restart in no time). It goes,
   * durably, before anything in the log changes on disk.
   */
  private cleanMarkerOnDisk = false;
  private cleanMarkerRemoval: Promise<void> | null = null;
  /** Something changed the log on disk since it was opened. */
  private changedSinceOpen = false;
  /** Opened as a log that was never written (one empty segment at 0, no checkpoints): nothing to recover. */
  private openedNew = false;
  private highWatermarkOffset = 0;
  private pending: AppendJob[] = [];
  private flushWaiters: FlushWaiter[] = [];
  private writerRunning = false;
  private writerSegment: LogSegment | null = null;
  /** The work that makes rolls durable (persistRoll), in roll order; never rejects (a failure fails the log). */
  private rollsDurable: Promise<void> = Promise.resolve();
  /** Rolls whose persistRoll has not finished: until none is left, flushedOffset stops at the oldest. */
  private rollsPending = 0;
  /**
   * The writer segment's directory entry made durable, by the first fsync of the segment that needs it; null
   * until then. Nothing else does: the recovery point passing a roll covers only the rolled segment.
   */
  private writerEntryDurable: Promise<void> | null = Promise.resolve();
  private epochsDirty = false;
  private failure: StorageError | null = null;
  private closed = false;
  private truncating = false;
  private lastFlushMs: number;
  private readonly listeners = new Set<(logEndOffset: number) => void>();
  /** Retention, truncation and DeleteRecords, one at a time. */
  private readonly maintenance = new SerialQueue();
  private readonly indexLoads = new Map<LogSegment, Promise<SegmentIndexes>>();
  private readonly scheduledDeletions = new Map<NodeJS.Timeout, () => Promise<void>>();
  /** Idempotent producers' sequence state, checked and updated as appends get their offsets. */
  private readonly producers = new ProducerStateManager();
  /** The producer state differs from the snapshot at the log end offset (close writes one). */
  private producerSnapshotStale = false;
  /** Producer state taken at rolls, at the new segment's base offset; written once the writer sealed. */
  private pendingSnapshots: { offset: number; text: string }[] = [];
  /** Some segment may hold aborted transactions (false: fetches skip the transaction indexes). */
  private abortedTxnsPossible = false;
  private readonly txnIndexLoads = new Map<LogSegment, Promise<TransactionIndex>>();

  private constructor(
    readonly dir: string,
    config: LogConfig,
    options: PartitionLogOptions,
  ) {
    this.config = { ...config };
    this.logger = options.logger ?? silentLogger;
    this.nowMs = options.nowMs ?? Date.now;
    this.resources = options.resources ?? sharedStorageResources();
    this.manageHighWatermark = options.manageHighWatermark ?? true;
    this.tail = new TailCache(
      this.resources.tailCacheBudget,
      this.resources.bufferPool,
      options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES,
      MIN_TAIL_CHUNK_BYTES,
      MAX_TAIL_CHUNK_BYTES,
    );
    this.epochs = new LeaderEpochCache(join(dir, LEADER_EPOCH_FILE));
    this.recoveryPointFile = new CheckpointFile(join(dir, RECOVERY_POINT_FILE));
    this.logStartOffsetFile = new CheckpointFile(join(dir, LOG_START_OFFSET_FILE));
    this.lastFlushMs = this.nowMs();
  }

  /** Opens (creating if needed) the log in `dir`, recovering whatever an unclean shutdown left behind. */
  static async open(
    dir: string,
    config: LogConfig,
    options: PartitionLogOptions = {},
  ): Promise<PartitionLog> {
    validateLogConfig(config);
    const log = new PartitionLog(dir, config, options);
    try {
      await mkdir(dir, { recursive: true });
      await log.load();
    } catch (error) {
      log.releaseResources();
      throw asStorageError(error, `cannot open log ${dir}`);
    }
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.writtenOffset;
  }

  get highWatermark(): number {
    return this.highWatermarkOffset;
  }

  /**
   * min(high watermark, first offset of the oldest transaction not yet decided below it). That first offset may
   * lie before the log start once DeleteRecords or retention removed it; Kafka then reports the log start.
   */
  get lastStableOffset(): number {
    const firstUnstable = this.producers.firstUnstableOffset;
    if (firstUnstable < 0) return this.highWatermarkOffset;
    return Math.min(Math.max(firstUnstable, this.startOffset), this.highWatermarkOffset);
  }

  /** Bytes of all segments, as retention.bytes counts them. */
  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  get latestLeaderEpoch(): number {
    return this.epochs.latestEpoch;
  }

  get tailCacheBytes(): number {
    return this.tail.bytes;
  }

  private get activeSegment(): LogSegment {
    return this.segments.at(-1) as LogSegment;
  }

  private get maxIndexEntries(): number {
    return this.config.maxIndexEntries ?? DEFAULT_MAX_INDEX_ENTRIES;
  }

  // ---------------------------------------------------------------------------------------------- append

  /**
   * Appends whole magic-2 batches, writing their BaseOffset and PartitionLeaderEpoch in place. Resolves once
   * the bytes are written (and fsynced when flushMessages says so). `coordinator`: the group coordinator's
   * transactional batches, which carry no sequence (only their producer epoch is checked).
   */
  append(batches: Buffer, leaderEpoch: number, origin: AppendOrigin = 'client'): Promise<AppendResult> {
    try {
      return this.enqueueAppend(batches, leaderEpoch, origin, null);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Writes a COMMIT or ABORT marker ending the producer's ongoing transaction (one that has none gets the
   * marker and nothing else, as in Kafka). Throws InvalidProducerEpochError for an epoch older than the
   * producer's; a newer one becomes the producer's epoch. Resolves as append does.
   */
  appendTransactionMarker(marker: TransactionMarker, leaderEpoch: number): Promise<AppendResult> {
    try {
      const key = Buffer.alloc(4);
      key.writeInt16BE(CONTROL_RECORD_VERSION, 0);
      key.writeInt16BE(marker.commit ? 1 : 0, 2);
      const value = Buffer.alloc(6);
      value.writeInt16BE(CONTROL_RECORD_VERSION, 0);
      value.writeInt32BE(marker.coordinatorEpoch, 2);
      const batch = encodeRecordBatch({
        records: [{ key, value, timestamp: this.nowMs() }],
        producerId: marker.producerId,
        producerEpoch: marker.producerEpoch,
        baseSequence: -1,
        isTransactional: true,
        isControl: true,
      });
      return this.enqueueAppend(batch, leaderEpoch, 'coordinator', marker);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private enqueueAppend(
    batches: Buffer,
    leaderEpoch: number,
    origin: AppendOrigin,
    marker: TransactionMarker | null,
  ): Promise<AppendResult> {
    this.checkWritable();
    const offsetCount = countOffsets(batches);
    if (leaderEpoch < this.epochs.latestEpoch)
      throw new FencedLeaderEpochError(leaderEpoch, this.epochs.latestEpoch);
    const idempotent = marker !== null || hasProducerBatches(batches);
    if (marker !== null) {
      this.producers.checkMarker(marker.producerId, marker.producerEpoch);
    } else if (idempotent) {
      const duplicate = this.producers.check(batches, origin);
      if (duplicate !== null) return this.answerDuplicate(duplicate);
    }
    const nowMs = this.nowMs();
    let segment = this.activeSegment;
    if (this.shouldRoll(segment, batches.length, offsetCount, nowMs)) segment = this.roll();
    const indexes = segment.indexes as SegmentIndexes;
    const baseOffset = this.nextOffset;
    const position = segment.sizeBytes;
    let offset = baseOffset;
    for (let at = 0; at < batches.length; ) {
      writeInt64(batches, at + BASE_OFFSET_OFFSET, offset);
      batches.writeInt32BE(leaderEpoch, at + PARTITION_LEADER_EPOCH_OFFSET);
      const header = readBatchHeader(batches, at);
      segment.indexBatch(indexes, header, position + at, this.config.indexIntervalBytes, nowMs);
      if (idempotent) {
        const aborted = this.producers.apply(batches, at, nowMs);
        if (aborted !== null) {
          segment.addAbortedTxn(aborted);
          this.abortedTxnsPossible = true;
        }
      }
      offset = header.lastOffset + 1;
      at += header.sizeBytes;
    }
    if (this.epochs.assign(leaderEpoch, baseOffset)) this.epochsDirty = true;
    if (idempotent) this.producerSnapshotStale = true;
    segment.sizeBytes += batches.length;
    this.nextOffset = offset;
    this.stats.appends++;
    const { data, hold } = this.tail.add(batches, baseOffset);
    const result = { baseOffset, lastOffset: offset - 1, logStartOffset: this.startOffset };
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({
        segment,
        data,
        hold,
        position,
        endOffset: offset,
        result,
        resolve,
        rolled: null,
        reject,
      });
      this.kickWriter();
    });
  }

  /**
   * A producer's retry of a batch the log already has: answered with that batch's offsets once everything
   * queued before is written, as the original's own answer would have been.
   */
  private answerDuplicate(duplicate: DuplicateBatch): Promise<AppendResult> {
    const result = { ...duplicate, logStartOffset: this.startOffset };
    if (!this.writerRunning && this.pending.length === 0) return Promise.resolve(result);
    const segment = this.activeSegment;
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({
        segment,
        data: EMPTY,
        hold: null,
        position: segment.sizeBytes,
        endOffset: this.nextOffset,
        result,
        resolve,
        rolled: null,
        reject,
      });
      this.kickWriter();
    });
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new KafkaStorageError(`log ${this.dir} is closed`);
    if (this.truncating) throw new KafkaStorageError(`log ${this.dir} is being truncated`);
  }

  private shouldRoll(segment: LogSegment, appendBytes: number, offsetCount: number, nowMs: number): boolean {
    if (segment.isEmpty) return false;
    if (segment.sizeBytes + appendBytes > this.config.segmentBytes) return true;
    if (this.segmentExpired(segment, nowMs)) return true;
    const indexes = segment.indexes as SegmentIndexes;
    if (indexes.offsetIndex.isFull || indexes.timeIndex.isFull) return true;
    return this.nextOffset + offsetCount - 1 - segment.baseOffset > MAX_RELATIVE_OFFSET;
  }

  private segmentExpired(segment: LogSegment, nowMs: number): boolean {
    if (segment.isEmpty || segment.rollBaseTimestampMs === null) return false;
    return nowMs - segment.rollBaseTimestampMs > this.config.segmentMs - segment.rollJitterMs;
  }

  /** Starts a new active segment at the next offset; the writer seals the previous one before using it. */
  private roll(): LogSegment {
    // Recovery replays the producer state from the newest snapshot: one per segment bounds that to a segment.
    this.pendingSnapshots.push({ offset: this.nextOffset, text: this.producers.snapshotText() });
    const segment = new LogSegment(this.dir, this.nextOffset, this.rollJitterMs());
    segment.indexes = segment.resetIndexes(this.maxIndexEntries);
    this.segments.push(segment);
    this.stats.segmentsRolled++;
    return segment;
  }

  private rollJitterMs(): number {
    const jitterMs = Math.min(this.config.segmentJitterMs ?? 0, this.config.segmentMs);
    return jitterMs > 0 ? Math.floor(Math.random() * jitterMs) : 0;
  }

  /** Rolls the active segment when segment.ms has passed since its first batch (LogManager calls this). */
  rollIfExpired(nowMs: number): boolean {
    if (this.failure || this.closed || this.truncating) return false;
    if (!this.segmentExpired(this.activeSegment, nowMs)) return false;
    // A failure fails the log as a whole (runWriter); nobody waits for this roll.
    this.queueRoll().catch(() => {});
    return true;
  }

  /** Starts a new active segment; resolves once the writer has sealed the previous one, in order with appends. */
  private queueRoll(): Promise<void> {
    const segment = this.roll();
    return new Promise<void>((rolled, reject) => {
      // An empty job makes the writer seal the old segment and create the new file.
      this.pending.push({
        segment,
        data: EMPTY,
        hold: null,
        position: 0,
        endOffset: this.nextOffset,
        result: null,
        resolve: () => {},
        rolled,
        reject,
      });
      this.kickWriter();
    });
  }

  // ---------------------------------------------------------------------------------------------- writer

  private kickWriter(): void {
    if (this.writerRunning) return;
    this.writerRunning = true;
    // After the rest of this turn's I/O callbacks: appends that arrived together (a burst of requests on one
    // connection, several connections) share one write, one completion and one wake-up of the consumers.
    setImmediate(this.startWriter);
  }

  private readonly startWriter = (): void => {
    void this.runWriter();
  };

  private async runWriter(): Promise<void> {
    try {
      for (;;) {
        if (this.pending.length > 0) await this.writeNextGroup();
        else if (this.flushWaiters.length > 0 && this.syncedOffset < this.writtenOffset)
          await this.syncActive();
        else break;
      }
      // Waiters still here wait for a roll being made durable; persistRoll answers them.
      this.advanceFlushedOffset();
    } catch (error) {
      this.fail(error);
    } finally {
      this.writerRunning = false;
    }
  }

  /** Writes every queued append for the same segment with one writev (bounded), then fsyncs if required. */
  private async writeNextGroup(): Promise<void> {
    const markerRemoval = this.beginChange();
    if (markerRemoval !== undefined) await markerRemoval;
    const first = this.pending[0] as AppendJob;
    const segment = first.segment;
    if (segment !== this.writerSegment) await this.switchWriterSegment(segment);
    if (this.epochsDirty) {
      // Before the data: a batch must never be durable while the epoch it starts is not.
      this.epochsDirty = false;
      await this.epochs.persist();
    }
    let count = 0;
    let bytes = 0;
    let buffers = 0;
    while (count < this.pending.length) {
      const job = this.pending[count] as AppendJob;
      if (job.segment !== segment || buffers >= MAX_WRITE_BUFFERS) break;
      if (count > 0 && bytes + job.data.length > MAX_WRITE_GROUP_BYTES) break;
      bytes += job.data.length;
      if (job.data.length > 0) buffers++;
      count++;
    }
    const group = this.pending.splice(0, count);
    if (bytes > 0) {
      const data = group.filter((job) => job.data.length > 0).map((job) => job.data);
      try {
        await writevFully(segment.writeHandle as FileHandle, data, first.position);
      } catch (error) {
        // The log fails as a whole (runWriter); these jobs already left `pending`, so answer them here.
        const failure = asStorageError(error, `write to ${segment.logPath} failed`);
        for (const job of group) job.reject(failure);
        throw failure;
      } finally {
        for (const job of group) job.hold?.release();
      }
      this.stats.writevCalls++;
      this.stats.bytesWritten += bytes;
    }
    segment.writtenBytes = first.position + bytes;
    this.writtenOffset = (group.at(-1) as AppendJob).endOffset;
    const unsynced = this.writtenOffset - this.syncedOffset;
    if (
      unsynced >= this.config.flushMessages ||
      this.flushWaiters.some(
        (w) => w.targetOffset > this.syncedOffset && w.targetOffset <= this.writtenOffset,
      )
    ) {
      await this.syncActive();
      // An acknowledgement the flush policy made wait for an fdatasync promises everything before it too.
      if (unsynced >= this.config.flushMessages && this.rollsPending > 0) await this.rollsDurable;
      if (this.failure) {
        for (const job of group) job.reject(this.failure);
        throw this.failure;
      }
    }
    if (this.manageHighWatermark) this.updateHighWatermark(this.writtenOffset);
    for (const job of group) {
      if (job.result) job.resolve(job.result);
      const rolled = job.rolled;
      if (rolled) void this.rollsDurable.then(() => (this.failure ? job.reject(this.failure) : rolled()));
    }
    this.notifyListeners();
  }

  /**
   * Fsyncs the writer segment. Never waits for rolls being made durable: under flush.messages=1 their data was
   * fsynced as it was written, so acknowledgements stay durable without the appends stalling behind them.
   */
  private async syncActive(): Promise<void> {
    const segment = this.writerSegment;
    const target = this.writtenOffset;
    if (segment?.writeHandle) {
      // Fsyncs of a new file count only once its name is durable too.
      this.writerEntryDurable ??= syncDirectory(this.dir);
      await this.writerEntryDurable;
      await segment.writeHandle.datasync();
      this.stats.fsyncCalls++;
      // Entries of markers still queued may go too: recovery drops entries past what the log holds.
      if (segment.txnIndexDirty) await segment.writeTxnIndexFile();
    }
    this.syncedOffset = Math.max(this.syncedOffset, target);
    this.advanceFlushedOffset();
  }

  private advanceFlushedOffset(): void {
    if (this.rollsPending === 0) this.flushedOffset = Math.max(this.flushedOffset, this.syncedOffset);
    this.resolveFlushWaiters();
  }

  private resolveFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const waiter of this.flushWaiters) {
      if (waiter.targetOffset <= this.flushedOffset) waiter.resolve();
      else still.push(waiter);
    }
    this.flushWaiters = still;
  }

  private async switchWriterSegment(segment: LogSegment): Promise<void> {
    const previous = this.writerSegment;
    const created = !segment.fileCreated;
    if (created) {
      const handle = await open(segment.logPath, 'w+');
      segment.writeHandle = handle;
      segment.fileCreated = true;
      this.resources.fileHandles.adopt(segment.logPath, handle);
      this.writerEntryDurable = null;
    }
    this.writerSegment = segment;
    const sealing = previous && !previous.sealed && !previous.deleted ? previous : null;
    if (sealing) {
      const indexes = sealing.indexes as SegmentIndexes;
      sealing.finishTimeIndex(indexes);
      sealing.modifiedMs = this.nowMs();
    }
    // As in Kafka, a rolled segment is flushed behind the appends: fsynced inline, it stalled every producer of
    // the partition for as long as the kernel took to write back the segment's dirty pages (with 32 MiB
    // segments, perf produce fell from ~215k to ~140k records/s and its p99 rose from 25 to 160 ms).
    this.rollsPending++;
    this.rollsDurable = this.rollsDurable
      .then(() => this.persistRoll(sealing, segment))
      .catch((error: unknown) => this.fail(error));
  }

  /**
   * Makes a roll durable: the rolled segment's data and its index files (it becomes read-only: sealed), and
   * writes the roll's producer snapshot; then moves the recovery point past the roll.
   */
  private async persistRoll(rolled: LogSegment | null, next: LogSegment): Promise<void> {
    if (rolled && !rolled.deleted) {
      const handle = rolled.writeHandle as FileHandle;
      await this.resources.backgroundSyncs.run(() => handle.datasync());
      this.stats.fsyncCalls++;
      const indexes = rolled.indexes as SegmentIndexes;
      await rolled.writeIndexFiles(indexes);
      // Before the recovery point passes the segment and the roll's snapshot is written: replay skips it then.
      if (rolled.txnIndexDirty) await rolled.writeTxnIndexFile();
      rolled.sealed = true;
      rolled.indexes = null;
      rolled.writeHandle = null;
      this.resources.indexCache.put(rolled.logPath, indexes);
      this.resources.fileHandles.unpin(rolled.logPath);
    }
    await this.writePendingSnapshots(next.baseOffset);
    this.rollsPending--;
    this.stats.rollsPersisted++;
    if (rolled) this.flushedOffset = Math.max(this.flushedOffset, rolled.nextOffset);
    this.advanceFlushedOffset();
  }

  /** Writes the roll snapshots up to `offset`; a failure costs only a longer replay, so it is logged. */
  private async writePendingSnapshots(offset: number): Promise<void> {
    while (
      this.pendingSnapshots.length > 0 &&
      (this.pendingSnapshots[0] as { offset: number }).offset <= offset
    ) {
      const snapshot = this.pendingSnapshots.shift() as { offset: number; text: string };
      try {
        await writeSnapshot(this.dir, snapshot.offset, snapshot.text);
      } catch (error) {
        this.logger.warn(
          { dir: this.dir, offset: snapshot.offset, err: error },
          'producer snapshot not written',
        );
      }
    }
  }

  /** Forgets idempotent producers idle for producer.id.expiration.ms. */
  expireProducers(nowMs: number, expirationMs: number): void {
    if (this.producers.expire(nowMs, expirationMs) > 0) this.producerSnapshotStale = true;
  }

  private fail(error: unknown): void {
    if (this.failure === null) {
      this.failure = asStorageError(error, `log ${this.dir} failed`);
      this.logger.error({ dir: this.dir, err: error }, 'storage failure, log taken offline');
    }
    for (const job of this.pending.splice(0)) job.reject(this.failure);
    for (const waiter of this.flushWaiters.splice(0)) waiter.reject(this.failure);
  }

  private notifyListeners(): void {
    for (const listener of this.listeners) {
      try {
        listener(this.writtenOffset);
      } catch (error) {
        this.logger.warn({ dir: this.dir, err: error }, 'append listener threw');
      }
    }
  }

  /** Calls `listener` whenever newly appended data becomes readable; returns the unsubscribe function. */
  onAppend(listener: (logEndOffset: number) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  setHighWatermark(offset: number): void {
    const clamped = Math.max(this.startOffset, Math.min(offset, this.writtenOffset));
    if (clamped === this.highWatermarkOffset) return;
    const advanced = clamped > this.highWatermarkOffset;
    this.updateHighWatermark(clamped);
    if (advanced) this.notifyListeners();
  }

  private updateHighWatermark(offset: number): void {
    this.highWatermarkOffset = offset;
    this.producers.onHighWatermarkUpdated(offset);
  }

  /** The producers this partition knows (DescribeProducers). */
  activeProducers(): ProducerStateSummary[] {
    return this.producers.activeProducers();
  }

  // ----------------------------------------------------------------------------------------------- flush

  /** Writes and fsyncs everything appended so far, then checkpoints the recovery point. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.flushInternal();
  }

  private async flushInternal(): Promise<void> {
    const targetOffset = this.nextOffset;
    if (this.flushedOffset < targetOffset || this.pending.length > 0) {
      await new Promise<void>((resolve, reject) => {
        this.flushWaiters.push({ targetOffset, resolve, reject });
        this.kickWriter();
      });
    }
    this.lastFlushMs = this.nowMs();
    await this.checkpointRecoveryPoint();
  }

  /** Whether flush.ms has passed with data still unflushed (LogManager's background flush asks). */
  flushDue(nowMs: number): boolean {
    if (this.failure || this.closed) return false;
    const unflushed =
      this.nextOffset > this.flushedOffset ||
      !this.recoveryPointFile.holds(offsetCheckpointText(this.flushedOffset));
    return unflushed && nowMs - this.lastFlushMs >= this.config.flushMs;
  }

  /**
   * Writes the recovery point if it moved since it was last written (the LogManager asks periodically, as
   * Kafka's log.flush.offset.checkpoint.interval.ms). Moving forward only, it may go back with a crash: then
   * recovery just scans more.
   */
  async checkpointRecoveryPointIfMoved(): Promise<void> {
    if (this.failure || this.closed) return;
    await this.checkpointRecoveryPoint(true);
  }

  private checkpointRecoveryPoint(mayRevert = false): Promise<void> {
    return this.recoveryPointFile.write(
      () => offsetCheckpointText(Math.min(this.flushedOffset, this.writtenOffset)),
      mayRevert,
    );
  }

  private writeLogStartOffsetCheckpoint(): Promise<void> {
    return this.logStartOffsetFile.write(() => offsetCheckpointText(this.startOffset));
  }

  /** Must finish before anything in the log changes on disk: from then on a crash is unclean. */
  private beginChange(): Promise<void> | undefined {
    this.changedSinceOpen = true;
    return this.cleanMarkerOnDisk ? this.removeCleanMarker() : undefined;
  }

  private removeCleanMarker(): Promise<void> {
    this.cleanMarkerRemoval ??= (async () => {
      await rm(join(this.dir, CLEAN_SHUTDOWN_FILE), { force: true });
      await syncDirectory(this.dir);
      this.cleanMarkerOnDisk = false;
    })();
    return this.cleanMarkerRemoval;
  }

  // ------------------------------------------------------------------------------------------------ read

  /**
   * Whole batches from the one containing `fetchOffset`, each ending before `maxOffset` (default: the high
   * watermark), totalling at most `maxBytes` (the first batch regardless with `minOneBatch`).
   */
  async read(fetchOffset: number, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    if (this.failure) throw this.failure;
    if (fetchOffset < this.startOffset || fetchOffset > this.writtenOffset) {
      throw new OffsetOutOfRangeError(fetchOffset, this.startOffset, this.writtenOffset);
    }
    const endOffset = Math.min(options.maxOffset ?? this.highWatermarkOffset, this.writtenOffset);
    const minOneBatch = options.minOneBatch ?? false;
    if (fetchOffset >= endOffset) return { chunks: [], bytes: 0, holds: [] };
    const cached = this.tail.read(fetchOffset, endOffset, maxBytes, minOneBatch);
    if (cached) return cached;
    const result: ReadResult = { chunks: [], bytes: 0, holds: [] };
    let segment = this.segmentFor(fetchOffset);
    let from = fetchOffset;
    while (segment && segment.baseOffset < endOffset) {
      let stopped: boolean;
      try {
        stopped = await this.readSegment(segment, from, endOffset, maxBytes, minOneBatch, result);
      } catch (error) {
        if (result.bytes > 0 && segment.deleted) return result;
        releaseRead(result);
        if (!segment.deleted) throw asStorageError(error, `read of ${segment.logPath} failed`);
        // Retention or truncation removed the segment under this read.
        throw new OffsetOutOfRangeError(fetchOffset, this.startOffset, this.writtenOffset);
      }
      if (stopped || segment.deleted) break;
      const next: LogSegment | undefined = this.segments[this.segments.indexOf(segment) + 1];
      if (!next) break;
      segment = next;
      from = next.baseOffset;
    }
    return result;
  }

  /**
   * At least as many record bytes as a read from `fetchOffset` could return, up to `limit`; synchronous and
   * cheap (positions, not reads), so that a Fetch can share its max_bytes out by what partitions hold
   * instead of reserving a full share for each.
   */
  readableBytesBound(fetchOffset: number, limit: number): number {
    if (fetchOffset < this.startOffset || fetchOffset >= this.writtenOffset) return 0;
    const first = this.segmentIndexFor(fetchOffset);
    const segment = this.segments[first];
    if (!segment) return 0;
    let bytes = segment.writtenBytes;
    const indexes = this.loadedIndexesOf(segment);
    if (indexes && fetchOffset > segment.baseOffset) {
      // The index entry at or before the offset: the batch holding it starts at or after that position.
      bytes -= indexes.offsetIndex.lookup(fetchOffset - segment.baseOffset)?.position ?? 0;
    }
    for (let i = first + 1; i < this.segments.length && bytes < limit; i++) {
      bytes += (this.segments[i] as LogSegment).writtenBytes;
    }
    return Math.min(bytes, limit);
  }

  /** The segment holding `offset`: the last one whose base offset is at or below it. */
  private segmentFor(offset: number): LogSegment | undefined {
    return this.segments[this.segmentIndexFor(offset)];
  }

  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if ((this.segments[mid] as LogSegment).baseOffset <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /** Appends to `result` from one segment; true when a bound (bytes or offset) stopped the read. */
  private async readSegment(
    segment: LogSegment,
    fetchOffset: number,
    endOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    result: ReadResult,
  ): Promise<boolean> {
    try {
      return await this.readSegmentOnce(segment, fetchOffset, endOffset, maxBytes, minOneBatch, result);
    } catch (error) {
      if (!(error instanceof StaleIndexError)) throw error;
      this.logger.warn(
        { segment: segment.logPath, reason: error.message },
        'offset index inconsistent, rebuilding',
      );
      await this.rebuildIndexes(segment);
      return this.readSegmentOnce(segment, fetchOffset, endOffset, maxBytes, minOneBatch, result);
    }
  }

  private async readSegmentOnce(
    segment: LogSegment,
    fetchOffset: number,
    endOffset: number,
    maxBytes: number,
    minOneBatch: boolean,
    result: ReadResult,
  ): Promise<boolean> {
    const endPosition = segment.writtenBytes;
    if (endPosition === 0) return false;
    let position = 0;
    let expectedBaseOffset = -1;
    if (fetchOffset > segment.baseOffset) {
      const entry = (await this.indexesOf(segment)).offsetIndex.lookup(fetchOffset - segment.baseOffset);
      if (entry) {
        position = entry.position;
        expectedBaseOffset = segment.baseOffset + entry.relativeOffset;
      }
    }
    const lease = await this.resources.fileHandles.acquire(segment.logPath);
    try {
      let wanted = clampWindow(maxBytes - result.bytes + this.config.indexIntervalBytes);
      while (position < endPosition) {
        const windowBytes = Math.min(wanted, endPosition - position);
        const pooled = this.resources.bufferPool.acquire(windowBytes);
        const window = pooled.buffer.subarray(0, windowBytes);
        let got = 0;
        let at = 0;
        let runStart = -1;
        let stopped = false;
        try {
          got = await readFully(lease.handle, window, window.length, position);
          wanted = RECORD_BATCH_OVERHEAD;
          while (got - at >= RECORD_BATCH_OVERHEAD) {
            const size = batchSizeAt(window, at);
            const baseOffset = readInt64(window, at + BASE_OFFSET_OFFSET);
            if (expectedBaseOffset >= 0 && baseOffset !== expectedBaseOffset) {
              throw new StaleIndexError(
                `expected offset ${expectedBaseOffset} at ${position}, found ${baseOffset}`,
              );
            }
            expectedBaseOffset = -1;
            if (size < RECORD_BATCH_OVERHEAD || position + at + size > endPosition) {
              throw new KafkaStorageError(`corrupt batch at ${position + at} in ${segment.logPath}`);
            }
            const lastOffset = baseOffset + window.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
            if (lastOffset < fetchOffset) {
              at += size;
              continue;
            }
            const fits = result.bytes + size <= maxBytes || (result.bytes === 0 && minOneBatch);
            if (lastOffset >= endOffset || !fits) {
              stopped = true;
              break;
            }
            if (got - at < size) {
              wanted = Math.max(size, clampWindow(maxBytes - result.bytes));
              break;
            }
            if (runStart < 0) runStart = at;
            result.bytes += size;
            at += size;
          }
        } catch (error) {
          // Nothing of this window is in `result` yet.
          pooled.release();
          throw error;
        }
        if (runStart >= 0) {
          result.chunks.push(window.subarray(runStart, at));
          result.holds.push(pooled);
        } else {
          pooled.release();
        }
        if (stopped) return true;
        // No progress with everything that remains in view: a torn tail shorter than a header.
        if (at === 0 && (got < window.length || window.length >= endPosition - position)) break;
        position += at;
        if (wanted === RECORD_BATCH_OVERHEAD) wanted = clampWindow(maxBytes - result.bytes);
      }
      return false;
    } finally {
      lease.release();
    }
  }

  /** The segment's indexes: in memory when active, else from the cache or its files (rebuilt if bad). */
  private indexesOf(segment: LogSegment): Promise<SegmentIndexes> {
    const loaded = this.loadedIndexesOf(segment);
    if (loaded) return Promise.resolve(loaded);
    let loading = this.indexLoads.get(segment);
    if (!loading) {
      loading = this.loadIndexes(segment).finally(() => this.indexLoads.delete(segment));
      this.indexLoads.set(segment, loading);
    }
    return loading;
  }

  /** The segment's indexes if in memory (active, or in the cache), without loading them. */
  private loadedIndexesOf(segment: LogSegment): SegmentIndexes | undefined {
    return segment.indexes ?? this.resources.indexCache.get(segment.logPath);
  }

  private async loadIndexes(segment: LogSegment): Promise<SegmentIndexes> {
    const loaded = await segment.loadIndexFiles(this.maxIndexEntries, this.endOffsetOf(segment));
    if (typeof loaded !== 'string') {
      this.resources.indexCache.put(segment.logPath, loaded);
      return loaded;
    }
    this.logger.warn({ segment: segment.logPath, reason: loaded }, 'index files invalid, rebuilding');
    return this.rebuildIndexes(segment);
  }

  /** Rescans a sealed segment to rebuild its index files. */
  private async rebuildIndexes(segment: LogSegment): Promise<SegmentIndexes> {
    const lease = await this.resources.fileHandles.acquire(segment.logPath);
    let indexes: SegmentIndexes;
    try {
      const scan = await scanSegment(segment, lease.handle, segment.writtenBytes, this.scanOptions(false));
      if (scan.problem) {
        this.logger.error(
          { segment: segment.logPath, position: scan.validBytes, reason: scan.problem },
          'sealed segment has an unreadable batch; reads stop before it',
        );
      }
      indexes = scan.indexes;
    } finally {
      lease.release();
    }
    if (segment.indexes) {
      segment.indexes = indexes;
      return indexes;
    }
    segment.finishTimeIndex(indexes);
    await segment.writeIndexFiles(indexes);
    this.resources.indexCache.put(segment.logPath, indexes);
    return indexes;
  }

  private endOffsetOf(segment: LogSegment): number {
    const next = this.segments[this.segments.indexOf(segment) + 1];
    return next ? next.baseOffset : segment.nextOffset;
  }

  private scanOptions(verifyCrc: boolean) {
    return {
      verifyCrc,
      indexIntervalBytes: this.config.indexIntervalBytes,
      maxIndexEntries: this.maxIndexEntries,
      nowMs: this.nowMs(),
    };
  }

  /** The first batch at or after `fromOffset` (and before `boundOffset`) that `matches`, reading headers only. */
  private async findBatch(
    segment: LogSegment,
    fromOffset: number,
    boundOffset: number,
    matches: (header: BatchHeader) => boolean,
  ): Promise<BatchHeader | null> {
    const entry =
      fromOffset > segment.baseOffset
        ? (await this.indexesOf(segment)).offsetIndex.lookup(fromOffset - segment.baseOffset)
        : null;
    let position = entry?.position ?? 0;
    const endPosition = segment.writtenBytes;
    const lease = await this.resources.fileHandles.acquire(segment.logPath);
    try {
      const window = Buffer.allocUnsafe(HEADER_WINDOW_BYTES);
      while (position < endPosition) {
        const got = await readFully(
          lease.handle,
          window,
          Math.min(window.length, endPosition - position),
          position,
        );
        if (got < RECORD_BATCH_OVERHEAD) return null;
        let at = 0;
        while (got - at >= RECORD_BATCH_OVERHEAD) {
          const header = readBatchHeader(window, at);
          if (header.sizeBytes < RECORD_BATCH_OVERHEAD) return null;
          if (header.lastOffset >= boundOffset) return null;
          if (header.lastOffset >= fromOffset && matches(header)) return header;
          at += header.sizeBytes;
        }
        position += at;
      }
      return null;
    } finally {
      lease.release();
    }
  }

  /**
   * ListOffsets by timestamp: the first batch whose max timestamp is at or after `timestampMs`, as its first
   * offset (not below the log start offset) and that max timestamp. Batch granularity: records inside a batch
   * are not decoded, so the offset may precede the first matching record of that batch.
   */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestamp: number } | null> {
    if (this.failure) throw this.failure;
    const boundOffset = this.highWatermarkOffset;
    for (const segment of this.segments.slice()) {
      if (segment.baseOffset >= boundOffset) break;
      if (segment.largestTimestampMs < timestampMs || this.endOffsetOf(segment) <= this.startOffset) continue;
      const indexes = await this.indexesOf(segment);
      const entry = indexes.timeIndex.lookupBefore(timestampMs);
      const from = Math.max(segment.baseOffset + (entry?.relativeOffset ?? 0), this.startOffset);
      const found = await this.findBatch(segment, from, boundOffset, (h) => h.maxTimestampMs >= timestampMs);
      if (found)
        return { offset: Math.max(found.baseOffset, this.startOffset), timestamp: found.maxTimestampMs };
    }
    return null;
  }

  /** ListOffsets MAX_TIMESTAMP: the last offset of the batch with the largest timestamp, and that timestamp. */
  async maxTimestampOffset(): Promise<{ offset: number; timestamp: number } | null> {
    if (this.failure) throw this.failure;
    let best: LogSegment | null = null;
    for (const segment of this.segments) {
      if (segment.largestTimestampMs >= 0 && segment.largestTimestampMs > (best?.largestTimestampMs ?? -1)) {
        best = segment;
      }
    }
    if (!best) return null;
    const batchOffset = best.largestTimestampBatchOffset;
    const header = await this.findBatch(
      best,
      batchOffset,
      this.writtenOffset,
      (h) => h.baseOffset >= batchOffset,
    );
    const offset = header?.baseOffset === batchOffset ? header.lastOffset : batchOffset;
    return { offset: Math.max(offset, this.startOffset), timestamp: best.largestTimestampMs };
  }

  /**
   * Aborted transactions overlapping [fetchOffset, upperBoundOffset) (lastOffset >= fetchOffset and
   * firstOffset < upperBoundOffset), ordered by first offset. When no segment holds any (the usual case) this
   * answers a shared, frozen empty array without reading anything.
   */
  abortedTransactions(fetchOffset: number, upperBoundOffset: number): Promise<AbortedTransaction[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.abortedTxnsPossible || upperBoundOffset <= fetchOffset) return NO_ABORTED_TRANSACTIONS;
    return this.collectAbortedTransactions(fetchOffset, upperBoundOffset);
  }

  private async collectAbortedTransactions(
    fetchOffset: number,
    upperBoundOffset: number,
  ): Promise<AbortedTransaction[]> {
    const out: AbortedTransaction[] = [];
    // An entry lives in its marker's segment: those before the fetch offset's end before it.
    const segments = this.segments.slice(this.segments.indexOf(this.segmentFor(fetchOffset) as LogSegment));
    for (const segment of segments) {
      if (!segment.mayHaveAbortedTxns) continue;
      const index = await this.txnIndexOf(segment);
      if (index.collect(fetchOffset, upperBoundOffset, out)) break;
    }
    if (out.length === 0) return out;
    return out.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** The segment's aborted transactions, read from its file the first time they are asked for. */
  private txnIndexOf(segment: LogSegment): Promise<TransactionIndex> {
    if (segment.abortedTxns) return Promise.resolve(segment.abortedTxns);
    let loading = this.txnIndexLoads.get(segment);
    if (!loading) {
      loading = this.loadTxnIndex(segment).finally(() => this.txnIndexLoads.delete(segment));
      this.txnIndexLoads.set(segment, loading);
    }
    return loading;
  }

  private async loadTxnIndex(segment: LogSegment): Promise<TransactionIndex> {
    const loaded = await segment.readTxnIndexFile();
    if (segment.abortedTxns) return segment.abortedTxns;
    if (typeof loaded === 'string') {
      // Only a replay can rebuild it, which needs the producer state before the segment: reads go without.
      this.logger.error(
        { segment: segment.txnIndexPath, reason: loaded },
        'transaction index unreadable; aborted transactions of this segment are not reported',
      );
      segment.abortedTxns = new TransactionIndex();
      return segment.abortedTxns;
    }
    segment.abortedTxns = loaded;
    if (loaded.entries === 0) this.refreshAbortedTxnsPossible();
    return loaded;
  }

  private refreshAbortedTxnsPossible(): void {
    this.abortedTxnsPossible = this.segments.some((segment) => segment.mayHaveAbortedTxns);
  }

  leaderEpochStartOffset(epoch: number): { epoch: number; endOffset: number } {
    return this.epochs.endOffsetFor(epoch, this.writtenOffset);
  }

  // ----------------------------------------------------------------------------------------- maintenance

  /** Runs `task` after every earlier maintenance task, one at a time. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.maintenance.run(task);
  }

  /**
   * Drops every batch at or after `offset` (a batch containing `offset` goes whole). The caller must not append
   * while this runs; replication fetchers do not.
   */
  truncateTo(offset: number): Promise<void> {
    return this.exclusive(async () => {
      if (this.failure) throw this.failure;
      if (offset >= this.nextOffset) return;
      this.truncating = true;
      try {
        await this.beginChange();
        await this.flushInternal();
        if (offset <= (this.segments[0] as LogSegment).baseOffset || offset <= this.startOffset) {
          await this.truncateFullyAndStartAt(offset);
        } else {
          await this.truncateWithinSegments(offset);
        }
        this.tail.clear();
        this.updateHighWatermark(Math.min(this.highWatermarkOffset, this.writtenOffset));
        this.flushedOffset = Math.min(this.flushedOffset, this.writtenOffset);
        this.syncedOffset = Math.min(this.syncedOffset, this.writtenOffset);
        if (this.epochs.truncateFromEnd(this.writtenOffset)) await this.epochs.persist();
        await this.checkpointRecoveryPoint();
        this.pendingSnapshots = this.pendingSnapshots.filter((s) => s.offset <= this.writtenOffset);
        await removeSnapshots(this.dir, this.writtenOffset);
        await this.loadProducerState(await readdir(this.dir), false, true);
        this.logger.info({ dir: this.dir, offset, logEndOffset: this.writtenOffset }, 'log truncated');
      } catch (error) {
        this.fail(error);
        throw this.failure;
      } finally {
        this.truncating = false;
      }
    });
  }

  private async truncateWithinSegments(offset: number): Promise<void> {
    const segment = this.segmentFor(offset) as LogSegment;
    const index = this.segments.indexOf(segment);
    await this.removeSegments(this.segments.slice(index + 1), 'truncation');
    const header = await this.findBatch(segment, offset, Number.MAX_SAFE_INTEGER, () => true);
    let truncateAt = segment.writtenBytes;
    if (header) {
      const entry =
        header.baseOffset > segment.baseOffset ? await this.positionOf(segment, header.baseOffset) : 0;
      truncateAt = entry;
    }
    await this.reactivate(segment, truncateAt);
  }

  /** Byte position of the batch starting at `baseOffset` in `segment`. */
  private async positionOf(segment: LogSegment, baseOffset: number): Promise<number> {
    const entry = (await this.indexesOf(segment)).offsetIndex.lookup(baseOffset - segment.baseOffset);
    let position = entry?.position ?? 0;
    const lease = await this.resources.fileHandles.acquire(segment.logPath);
    try {
      const header = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
      while (position < segment.writtenBytes) {
        await readFully(lease.handle, header, header.length, position);
        if (readInt64(header, 0) >= baseOffset) return position;
        position += batchSizeAt(header, 0);
      }
      return position;
    } finally {
      lease.release();
    }
  }

  /** Makes `segment` the writable active segment again, cut to `sizeBytes`, with rebuilt indexes. */
  private async reactivate(segment: LogSegment, sizeBytes: number): Promise<void> {
    let handle = segment.writeHandle;
    if (!handle) {
      this.resources.fileHandles.forget(segment.logPath);
      this.resources.indexCache.delete(segment.logPath);
      handle = await open(segment.logPath, 'r+');
      segment.writeHandle = handle;
      segment.fileCreated = true;
      segment.sealed = false;
      this.resources.fileHandles.adopt(segment.logPath, handle);
    }
    await handle.truncate(sizeBytes);
    await handle.datasync();
    segment.sizeBytes = sizeBytes;
    segment.writtenBytes = sizeBytes;
    const scan = await scanSegment(segment, handle, sizeBytes, this.scanOptions(false));
    segment.indexes = scan.indexes;
    this.writerSegment = segment;
    this.nextOffset = segment.nextOffset;
    this.writtenOffset = segment.nextOffset;
  }

  private async truncateFullyAndStartAt(offset: number): Promise<void> {
    await this.removeSegments(this.segments.slice(), 'truncation');
    await this.createActiveSegment(offset);
    this.startOffset = offset;
    await this.writeLogStartOffsetCheckpoint();
    if (this.epochs.truncateFromStart(offset)) await this.epochs.persist();
  }

  private async createActiveSegment(baseOffset: number): Promise<void> {
    const segment = new LogSegment(this.dir, baseOffset, this.rollJitterMs());
    segment.indexes = segment.resetIndexes(this.maxIndexEntries);
    const handle = await open(segment.logPath, 'w+');
    segment.writeHandle = handle;
    segment.fileCreated = true;
    this.resources.fileHandles.adopt(segment.logPath, handle);
    await syncDirectory(this.dir);
    this.segments.push(segment);
    this.writerSegment = segment;
    this.nextOffset = baseOffset;
    this.writtenOffset = baseOffset;
    this.syncedOffset = baseOffset;
    this.flushedOffset = baseOffset;
  }

  /** Moves the log start offset up (DeleteRecords) and deletes the whole segments now below it. */
  deleteRecordsBefore(offset: number): Promise<number> {
    return this.exclusive(async () => {
      if (this.failure) throw this.failure;
      if (offset < 0 || offset > this.highWatermarkOffset) {
        throw new OffsetOutOfRangeError(offset, this.startOffset, this.highWatermarkOffset);
      }
      if (offset <= this.startOffset) return this.startOffset;
      await this.beginChange();
      this.startOffset = offset;
      await this.writeLogStartOffsetCheckpoint();
      if (this.epochs.truncateFromStart(offset)) await this.epochs.persist();
      await this.deleteSegmentsFromStart(0, 'log start offset moved');
      return this.startOffset;
    });
  }

  /**
   * Deletes whole sealed segments that are below the log start offset or, under the delete policy, older
   * than retention.ms (by their largest timestamp) or beyond retention.bytes. Never the active segment.
   */
  enforceRetention(nowMs: number): Promise<number> {
    return this.exclusive(async () => {
      if (this.failure || this.closed) return 0;
      await this.rollsDurable;
      const deletable = this.deletableSegmentCount();
      let count = 0;
      const endOf = (i: number) => (this.segments[i + 1] as LogSegment).baseOffset;
      while (count < deletable && endOf(count) <= this.startOffset) count++;
      if (deletesByRetention(this.config)) {
        const { retentionMs, retentionBytes } = this.config;
        if (retentionMs >= 0) {
          while (
            count < deletable &&
            nowMs - retainedSinceMs(this.segments[count] as LogSegment) > retentionMs
          ) {
            count++;
          }
        }
        if (retentionBytes >= 0) {
          let size = this.sizeBytes;
          for (let i = 0; i < count; i++) size -= (this.segments[i] as LogSegment).sizeBytes;
          while (
            count < deletable &&
            size - (this.segments[count] as LogSegment).sizeBytes >= retentionBytes
          ) {
            size -= (this.segments[count] as LogSegment).sizeBytes;
            count++;
          }
        }
      }
      // As in Kafka, the active segment goes too once it breaches retention and everything before it goes: a
      // new empty segment takes its place first (lowering retention.ms for a while purges a topic).
      if (
        count === deletable &&
        deletable === this.segments.length - 1 &&
        this.activeBreachesRetention(nowMs)
      ) {
        await this.queueRoll();
        count = this.deletableSegmentCount();
      }
      if (count === 0) return 0;
      return this.deleteSegmentsFromStart(count, 'retention');
    });
  }

  /** Whether the active segment, with every segment before it gone, is over retention.ms or retention.bytes. */
  private activeBreachesRetention(nowMs: number): boolean {
    const active = this.activeSegment;
    if (active.isEmpty || !deletesByRetention(this.config)) return false;
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0 && nowMs - retainedSinceMs(active) > retentionMs) return true;
    // Kafka deletes a segment while the log stays at least retention.bytes without it: for the last one, 0.
    return retentionBytes === 0;
  }

  /** How many segments from the start are sealed (rolled and durable) and not the active one. */
  private deletableSegmentCount(): number {
    let count = 0;
    while (count < this.segments.length - 1 && (this.segments[count] as LogSegment).sealed) count++;
    return count;
  }

  /** Deletes the first `count` segments (0: those entirely below the log start offset). */
  private async deleteSegmentsFromStart(count: number, reason: string): Promise<number> {
    // Rolled segments become deletable once sealed, behind the appends.
    await this.rollsDurable;
    const deletable = this.deletableSegmentCount();
    let n = count;
    if (n === 0) {
      while (n < deletable && (this.segments[n + 1] as LogSegment).baseOffset <= this.startOffset) n++;
    }
    n = Math.min(n, deletable);
    if (n === 0) return 0;
    await this.beginChange();
    const doomed = this.segments.slice(0, n);
    await this.removeSegments(doomed, reason);
    const firstBase = (this.segments[0] as LogSegment).baseOffset;
    if (firstBase > this.startOffset) {
      this.startOffset = firstBase;
      await this.writeLogStartOffsetCheckpoint();
      if (this.epochs.truncateFromStart(firstBase)) await this.epochs.persist();
    }
    return n;
  }

  /** Takes segments out of the log now, renames their files to `.deleted`, unlinks them after the delay. */
  private async removeSegments(doomed: LogSegment[], reason: string): Promise<void> {
    if (doomed.length === 0) return;
    const set = new Set(doomed);
    this.segments = this.segments.filter((segment) => !set.has(segment));
    const renamed: string[] = [];
    for (const segment of doomed) {
      segment.deleted = true;
      if (this.writerSegment === segment) this.writerSegment = null;
      segment.writeHandle = null;
      segment.indexes = null;
      this.resources.fileHandles.forget(segment.logPath);
      this.resources.indexCache.delete(segment.logPath);
      const paths = [segment.logPath, segment.offsetIndexPath, segment.timeIndexPath];
      if (segment.txnIndexOnDisk) paths.push(segment.txnIndexPath);
      for (const path of paths) {
        try {
          await rename(path, path + DELETED_SUFFIX);
          renamed.push(path + DELETED_SUFFIX);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    }
    this.refreshAbortedTxnsPossible();
    this.logger.info(
      { dir: this.dir, reason, baseOffsets: doomed.map((segment) => segment.baseOffset) },
      'segments deleted',
    );
    this.scheduleUnlink(renamed);
  }

  private scheduleUnlink(paths: string[]): void {
    const run = async () => {
      await Promise.all(paths.map((path) => unlink(path).catch(() => {})));
    };
    const timer = setTimeout(() => {
      this.scheduledDeletions.delete(timer);
      void run();
    }, this.config.fileDeleteDelayMs);
    timer.unref();
    this.scheduledDeletions.set(timer, run);
  }

  updateConfig(config: LogConfig): void {
    validateLogConfig(config);
    this.config = { ...config };
  }

  // ------------------------------------------------------------------------------------------- lifecycle

  /**
   * Flushes, writes the active segment's indexes, the checkpoints that changed and the clean-shutdown marker,
   * closes files. A log nothing changed in since a clean open still has its marker, and a never-written one
   * needs none (its open has nothing to recover): their close writes nothing.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance.settled();
    if (!this.failure) {
      try {
        await this.flushInternal();
        await this.writePendingSnapshots(this.writtenOffset);
        // Before the snapshot at the log end: the next open replays nothing, so rebuilds no entry.
        for (const segment of this.segments) {
          if (segment.txnIndexDirty) await segment.writeTxnIndexFile();
        }
        // At the log end whenever the log changed: the next open then replays nothing.
        if (this.producerSnapshotStale || this.changedSinceOpen) {
          await writeSnapshot(this.dir, this.writtenOffset, this.producers.snapshotText());
          this.producerSnapshotStale = false;
        }
        if (this.changedSinceOpen || (!this.cleanMarkerOnDisk && !this.openedNew)) {
          const active = this.activeSegment;
          // Open rescans the active segment, so only a changed one's index files are worth writing.
          if (this.changedSinceOpen && active.indexes) {
            active.finishTimeIndex(active.indexes);
            await active.writeIndexFiles(active.indexes);
          }
          await this.writeLogStartOffsetCheckpoint();
          await this.epochs.persist();
          await writeFileAtomically(join(this.dir, CLEAN_SHUTDOWN_FILE), '');
          this.cleanMarkerOnDisk = true;
        }
      } catch (error) {
        this.logger.error({ dir: this.dir, err: error }, 'unclean close: recovery will run on next open');
      }
    }
    await this.runScheduledDeletions();
    this.releaseResources();
  }

  /** Stops the log without the clean-shutdown work and releases its files (before its directory goes). */
  async detach(): Promise<void> {
    this.closed = true;
    await this.maintenance.settled();
    await this.flushInternal().catch(() => {});
    await this.runScheduledDeletions();
    this.releaseResources();
  }

  /** Closes the log and removes its directory. */
  async delete(): Promise<void> {
    await this.detach();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async runScheduledDeletions(): Promise<void> {
    const runs = [...this.scheduledDeletions];
    this.scheduledDeletions.clear();
    for (const [timer] of runs) clearTimeout(timer);
    await Promise.all(runs.map(([, run]) => run()));
  }

  private releaseResources(): void {
    for (const segment of this.segments) {
      this.resources.fileHandles.forget(segment.logPath);
      this.resources.indexCache.delete(segment.logPath);
      segment.writeHandle = null;
    }
    this.tail.clear();
    this.listeners.clear();
  }

  // -------------------------------------------------------------------------------------------- recovery

  private async load(): Promise<void> {
    const names = await readdir(this.dir);
    const clean = names.includes(CLEAN_SHUTDOWN_FILE);
    this.cleanMarkerOnDisk = clean;
    const baseOffsets: number[] = [];
    for (const name of names) {
      const base = parseSegmentFileName(name, LOG_SUFFIX);
      if (base !== null) baseOffsets.push(base);
    }
    baseOffsets.sort((a, b) => a - b);
    await this.removeStrayFiles(names, new Set(baseOffsets));
    // A file the listing lacks is not opened: thousands of new partitions would each throw three ENOENTs.
    const readIfListed = (name: string) =>
      names.includes(name) ? readOffsetCheckpoint(join(this.dir, name)) : null;
    const startCheckpoint = await readIfListed(LOG_START_OFFSET_FILE);
    const recoveryCheckpoint = await readIfListed(RECOVERY_POINT_FILE);
    if (names.includes(LEADER_EPOCH_FILE)) {
      this.epochs = await LeaderEpochCache.load(join(this.dir, LEADER_EPOCH_FILE));
    }
    if (startCheckpoint !== null) {
      this.logStartOffsetFile = new CheckpointFile(
        this.logStartOffsetFile.path,
        offsetCheckpointText(startCheckpoint),
      );
    }
    this.segments = baseOffsets.map((base) => new LogSegment(this.dir, base, this.rollJitterMs()));
    const txnIndexBases = new Set<number>();
    for (const name of names) {
      const base = parseSegmentFileName(name, TXN_INDEX_SUFFIX);
      if (base !== null) txnIndexBases.add(base);
    }
    for (const segment of this.segments) {
      await segment.refreshFileStats();
      segment.txnIndexOnDisk = txnIndexBases.has(segment.baseOffset);
    }
    // A partition never written to (new, or only ever opened and closed): missing checkpoints read back as
    // exactly what it would write (start and recovery point 0, no epochs) and an empty segment has nothing to
    // recover, so it skips those writes and their fsyncs, clean shutdown or not. A topic of thousands of
    // partitions is created, stopped and started several times faster for it.
    const fresh =
      startCheckpoint === null &&
      recoveryCheckpoint === null &&
      this.epochs.all.length === 0 &&
      (this.segments.length === 0 ||
        (this.segments.length === 1 &&
          (this.segments[0] as LogSegment).baseOffset === 0 &&
          (this.segments[0] as LogSegment).sizeBytes === 0));
    this.openedNew = fresh;

    if (this.segments.length === 0) {
      await this.createActiveSegment(startCheckpoint ?? 0);
    } else {
      const recoveryPoint = clean ? Number.MAX_SAFE_INTEGER : (recoveryCheckpoint ?? 0);
      const firstToRecover = Math.min(
        this.segments.indexOf(this.segmentFor(recoveryPoint) as LogSegment),
        this.segments.length - 1,
      );
      for (let i = 0; i < firstToRecover; i++) {
        await this.loadSealedSegment(
          this.segments[i] as LogSegment,
          (this.segments[i + 1] as LogSegment).baseOffset,
        );
      }
      for (let i = firstToRecover; i < this.segments.length; i++) {
        const segment = this.segments[i] as LogSegment;
        await this.recoverSegment(segment, i === this.segments.length - 1, !clean && !fresh);
      }
      const active = this.activeSegment;
      this.nextOffset = active.nextOffset;
      this.writtenOffset = active.nextOffset;
      this.syncedOffset = active.nextOffset;
      this.flushedOffset = active.nextOffset;
      this.writerSegment = active;
    }

    this.startOffset = Math.max(startCheckpoint ?? 0, (this.segments[0] as LogSegment).baseOffset);
    if (this.startOffset > this.writtenOffset) {
      this.logger.warn(
        { dir: this.dir, logStartOffset: this.startOffset, logEndOffset: this.writtenOffset },
        'log ends before its start offset; starting empty at the start offset',
      );
      await this.beginChange();
      await this.truncateFullyAndStartAt(this.startOffset);
    }
    this.epochs.truncateFromEnd(this.writtenOffset);
    this.epochs.truncateFromStart(this.startOffset);
    this.highWatermarkOffset = this.writtenOffset;
    // The listing, unless the cut above removed the snapshots it names.
    await this.loadProducerState(this.changedSinceOpen ? await readdir(this.dir) : names, fresh, !clean);
    // A missing recovery point reads back as 0.
    this.recoveryPointFile = new CheckpointFile(
      this.recoveryPointFile.path,
      offsetCheckpointText(recoveryCheckpoint ?? 0),
    );
    if (!fresh) {
      // Each is written only when recovery changed it.
      await this.epochs.persist();
      await this.writeLogStartOffsetCheckpoint();
      await this.checkpointRecoveryPoint();
      // After a crash, a checkpoint replaced or a segment created just before it may not have its name on
      // disk yet; what this open read and kept must not go back to an older version after a power loss.
      if (!clean) await syncDirectory(this.dir);
    }
    this.lastFlushMs = this.nowMs();
  }

  /**
   * Rebuilds the producer state: the newest readable snapshot at or below the log end, then the batches
   * after it. Without one, from the log start, unless the log was never written.
   *
   * The transaction indexes of the segments replayed are rebuilt with it: an entry needs the producer state
   * at its marker, so entries before the replay's start are kept and later ones replaced. `checkTail` (after a
   * crash or a truncation) also drops entries past the log end where nothing is replayed.
   */
  private async loadProducerState(
    names: readonly string[],
    fresh: boolean,
    checkTail: boolean,
  ): Promise<void> {
    this.producers.clear();
    this.producers.onHighWatermarkUpdated(this.highWatermarkOffset);
    const end = this.writtenOffset;
    let from: number | null = null;
    for (const offset of snapshotOffsets(names)) {
      const path = join(this.dir, snapshotFileName(offset));
      if (offset > end) {
        // Past what recovery kept: it describes batches that are gone.
        await rm(path, { force: true });
        continue;
      }
      try {
        this.producers.loadSnapshot(await readFile(path, 'utf8'));
        from = offset;
        break;
      } catch (error) {
        this.logger.warn({ path, err: error }, 'producer snapshot unreadable, using an older one');
        await rm(path, { force: true });
      }
    }
    if (from !== null || !fresh) {
      let replayFrom = Math.max(from ?? this.startOffset, this.startOffset);
      if (replayFrom < end || checkTail) {
        let first = this.segmentFor(replayFrom) as LogSegment;
        let kept: TransactionIndex | null = null;
        if (first.baseOffset < replayFrom) {
          const existing = await this.currentTxnIndex(first);
          if (typeof existing !== 'string') {
            kept = existing;
          } else if (replayFrom > this.startOffset) {
            // The entries before the snapshot cannot be rebuilt from it: replay from the log start instead.
            this.logger.warn(
              { segment: first.txnIndexPath, reason: existing },
              'transaction index unreadable, replaying producer state from the log start',
            );
            this.producers.clear();
            this.producers.onHighWatermarkUpdated(this.highWatermarkOffset);
            from = null;
            replayFrom = this.startOffset;
            first = this.segmentFor(replayFrom) as LogSegment;
          }
        }
        const replayed = this.segments.slice(this.segments.indexOf(first));
        const rebuilt = replayed.map((segment) => {
          if (segment !== first || kept === null) return new TransactionIndex();
          const index = new TransactionIndex(Buffer.from(kept.bytes));
          index.truncateTo(replayFrom);
          return index;
        });
        if (replayFrom < end) {
          await replaySegments(
            this.producers,
            replayed,
            replayFrom,
            this.resources.fileHandles,
            this.nowMs(),
            (entry, segmentIndex) => rebuilt[segmentIndex]?.append(entry),
          );
        }
        for (const [i, segment] of replayed.entries()) {
          await this.adoptRebuiltTxnIndex(segment, rebuilt[i] as TransactionIndex);
        }
      }
      this.producerSnapshotStale = from !== end;
    }
    const active = this.activeSegment;
    // Appends add to the active segment's entries: those in its file must be there first.
    if (active.abortedTxns === null && active.txnIndexOnDisk) await this.txnIndexOf(active);
    this.refreshAbortedTxnsPossible();
  }

  /** The segment's entries as they stand (in memory, else its file), or what is wrong with its file. */
  private async currentTxnIndex(segment: LogSegment): Promise<TransactionIndex | string> {
    return segment.abortedTxns ?? (await segment.readTxnIndexFile());
  }

  /** Takes a replay's entries for `segment`; a sealed segment's file is rewritten now when they differ. */
  private async adoptRebuiltTxnIndex(segment: LogSegment, rebuilt: TransactionIndex): Promise<void> {
    const onDisk = segment.txnIndexOnDisk ? await segment.readTxnIndexFile() : new TransactionIndex();
    const previous = segment.abortedTxns;
    segment.abortedTxns = rebuilt;
    segment.txnIndexDirty = typeof onDisk === 'string' || !onDisk.bytes.equals(rebuilt.bytes);
    if (segment.txnIndexDirty && (previous === null || !previous.bytes.equals(rebuilt.bytes))) {
      this.logger.info(
        { segment: segment.txnIndexPath, entries: rebuilt.entries },
        'transaction index rebuilt from the log',
      );
    }
    if (segment.txnIndexDirty && segment.sealed) await segment.writeTxnIndexFile();
  }

  private async removeStrayFiles(names: string[], baseOffsets: Set<number>): Promise<void> {
    for (const name of names) {
      const indexBase =
        parseSegmentFileName(name, OFFSET_INDEX_SUFFIX) ??
        parseSegmentFileName(name, TIME_INDEX_SUFFIX) ??
        parseSegmentFileName(name, TXN_INDEX_SUFFIX);
      const orphanIndex = indexBase !== null && !baseOffsets.has(indexBase);
      if (name.endsWith(DELETED_SUFFIX) || name.endsWith('.tmp') || orphanIndex) {
        await rm(join(this.dir, name), { force: true, recursive: true });
      }
    }
  }

  /** A segment below the recovery point: trusted, with a cheap check of its index files. */
  private async loadSealedSegment(segment: LogSegment, endOffset: number): Promise<void> {
    segment.sealed = true;
    segment.fileCreated = true;
    segment.nextOffset = endOffset;
    const check = await segment.quickIndexCheck();
    if (typeof check !== 'string') {
      segment.adoptTimestamps(check.last);
      return;
    }
    this.logger.warn({ segment: segment.logPath, reason: check }, 'index files invalid, rebuilding');
    await this.rebuildIndexes(segment);
  }

  /** Scans a segment after the recovery point, truncating at the first bad batch (and dropping later segments). */
  private async recoverSegment(segment: LogSegment, isLast: boolean, unclean: boolean): Promise<void> {
    const handle = await open(segment.logPath, 'r+');
    let keepHandle = false;
    try {
      const scan = await scanSegment(segment, handle, segment.sizeBytes, this.scanOptions(true), (header) => {
        if (unclean) this.epochs.assign(header.partitionLeaderEpoch, header.baseOffset);
      });
      let becomesLast = isLast;
      if (scan.problem) {
        this.logger.warn(
          {
            segment: segment.logPath,
            position: scan.validBytes,
            truncatedBytes: segment.sizeBytes - scan.validBytes,
            nextOffset: segment.nextOffset,
            reason: scan.problem,
          },
          'log recovery truncated an invalid tail',
        );
        // The marker would let a crash from here on skip the recovery of what is being changed.
        await this.beginChange();
        await handle.truncate(scan.validBytes);
        segment.sizeBytes = scan.validBytes;
        segment.writtenBytes = scan.validBytes;
        const later = this.segments.slice(this.segments.indexOf(segment) + 1);
        if (later.length > 0) {
          this.logger.warn(
            { dir: this.dir, baseOffsets: later.map((s) => s.baseOffset) },
            'log recovery deleted segments after the truncation point',
          );
          for (const dropped of later) {
            for (const path of [
              dropped.logPath,
              dropped.offsetIndexPath,
              dropped.timeIndexPath,
              dropped.txnIndexPath,
            ]) {
              await rm(path, { force: true });
            }
          }
          // Back after a power loss, they would follow the cut with a gap in offsets.
          await syncDirectory(this.dir);
          this.segments = this.segments.slice(0, this.segments.indexOf(segment) + 1);
        }
        becomesLast = true;
      }
      if (unclean || scan.problem) await handle.datasync();
      segment.fileCreated = true;
      if (becomesLast) {
        segment.indexes = scan.indexes;
        segment.writeHandle = handle;
        this.resources.fileHandles.adopt(segment.logPath, handle);
        keepHandle = true;
      } else {
        segment.sealed = true;
        segment.finishTimeIndex(scan.indexes);
        await segment.writeIndexFiles(scan.indexes);
        this.resources.indexCache.put(segment.logPath, scan.indexes);
      }
    } finally {
      if (!keepHandle) await handle.close();
    }
  }
}

/** Checks that `batches` frames as whole magic-2 batches and returns how many offsets they take. */
function countOffsets(batches: Buffer): number {
  if (batches.length === 0) throw new CorruptBatchError('no batches to append');
  let offsets = 0;
  for (let at = 0; at < batches.length; ) {
    if (batches.length - at < RECORD_BATCH_OVERHEAD)
      throw new CorruptBatchError(`truncated batch header at ${at}`);
    const size = batchSizeAt(batches, at);
    if (size < RECORD_BATCH_OVERHEAD || at + size > batches.length) {
      throw new CorruptBatchError(`batch at ${at} claims ${size} bytes`);
    }
    const magic = batches.readInt8(at + MAGIC_OFFSET);
    if (magic !== CURRENT_MAGIC) throw new CorruptBatchError(`batch at ${at} has magic ${magic}`);
    const lastOffsetDelta = batches.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    if (lastOffsetDelta < 0)
      throw new CorruptBatchError(`batch at ${at} has last offset delta ${lastOffsetDelta}`);
    offsets += lastOffsetDelta + 1;
    at += size;
  }
  return offsets;
}

/** Writes all of `buffers` at `position`, continuing after short writes. */
async function writevFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  while (total > 0) {
    const { bytesWritten } = await handle.writev(remaining, at);
    total -= bytesWritten;
    at += bytesWritten;
    if (total === 0) break;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const buffer of remaining) {
      if (skip >= buffer.length) {
        skip -= buffer.length;
        continue;
      }
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
    remaining = rest;
  }
}

function clampWindow(bytes: number): number {
  return Math.min(MAX_READ_WINDOW_BYTES, Math.max(MIN_READ_WINDOW_BYTES, bytes));
}

/** Time retention counts from a segment's largest timestamp, or its file time when batches carry none. */
function retainedSinceMs(segment: LogSegment): number {
  return segment.largestTimestampMs >= 0 ? segment.largestTimestampMs : segment.modifiedMs;
}
