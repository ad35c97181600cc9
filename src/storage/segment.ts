import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_BATCH_OVERHEAD } from '../protocol/records/layout.js';
import { type BatchHeader, checkBatch } from './batch.js';
import { replaceFile, writeFileAtomically } from './checkpoint.js';
import { OffsetIndex, TimeIndex, type TimestampOffset } from './indexes.js';
import type { SegmentIndexes } from './resources.js';
import { type AbortedTxnEntry, TransactionIndex, TXN_INDEX_SUFFIX } from './txn-index.js';

export const LOG_SUFFIX = '.log';
export const OFFSET_INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Offsets inside a segment are stored as u32 deltas from its base offset. */
export const MAX_RELATIVE_OFFSET = 0xffff_ffff;
const SCAN_WINDOW_BYTES = 1024 * 1024;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** Base offset encoded in a segment file name, or null when the name is not one. */
export function parseSegmentFileName(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null;
  const digits = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(digits)) return null;
  const offset = Number(digits);
  return Number.isSafeInteger(offset) ? offset : null;
}

/**
 * One segment: the `.log` file of whole batches starting at `baseOffset`, and its sparse offset and time
 * indexes. Only the active (last) segment is written; its indexes live in memory until it is sealed, after
 * which they are files loaded on demand through the shared index cache.
 */
export class LogSegment {
  readonly logPath: string;
  readonly offsetIndexPath: string;
  readonly timeIndexPath: string;
  readonly txnIndexPath: string;
  /**
   * The aborted transactions whose markers are in this segment, once known: always for the active segment,
   * read on demand for sealed ones. Null with `txnIndexOnDisk` false means none.
   */
  abortedTxns: TransactionIndex | null = null;
  /** The segment has a `.txnindex` file (written only once it has an entry). */
  txnIndexOnDisk = false;
  /** `abortedTxns` holds entries its file lacks or lacks entries its file holds. */
  txnIndexDirty = false;
  /** Bytes given out to appends (active) or the file size (sealed). */
  sizeBytes = 0;
  /** Bytes known to be in the file, so safe to read. */
  writtenBytes = 0;
  /** The offset after the last batch placed in this segment. */
  nextOffset: number;
  largestTimestampMs = -1;
  /** Base offset of the batch that carried `largestTimestampMs`. */
  largestTimestampBatchOffset = -1;
  /**
   * When the first batch arrived: segment.ms counts from it. Append time, not the producer's timestamp, so
   * a producer with a skewed clock cannot make every append roll; after a reopen the first batch's own
   * timestamp stands in (capped at the open time).
   */
  rollBaseTimestampMs: number | null = null;
  /** In memory only while the segment is active. */
  indexes: SegmentIndexes | null = null;
  private bytesSinceIndexEntry = 0;
  sealed = false;
  deleted = false;
  /** The active segment's file exists once the writer created it. */
  fileCreated = false;
  writeHandle: FileHandle | null = null;
  /** File modification time, for time retention of segments whose batches carry no timestamps. */
  modifiedMs = 0;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly rollJitterMs: number,
  ) {
    this.logPath = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.offsetIndexPath = join(dir, segmentFileName(baseOffset, OFFSET_INDEX_SUFFIX));
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX));
    this.txnIndexPath = join(dir, segmentFileName(baseOffset, TXN_INDEX_SUFFIX));
    this.nextOffset = baseOffset;
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** Forgets what the segment holds and returns empty indexes to rebuild it into (the caller keeps them). */
  resetIndexes(maxIndexEntries: number): SegmentIndexes {
    this.bytesSinceIndexEntry = 0;
    this.largestTimestampMs = -1;
    this.largestTimestampBatchOffset = -1;
    this.rollBaseTimestampMs = null;
    this.nextOffset = this.baseOffset;
    return { offsetIndex: new OffsetIndex(maxIndexEntries), timeIndex: new TimeIndex(maxIndexEntries) };
  }

  /** Accounts for a batch placed at `position`: index entries, timestamps, next offset. */
  indexBatch(
    indexes: SegmentIndexes,
    header: BatchHeader,
    position: number,
    indexIntervalBytes: number,
    firstBatchTimeMs: number,
  ): void {
    this.rollBaseTimestampMs ??= firstBatchTimeMs;
    if (header.maxTimestampMs > this.largestTimestampMs) {
      this.largestTimestampMs = header.maxTimestampMs;
      this.largestTimestampBatchOffset = header.baseOffset;
    }
    // A full index just stops growing: lookups scan a little further. The roll check keeps this rare.
    if (this.bytesSinceIndexEntry > indexIntervalBytes && !indexes.offsetIndex.isFull) {
      indexes.offsetIndex.append(header.baseOffset - this.baseOffset, position);
      if (this.largestTimestampMs >= 0 && !indexes.timeIndex.isFull) {
        indexes.timeIndex.maybeAppend(
          this.largestTimestampMs,
          this.largestTimestampBatchOffset - this.baseOffset,
        );
      }
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += header.sizeBytes;
    this.nextOffset = header.lastOffset + 1;
  }

  /** Appends the segment's largest timestamp as the final time index entry, so reopening can read it back. */
  finishTimeIndex(indexes: SegmentIndexes): void {
    if (this.largestTimestampMs >= 0) {
      indexes.timeIndex.maybeAppend(
        this.largestTimestampMs,
        this.largestTimestampBatchOffset - this.baseOffset,
      );
    }
  }

  /**
   * Replaces both index files whole (temporary file, fsync, rename): a crash mid-write leaves the old file or
   * the new one, never a torn one that could pass the open-time check (an empty time index is valid, and
   * would lose the segment's largest timestamp). A new name may be lost with a crash (no directory fsync):
   * the open then rebuilds the missing index.
   */
  async writeIndexFiles(indexes: SegmentIndexes): Promise<void> {
    // Both settle before a failure is reported: a retry must not race the other file's write.
    const [offsetIndex, timeIndex] = await Promise.allSettled([
      replaceFile(this.offsetIndexPath, indexes.offsetIndex.bytes),
      replaceFile(this.timeIndexPath, indexes.timeIndex.bytes),
    ]);
    for (const outcome of [offsetIndex, timeIndex]) if (outcome.status === 'rejected') throw outcome.reason;
  }

  /**
   * Reads the index files of a sealed segment whose end offset is `endOffset`, or says what is wrong with
   * them (missing, torn or inconsistent with the segment).
   */
  async loadIndexFiles(maxIndexEntries: number, endOffset: number): Promise<SegmentIndexes | string> {
    let offsetBytes: Buffer;
    let timeBytes: Buffer;
    try {
      [offsetBytes, timeBytes] = await Promise.all([
        readWhole(this.offsetIndexPath),
        readWhole(this.timeIndexPath),
      ]);
    } catch (error) {
      return `unreadable: ${(error as Error).message}`;
    }
    const maxRelative = Math.max(0, endOffset - 1 - this.baseOffset);
    const problem =
      OffsetIndex.problem(offsetBytes, this.sizeBytes, maxRelative) ??
      TimeIndex.problem(timeBytes, maxRelative);
    if (problem) return problem;
    const entries = Math.max(maxIndexEntries, offsetBytes.length / OffsetIndex.ENTRY_BYTES);
    return {
      offsetIndex: new OffsetIndex(entries, offsetBytes),
      timeIndex: new TimeIndex(Math.max(entries, timeBytes.length / TimeIndex.ENTRY_BYTES), timeBytes),
    };
  }

  /** Records an aborted transaction whose marker is in this segment (its entries must be loaded, if any). */
  addAbortedTxn(entry: AbortedTxnEntry): void {
    this.abortedTxns ??= new TransactionIndex();
    this.abortedTxns.append(entry);
    this.txnIndexDirty = true;
  }

  /** Whether the segment may hold aborted transactions (false: certainly none). */
  get mayHaveAbortedTxns(): boolean {
    return this.abortedTxns === null ? this.txnIndexOnDisk : this.abortedTxns.entries > 0;
  }

  /** Reads the `.txnindex` file: its entries (none when it is missing), or what is wrong with it. */
  async readTxnIndexFile(): Promise<TransactionIndex | string> {
    if (!this.txnIndexOnDisk) return new TransactionIndex();
    let bytes: Buffer;
    try {
      bytes = await readWhole(this.txnIndexPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new TransactionIndex();
      return `unreadable: ${(error as Error).message}`;
    }
    return TransactionIndex.problem(bytes) ?? new TransactionIndex(bytes);
  }

  /** Replaces the `.txnindex` file whole with `abortedTxns` (fsynced, as the other index files). */
  async writeTxnIndexFile(): Promise<void> {
    const index = this.abortedTxns;
    if (index === null) return;
    this.txnIndexDirty = false;
    try {
      await writeFileAtomically(this.txnIndexPath, index.bytes);
      this.txnIndexOnDisk = true;
    } catch (error) {
      this.txnIndexDirty = true;
      throw error;
    }
  }

  /** Takes the segment's largest timestamp from its time index's final entry. */
  adoptTimestamps(last: TimestampOffset | null): void {
    this.largestTimestampMs = last?.timestampMs ?? -1;
    this.largestTimestampBatchOffset = last ? this.baseOffset + last.relativeOffset : -1;
  }

  /**
   * Open-time check of a sealed segment's index files that reads only a few bytes: both must exist and hold
   * whole entries. Returns the time index's final entry (the segment's largest timestamp) or the problem.
   */
  async quickIndexCheck(): Promise<{ last: TimestampOffset | null } | string> {
    try {
      const [offsetStats, timeStats] = await Promise.all([
        stat(this.offsetIndexPath),
        stat(this.timeIndexPath),
      ]);
      if (offsetStats.size % OffsetIndex.ENTRY_BYTES !== 0) return `offset index size ${offsetStats.size}`;
      if (timeStats.size % TimeIndex.ENTRY_BYTES !== 0) return `time index size ${timeStats.size}`;
      if (timeStats.size === 0) return { last: null };
      const handle = await open(this.timeIndexPath, 'r');
      try {
        const entry = Buffer.alloc(TimeIndex.ENTRY_BYTES);
        await readFully(handle, entry, entry.length, timeStats.size - entry.length);
        return { last: new TimeIndex(1, entry).entry(0) };
      } finally {
        await handle.close();
      }
    } catch (error) {
      return `unreadable: ${(error as Error).message}`;
    }
  }

  async refreshFileStats(): Promise<void> {
    const stats = await stat(this.logPath);
    this.sizeBytes = stats.size;
    this.writtenBytes = stats.size;
    this.modifiedMs = stats.mtimeMs;
  }
}

async function readWhole(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Reads up to `length` bytes at `position`, returning how many were read (fewer only at end of file). */
export async function readFully(
  handle: FileHandle,
  buffer: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

export interface ScanResult {
  readonly indexes: SegmentIndexes;
  /** Bytes from the start of the file up to the end of the last good batch. */
  validBytes: number;
  /** Why the scan stopped before the end of the file, or null. */
  problem: string | null;
}

/**
 * Rebuilds the segment's indexes (returned) and metadata by reading every batch header from position 0, optionally
 * verifying each batch's CRC. Stops at the first batch that is cut short, garbled or out of order.
 */
export async function scanSegment(
  segment: LogSegment,
  handle: FileHandle,
  fileBytes: number,
  options: { verifyCrc: boolean; indexIntervalBytes: number; maxIndexEntries: number; nowMs: number },
  onBatch?: (header: BatchHeader) => void,
): Promise<ScanResult> {
  const indexes = segment.resetIndexes(options.maxIndexEntries);
  let window = Buffer.allocUnsafe(Math.min(SCAN_WINDOW_BYTES, Math.max(fileBytes, RECORD_BATCH_OVERHEAD)));
  let windowStart = 0;
  let windowBytes = 0;
  let position = 0;
  while (position < fileBytes) {
    const at = position - windowStart;
    const check = checkBatch(window, at, windowBytes - at, fileBytes - position, options.verifyCrc);
    if (check.kind === 'incomplete') {
      if (check.neededBytes > window.length) window = Buffer.allocUnsafe(check.neededBytes);
      windowStart = position;
      windowBytes = await readFully(handle, window, Math.min(window.length, fileBytes - position), position);
      if (windowBytes < check.neededBytes)
        return { indexes, validBytes: position, problem: 'file shrank while scanning' };
      continue;
    }
    if (check.kind === 'corrupt') return { indexes, validBytes: position, problem: check.reason };
    const header = check.header;
    if (
      header.baseOffset < segment.nextOffset ||
      header.lastOffset - segment.baseOffset > MAX_RELATIVE_OFFSET
    ) {
      return { indexes, validBytes: position, problem: `batch offset ${header.baseOffset} out of order` };
    }
    const firstBatchTimeMs =
      header.maxTimestampMs >= 0 ? Math.min(header.maxTimestampMs, options.nowMs) : options.nowMs;
    segment.indexBatch(indexes, header, position, options.indexIntervalBytes, firstBatchTimeMs);
    onBatch?.(header);
    position += header.sizeBytes;
  }
  return { indexes, validBytes: position, problem: null };
}
