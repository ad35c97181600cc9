// Reusable large buffers for the broker's data path: request frames, tail-cache chunks and log read windows.
//
// Allocating a fresh megabyte per request costs twice: page faults on first touch, and external memory that
// V8 only reclaims with full mark-compact collections once the buffers have outlived a scavenge (tail-cache
// chunks always do). At hundreds of MB/s that was a fifth of the broker's CPU. Recycling a bounded set of
// buffers keeps both the faults and the collections away, and bounds what the data path holds.
//
// Ownership is explicit: `acquire` hands out one reference; every holder that keeps the bytes past its own
// turn calls `retain`, and every reference ends with exactly one `release`. The buffer returns to the pool
// when the last one is released. A holder that never releases only costs the reuse (the garbage collector
// frees the buffer), never correctness; releasing too early would, so releases sit next to the point where
// the last read of the bytes is known to be over (a write completed, a response handed to the kernel).
//
// A buffer the pool lets go of is freed at once (`freeNow`), not left to the garbage collector: by then it
// has outlived many scavenges, so only a full mark-compact would free it, and one forced from here stopped
// the broker for 10-12 ms, which a latency-bound client felt as its p99.

import { MessageChannel } from 'node:worker_threads';

/** Buffers up to this size are pooled; larger requests get a one-off buffer. */
const DEFAULT_MAX_POOLED_BYTES = 16 * 1024 * 1024;
/** The smallest size class: below it allocation is cheap and Node's own slab serves. */
const MIN_CLASS_BYTES = 64 * 1024;
/** Size classes per power of two (capacities 1.25, 1.5, 1.75 and 2 times the lower power): at most 25% slack. */
const CLASSES_PER_OCTAVE = 4;

export class PooledBuffer {
  private refs = 1;

  constructor(
    /** The whole capacity; users work in `buffer.subarray(0, n)`. */
    readonly buffer: Buffer,
    private readonly pool: BufferPool | null,
  ) {}

  get references(): number {
    return this.refs;
  }

  retain(): this {
    if (this.refs <= 0) throw new BufferReleasedError();
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs <= 0) throw new BufferReleasedError();
    if (--this.refs === 0) this.pool?.recycle(this);
  }
}

/** A reference was used after its buffer went back to the pool: a bug that would hand out shared bytes. */
export class BufferReleasedError extends Error {
  override name = 'BufferReleasedError';
  constructor() {
    super('pooled buffer used after its last reference was released');
  }
}

export interface BufferPoolStats {
  /** Acquisitions served from a free buffer. */
  reused: number;
  /** Acquisitions that allocated (pool empty for the class, or too large to pool). */
  allocated: number;
  /** Released buffers dropped because the free list was full. */
  dropped: number;
}

/** The capacity a request for `bytes` gets: the smallest size class at or above it. */
export function sizeClassOf(bytes: number): number {
  if (bytes <= MIN_CLASS_BYTES) return MIN_CLASS_BYTES;
  const octave = 2 ** (31 - Math.clz32(bytes - 1));
  const step = octave / CLASSES_PER_OCTAVE;
  return octave + Math.ceil((bytes - octave) / step) * step;
}

export class BufferPool {
  readonly stats: BufferPoolStats = { reused: 0, allocated: 0, dropped: 0 };
  /** Free buffers by capacity, most recently released last. */
  private readonly free = new Map<number, PooledBuffer[]>();
  /** When each free buffer was released (ms), for trimIdle. */
  private readonly releasedAtMs = new WeakMap<PooledBuffer, number>();
  /** Every free buffer, least recently released first: what goes when the free lists are over their bound. */
  private readonly freeOrder = new Set<PooledBuffer>();
  private freeBytesHeld = 0;

  constructor(
    /** Bound on the bytes kept on free lists; past it the least recently released buffers are let go. */
    readonly maxFreeBytes: number,
    readonly maxPooledBytes: number = DEFAULT_MAX_POOLED_BYTES,
  ) {}

  get freeBytes(): number {
    return this.freeBytesHeld;
  }

  /** A buffer of at least `bytes` (its contents are whatever a previous user left), with one reference. */
  acquire(bytes: number): PooledBuffer {
    if (bytes > this.maxPooledBytes) {
      this.stats.allocated++;
      return new PooledBuffer(Buffer.allocUnsafeSlow(bytes), null);
    }
    const capacity = sizeClassOf(bytes);
    const reused = this.free.get(capacity)?.pop();
    if (reused !== undefined) {
      this.freeOrder.delete(reused);
      this.freeBytesHeld -= capacity;
      this.stats.reused++;
      // A new handle: a stale holder's extra release hits the old, dead handle and throws instead of
      // freeing the buffer under its new owner.
      return new PooledBuffer(reused.buffer, this);
    }
    this.stats.allocated++;
    return new PooledBuffer(Buffer.allocUnsafeSlow(capacity), this);
  }

  /** Called by PooledBuffer when its last reference is released. */
  recycle(pooled: PooledBuffer, nowMs = Date.now()): void {
    const capacity = pooled.buffer.length;
    if (capacity > this.maxFreeBytes) {
      this.stats.dropped++;
      freeNow([pooled.buffer]);
      return;
    }
    // Make room by letting go of what has waited longest, whatever its size: the sizes in demand change
    // with the load (megabyte request frames while producing, read windows while consumers catch up).
    const letGo: Buffer[] = [];
    for (const oldest of this.freeOrder) {
      if (this.freeBytesHeld + capacity <= this.maxFreeBytes) break;
      this.removeFree(oldest);
      letGo.push(oldest.buffer);
      this.stats.dropped++;
    }
    if (letGo.length > 0) freeNow(letGo);
    let list = this.free.get(capacity);
    if (list === undefined) {
      list = [];
      this.free.set(capacity, list);
    }
    list.push(pooled);
    this.freeOrder.add(pooled);
    this.releasedAtMs.set(pooled, nowMs);
    this.freeBytesHeld += capacity;
  }

  /**
   * Frees the free buffers nobody has asked for in `idleMs`: what a burst of load left behind goes back to
   * the system once the load has passed, instead of staying resident up to maxFreeBytes. Returns the bytes
   * freed.
   */
  trimIdle(idleMs: number, nowMs = Date.now()): number {
    const letGo: Buffer[] = [];
    let trimmed = 0;
    for (const oldest of this.freeOrder) {
      if (nowMs - (this.releasedAtMs.get(oldest) ?? nowMs) < idleMs) break;
      this.removeFree(oldest);
      letGo.push(oldest.buffer);
      trimmed += oldest.buffer.length;
      this.stats.dropped++;
    }
    if (letGo.length > 0) freeNow(letGo);
    return trimmed;
  }

  private removeFree(pooled: PooledBuffer): void {
    this.freeOrder.delete(pooled);
    const list = this.free.get(pooled.buffer.length)!;
    list.splice(list.indexOf(pooled), 1);
    this.freeBytesHeld -= pooled.buffer.length;
  }
}

/**
 * Frees buffers' memory now, where the garbage collector would free it only once it next collects their
 * generation. Each buffer must span its own ArrayBuffer, and nobody may use it again: transferring the
 * ArrayBuffers into a message that is never received detaches them (every view becomes empty), and closing
 * the channel drops the message and the memory with it. (ArrayBuffer.prototype.transfer does this directly
 * from Node 22.)
 */
export function freeNow(buffers: readonly Buffer[]): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(
    null,
    buffers.map((buffer) => buffer.buffer as ArrayBuffer),
  );
  port1.close();
  port2.close();
}
