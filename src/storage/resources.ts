import { type FileHandle, open } from 'node:fs/promises';
import type { BufferPool } from '../common/buffer-pool.js';
import type { OffsetIndex, TimeIndex } from './indexes.js';
import type { SerialQueue } from './serial-queue.js';
import type { TailCacheBudget } from './tail-cache.js';

export interface FileLease {
  readonly handle: FileHandle;
  release(): void;
}

interface PoolEntry {
  readonly handle: Promise<FileHandle>;
  refs: number;
  pinned: boolean;
  forgotten: boolean;
}

function closeQuietly(handle: Promise<FileHandle>): void {
  handle.then((h) => h.close()).catch(() => {});
}

/**
 * Open read handles of sealed segments, shared by every log, least recently used closed first once more than
 * `maxIdleHandles` are open. Handles in use are reference counted, so deleting or evicting a segment never
 * closes a descriptor under a read in flight. Active segments' write handles are adopted as pinned entries.
 */
export class FileHandlePool {
  private readonly entries = new Map<string, PoolEntry>();
  private pinnedCount = 0;

  constructor(readonly maxIdleHandles: number) {}

  get openHandles(): number {
    return this.entries.size;
  }

  async acquire(path: string): Promise<FileLease> {
    let entry = this.entries.get(path);
    if (entry) {
      this.entries.delete(path);
    } else {
      entry = { handle: open(path, 'r'), refs: 0, pinned: false, forgotten: false };
    }
    this.entries.set(path, entry);
    entry.refs++;
    const leased = entry;
    let handle: FileHandle;
    try {
      handle = await leased.handle;
    } catch (error) {
      leased.refs--;
      if (this.entries.get(path) === leased) this.entries.delete(path);
      throw error;
    }
    this.closeIdleBeyondLimit();
    let released = false;
    return {
      handle,
      release: () => {
        if (released) return;
        released = true;
        leased.refs--;
        if (leased.refs === 0 && leased.forgotten) closeQuietly(leased.handle);
      },
    };
  }

  /** Registers an already open (write) handle that must stay open until `unpin` or `forget`. */
  adopt(path: string, handle: FileHandle): void {
    this.forget(path);
    this.entries.set(path, { handle: Promise.resolve(handle), refs: 0, pinned: true, forgotten: false });
    this.pinnedCount++;
  }

  unpin(path: string): void {
    const entry = this.entries.get(path);
    if (!entry?.pinned) return;
    entry.pinned = false;
    this.pinnedCount--;
    this.closeIdleBeyondLimit();
  }

  /** Drops the path's handle: closed now if idle, else when its last lease is released. */
  forget(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    if (entry.pinned) this.pinnedCount--;
    entry.forgotten = true;
    if (entry.refs === 0) closeQuietly(entry.handle);
  }

  private closeIdleBeyondLimit(): void {
    let excess = this.entries.size - this.pinnedCount - this.maxIdleHandles;
    if (excess <= 0) return;
    for (const [path, entry] of this.entries) {
      if (excess <= 0) break;
      if (entry.refs > 0 || entry.pinned) continue;
      this.entries.delete(path);
      closeQuietly(entry.handle);
      excess--;
    }
  }
}

export interface SegmentIndexes {
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
}

/** Loaded indexes of sealed segments, least recently used dropped first beyond `maxBytes`. */
export class IndexCache {
  private readonly entries = new Map<string, SegmentIndexes>();
  private usedBytes = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get(key: string): SegmentIndexes | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  put(key: string, value: SegmentIndexes): void {
    this.delete(key);
    this.entries.set(key, value);
    this.usedBytes += sizeOf(value);
    for (const [oldKey, oldValue] of this.entries) {
      if (this.usedBytes <= this.maxBytes || oldKey === key) break;
      this.entries.delete(oldKey);
      this.usedBytes -= sizeOf(oldValue);
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (!value) return;
    this.entries.delete(key);
    this.usedBytes -= sizeOf(value);
  }
}

function sizeOf(indexes: SegmentIndexes): number {
  return indexes.offsetIndex.capacityBytes + indexes.timeIndex.capacityBytes;
}

/** Process-wide bounds shared by every log of a LogManager. */
export interface StorageResources {
  /**
   * Background fsyncs, one at a time. Partitions loaded alike roll together; their fsyncs, each as long as the
   * kernel takes to write back a segment, would otherwise hold every thread of libuv's pool (4) and leave the
   * appends' writes queued behind them.
   */
  readonly backgroundSyncs: SerialQueue;
  readonly fileHandles: FileHandlePool;
  readonly indexCache: IndexCache;
  readonly tailCacheBudget: TailCacheBudget;
  /** Where tail-cache chunks and read windows come from; the broker shares it with its network layer. */
  readonly bufferPool: BufferPool;
}
