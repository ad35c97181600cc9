// The producer's memory bound (Java's buffer.memory): batches are made of fixed-size chunks, each reserved here
// before it is taken and released when its batch completes. A reservation that does not fit waits, first come
// first served, until enough is released or its deadline passes; then it fails with BufferFullError. Nothing
// grows past the bound.
//
// Completed batches give their chunks back for reuse, so a busy producer keeps writing into the same memory
// instead of leaving a trail of buffers for the garbage collector: chunks in use plus chunks kept for reuse never
// exceed totalBytes / chunkBytes (a chunk is only created when none is kept).
import { BufferFullError } from '../errors.js';

interface Waiter {
  bytes: number;
  startedMs: number;
  deadlineMs: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class MemoryPool {
  readonly totalBytes: number;
  /** Size of every chunk. */
  readonly chunkBytes: number;
  private usedBytes = 0;
  private waiters: Waiter[] = [];
  /** One timer for all waiters (not one each), due at the earliest deadline. */
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = Number.POSITIVE_INFINITY;
  /** Chunks of completed batches, ready for reuse. */
  private readonly freeChunks: Buffer[] = [];

  constructor(totalBytes: number, chunkBytes = totalBytes) {
    if (chunkBytes > totalBytes)
      throw new RangeError(`chunks of ${chunkBytes} bytes exceed the pool of ${totalBytes}`);
    this.totalBytes = totalBytes;
    this.chunkBytes = chunkBytes;
  }

  /** Chunks kept for reuse. */
  get freeChunkCount(): number {
    return this.freeChunks.length;
  }

  /** Bytes of `chunks` chunks. */
  bytesOf(chunks: number): number {
    return chunks * this.chunkBytes;
  }

  /** Chunks needed to hold `bytes`. */
  chunksFor(bytes: number): number {
    return Math.ceil(bytes / this.chunkBytes);
  }

  /** A chunk whose bytes the caller has reserved: a reused one when there is one. */
  takeChunk(): Buffer {
    return this.freeChunks.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes);
  }

  /**
   * Keeps chunks for reuse once nothing reads them any more (their bytes are released separately). Never
   * more than the pool holds: chunks in use and kept together stay within totalBytes.
   */
  recycle(chunks: readonly Buffer[]): void {
    const maxFree = Math.floor(this.totalBytes / this.chunkBytes);
    for (const chunk of chunks) {
      if (this.freeChunks.length >= maxFree) return;
      if (chunk.length === this.chunkBytes) this.freeChunks.push(chunk);
    }
  }

  get availableBytes(): number {
    return this.totalBytes - this.usedBytes;
  }

  get waitingCount(): number {
    return this.waiters.length;
  }

  /** Reserves at once if the bytes are free and nobody waits ahead; otherwise returns false. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || this.usedBytes + bytes > this.totalBytes) return false;
    this.usedBytes += bytes;
    return true;
  }

  /**
   * Waits for `bytes` (at most totalBytes; the caller checks) until `deadlineMs` (epoch ms), behind earlier
   * waiters. Resolves once reserved; rejects with BufferFullError at the deadline.
   */
  reserve(bytes: number, deadlineMs: number): Promise<void> {
    if (bytes > this.totalBytes) {
      return Promise.reject(new RangeError(`${bytes} bytes exceed the pool of ${this.totalBytes}`));
    }
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ bytes, startedMs: Date.now(), deadlineMs, resolve, reject });
      if (deadlineMs < this.timerAtMs) this.armTimer(deadlineMs);
    });
  }

  release(bytes: number): void {
    this.usedBytes -= bytes;
    if (this.usedBytes < 0) throw new Error(`memory pool released more than it reserved (${this.usedBytes})`);
    this.grant();
  }

  /** Fails every waiter (on close). */
  rejectWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.disarmTimer();
    for (const waiter of waiters) waiter.reject(error);
  }

  private grant(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0]!;
      if (this.usedBytes + head.bytes > this.totalBytes) return;
      this.waiters.shift();
      this.usedBytes += head.bytes;
      head.resolve();
    }
    this.disarmTimer();
  }

  private armTimer(atMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => this.expire(), Math.max(0, atMs - Date.now()));
  }

  private disarmTimer(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.timerAtMs = Number.POSITIVE_INFINITY;
  }

  /** Fails the waiters whose deadline has passed, then lets the others in if memory allows. */
  private expire(): void {
    this.timer = null;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    const nowMs = Date.now();
    const expired: Waiter[] = [];
    const waiting: Waiter[] = [];
    let nextDeadlineMs = Number.POSITIVE_INFINITY;
    for (const waiter of this.waiters) {
      if (waiter.deadlineMs <= nowMs) {
        expired.push(waiter);
      } else {
        waiting.push(waiter);
        nextDeadlineMs = Math.min(nextDeadlineMs, waiter.deadlineMs);
      }
    }
    this.waiters = waiting;
    for (const waiter of expired) {
      waiter.reject(
        new BufferFullError(
          `waited ${nowMs - waiter.startedMs} ms for ${waiter.bytes} bytes of the ${this.totalBytes}-byte producer buffer`,
        ),
      );
    }
    if (nextDeadlineMs !== Number.POSITIVE_INFINITY) this.armTimer(nextDeadlineMs);
    // An expired waiter may have been the one blocking smaller reservations behind it.
    this.grant();
  }
}
