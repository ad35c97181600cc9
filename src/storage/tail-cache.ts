import type { BufferPool, PooledBuffer } from '../common/buffer-pool.js';
import { BASE_OFFSET_OFFSET, LAST_OFFSET_DELTA_OFFSET, readInt64 } from '../protocol/records/layout.js';
import { batchSizeAt } from './batch.js';

/**
 * A run of consecutive batches copied from appends, in offset order. Its pooled buffer holds one reference
 * for the cache, one per append not yet written to the file and one per read not yet answered: the bytes
 * are reused only after all of them are done.
 */
interface TailChunk {
  readonly pooled: PooledBuffer;
  readonly buffer: Buffer;
  usedBytes: number;
  readonly firstOffset: number;
  owner: TailCache | null;
  /**
   * Where each append starts: its first offset and byte position, in increasing order. A read at the tail
   * starts from the right append instead of walking every batch header from the start of the chunk (a
   * megabyte chunk holds a thousand single-record batches).
   */
  readonly appendOffsets: number[];
  readonly appendPositions: number[];
}

/** Bounds the bytes held by all tail caches together; when over, the globally oldest chunk goes first. */
export class TailCacheBudget {
  private readonly chunks = new Set<TailChunk>();
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  add(chunk: TailChunk): void {
    this.chunks.add(chunk);
    this.used += chunk.buffer.length;
    while (this.used > this.maxBytes && this.chunks.size > 1) {
      const oldest = this.chunks.values().next().value as TailChunk;
      if (oldest.owner) oldest.owner.dropThrough(oldest);
      else this.remove(oldest);
    }
  }

  remove(chunk: TailChunk): void {
    if (!this.chunks.delete(chunk)) return;
    this.used -= chunk.buffer.length;
    chunk.pooled.release();
  }
}

export interface ReadResult {
  chunks: Buffer[];
  bytes: number;
  /** Pooled buffers `chunks` point into, one reference each for this result: see `releaseRead`. */
  holds: PooledBuffer[];
}

/** Ends a read result's hold on its buffers; call once, after the last use of its chunks. */
export function releaseRead(result: ReadResult): void {
  for (const hold of result.holds) hold.release();
  result.holds.length = 0;
}

/** What `TailCache.add` hands the writer: the bytes to write, and the reference keeping them until written. */
export interface CachedAppend {
  readonly data: Buffer;
  readonly hold: PooledBuffer | null;
}

/**
 * The most recently appended batches of one log, so consumers at the tail are served from memory. Holds a
 * contiguous offset range ending at the log end offset; appends are copied in, and the copy is what the log
 * writes to disk, so the producer's request buffer is not retained.
 */
export class TailCache {
  private chunks: TailChunk[] = [];
  private heldBytes = 0;

  /**
   * Chunks start at `minChunkBytes` and double as each fills, up to `maxChunkBytes`: all logs share one
   * budget, so a log receiving a few kilobytes a second must not take a large chunk of it (with 256 KiB
   * chunks the 16 MiB budget held the tails of only 64 partitions, and consumers of the rest of a
   * 1000-partition topic read from disk).
   */
  constructor(
    private readonly budget: TailCacheBudget,
    private readonly pool: BufferPool,
    readonly maxBytes: number,
    readonly minChunkBytes: number,
    readonly maxChunkBytes: number,
  ) {}

  get firstOffset(): number | null {
    return this.chunks[0]?.firstOffset ?? null;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * Copies `data` (whole batches starting at `firstOffset`) into the cache and returns the copy, with a
   * reference the writer releases once the copy is in the file. Data too big to cache ends the cached range;
   * the caller's buffer is returned as is, without a hold.
   */
  add(data: Buffer, firstOffset: number): CachedAppend {
    if (data.length > this.maxBytes) {
      this.clear();
      return { data, hold: null };
    }
    let chunk = this.chunks.at(-1);
    if (!chunk || chunk.buffer.length - chunk.usedBytes < data.length) {
      const grown = chunk ? Math.min(chunk.buffer.length * 2, this.maxChunkBytes) : this.minChunkBytes;
      const chunkBytes = Math.max(grown, data.length);
      const pooled = this.pool.acquire(chunkBytes);
      chunk = {
        pooled,
        buffer: pooled.buffer.subarray(0, chunkBytes),
        usedBytes: 0,
        firstOffset,
        owner: this,
        appendOffsets: [],
        appendPositions: [],
      };
      while (this.chunks.length > 0 && this.heldBytes + chunk.buffer.length > this.maxBytes) {
        this.dropThrough(this.chunks[0] as TailChunk);
      }
      this.chunks.push(chunk);
      this.heldBytes += chunk.buffer.length;
      this.budget.add(chunk);
      // The budget may have evicted this very chunk to make room elsewhere: then nothing is cached.
      if (chunk.owner === null) return { data, hold: null };
    }
    const start = chunk.usedBytes;
    chunk.appendOffsets.push(firstOffset);
    chunk.appendPositions.push(start);
    data.copy(chunk.buffer, start);
    chunk.usedBytes += data.length;
    return { data: chunk.buffer.subarray(start, start + data.length), hold: chunk.pooled.retain() };
  }

  /** Drops `chunk` and every older one, keeping the cached range contiguous. */
  dropThrough(chunk: TailChunk): void {
    const index = this.chunks.indexOf(chunk);
    const dropped = index < 0 ? [chunk] : this.chunks.splice(0, index + 1);
    for (const old of dropped) {
      if (old.owner === this) this.heldBytes -= old.buffer.length;
      old.owner = null;
      this.budget.remove(old);
    }
  }

  clear(): void {
    const last = this.chunks.at(-1);
    if (last) this.dropThrough(last);
  }

  /**
   * Whole batches from the one containing `fetchOffset`, each ending before `endOffset`, up to `maxBytes`
   * (the first batch regardless when `minOneBatch`). Null when `fetchOffset` is older than the cache.
   */
  read(fetchOffset: number, endOffset: number, maxBytes: number, minOneBatch: boolean): ReadResult | null {
    const first = this.chunks[0];
    if (!first || fetchOffset < first.firstOffset) return null;
    let index = this.chunks.length - 1;
    while ((this.chunks[index] as TailChunk).firstOffset > fetchOffset) index--;
    const result: ReadResult = { chunks: [], bytes: 0, holds: [] };
    let started = false;
    let at = appendPositionBefore(this.chunks[index] as TailChunk, fetchOffset);
    for (; index < this.chunks.length; index++) {
      const chunk = this.chunks[index] as TailChunk;
      let runStart = -1;
      let stop = false;
      while (at < chunk.usedBytes) {
        const size = batchSizeAt(chunk.buffer, at);
        const baseOffset = readInt64(chunk.buffer, at + BASE_OFFSET_OFFSET);
        const lastOffset = baseOffset + chunk.buffer.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
        if (!started && lastOffset < fetchOffset) {
          at += size;
          continue;
        }
        started = true;
        const fitsBytes = result.bytes + size <= maxBytes || (result.bytes === 0 && minOneBatch);
        if (lastOffset >= endOffset || !fitsBytes) {
          stop = true;
          break;
        }
        if (runStart < 0) runStart = at;
        result.bytes += size;
        at += size;
      }
      if (runStart >= 0) {
        result.chunks.push(chunk.buffer.subarray(runStart, at));
        result.holds.push(chunk.pooled.retain());
      }
      if (stop) break;
      at = 0;
    }
    return result;
  }
}

/** Byte position of the last append in `chunk` starting at or before `offset` (0 if none does). */
function appendPositionBefore(chunk: TailChunk, offset: number): number {
  const offsets = chunk.appendOffsets;
  let low = 0;
  let high = offsets.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if ((offsets[mid] as number) <= offset) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found < 0 ? 0 : (chunk.appendPositions[found] as number);
}
