// Fetched-but-not-yet-consumed data, with a hard memory bound. A Fetch may only be sent after reserving
// bytes for its response (its max_bytes), and the reservation turns into buffered bytes when the response
// arrives, so fetched data never exceeds maxBufferedBytes (beyond one oversized batch that the broker sends
// anyway under KIP-74, and decompressed copies of compressed batches). Consuming or discarding a chunk gives
// its bytes back, which lets the fetcher send again.
import type { ConsumerMessage } from './message.js';

/** The partition a chunk belongs to (the fetcher's PartitionState). */
export interface ChunkOwner {
  readonly topic: string;
  readonly partition: number;
  epoch: number;
  /** Next offset to hand to the application. */
  position: number | null;
}

/** One partition's messages from one Fetch response, delivered in order. */
export interface FetchedChunk {
  state: ChunkOwner;
  /** The owner's epoch when the fetch was sent; a seek, pause or revoke since then makes the chunk stale. */
  epoch: number;
  messages: ConsumerMessage[];
  /** Index of the next message to deliver. */
  next: number;
  bytes: number;
  highWatermark: number;
  /**
   * The offset after the fetched batches: past the last message, and past any transaction markers and aborted
   * records after it, which yield no messages. A chunk may hold no messages at all (only those).
   */
  nextOffset: number;
}

export class FetchBuffer {
  readonly maxBufferedBytes: number;
  private readonly chunks: FetchedChunk[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private reservedBytes = 0;
  private dataWaiters: Array<() => void> = [];
  private readonly onRoom: () => void;

  /** `onRoom` runs whenever bytes are given back (the fetcher reschedules from it). */
  constructor(maxBufferedBytes: number, onRoom: () => void) {
    if (!(maxBufferedBytes > 0)) throw new RangeError('maxBufferedBytes must be positive');
    this.maxBufferedBytes = maxBufferedBytes;
    this.onRoom = onRoom;
  }

  get bytes(): number {
    return this.bufferedBytes;
  }

  get reserved(): number {
    return this.reservedBytes;
  }

  get size(): number {
    return this.chunks.length - this.head;
  }

  /**
   * Reserves room for a response of up to `wantedBytes`, or returns 0 when less than `minBytes` is free (then
   * wait for onRoom). Returns the bytes granted, which the request must use as its max_bytes.
   */
  reserve(wantedBytes: number, minBytes: number): number {
    const free = this.maxBufferedBytes - this.bufferedBytes - this.reservedBytes;
    if (free < Math.min(minBytes, wantedBytes) || free <= 0) return 0;
    const granted = Math.min(wantedBytes, free);
    this.reservedBytes += granted;
    return granted;
  }

  /** Ends a reservation whose response was not (or is no longer) buffered. */
  cancel(reservedBytes: number): void {
    this.reservedBytes -= reservedBytes;
    this.onRoom();
  }

  /**
   * Ends a reservation by buffering what arrived. Chunks without messages are kept too: reaching them moves
   * the partition's position past its markers and aborted records, in order with the chunks before them.
   */
  settle(reservedBytes: number, chunks: readonly FetchedChunk[]): void {
    this.reservedBytes -= reservedBytes;
    let added = false;
    for (const chunk of chunks) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.bytes;
      added = true;
    }
    if (added) this.wakeReaders();
    // Whatever of the reservation went unused is free again.
    this.onRoom();
  }

  /** The chunk to read from next, or undefined when empty. */
  peek(): FetchedChunk | undefined {
    return this.chunks[this.head];
  }

  /** Drops the head chunk (fully delivered) and frees its bytes. */
  shift(): void {
    const chunk = this.chunks[this.head];
    if (chunk === undefined) return;
    this.chunks[this.head++] = undefined as unknown as FetchedChunk;
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
    this.bufferedBytes -= chunk.bytes;
    this.onRoom();
  }

  /** Drops every chunk `matches` selects (seek, pause, revoke); returns how many. */
  discard(matches: (chunk: FetchedChunk) => boolean): number {
    let dropped = 0;
    let freed = 0;
    const kept: FetchedChunk[] = [];
    for (let i = this.head; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (matches(chunk)) {
        dropped++;
        freed += chunk.bytes;
      } else {
        kept.push(chunk);
      }
    }
    if (dropped > 0) {
      this.chunks.length = 0;
      this.chunks.push(...kept);
      this.head = 0;
      this.bufferedBytes -= freed;
      this.onRoom();
    }
    return dropped;
  }

  /** Resolves when a chunk is buffered or wake() is called (close, errors). */
  waitForData(): Promise<void> {
    if (this.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.dataWaiters.push(resolve));
  }

  /** Wakes every waitForData() caller. */
  wakeReaders(): void {
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const wake of waiters) wake();
  }
}
