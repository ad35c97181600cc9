// A segment's aborted-transaction index (Kafka's TransactionIndex): one entry per ABORT marker in the segment,
// in marker order, so that a read_committed fetch can tell which producers' records in a range to drop. Kafka's
// file layout, 34 bytes an entry: int16 version (0), int64 producerId, int64 firstOffset, int64 lastOffset (the
// marker's offset), int64 lastStableOffset (the LSO right after the marker).
import { readInt64, writeInt64 } from '../protocol/records/layout.js';

export const TXN_INDEX_SUFFIX = '.txnindex';
export const ABORTED_TXN_ENTRY_BYTES = 34;
const ENTRY_VERSION = 0;
const INITIAL_ENTRIES = 4;

export interface AbortedTxnEntry {
  producerId: number;
  firstOffset: number;
  /** The ABORT marker's offset. */
  lastOffset: number;
  /** The first offset still undecided once the marker is written (the marker's offset + 1 when none is). */
  lastStableOffset: number;
}

/** What a read_committed fetch needs of an aborted transaction. */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

/** One segment's entries, held as the file's bytes. */
export class TransactionIndex {
  private buffer: Buffer;
  private count: number;

  constructor(contents?: Buffer) {
    if (contents) {
      this.buffer = contents;
      this.count = Math.floor(contents.length / ABORTED_TXN_ENTRY_BYTES);
    } else {
      this.buffer = Buffer.alloc(0);
      this.count = 0;
    }
  }

  /** Why `bytes` is not a valid index file, or null. */
  static problem(bytes: Buffer): string | null {
    if (bytes.length % ABORTED_TXN_ENTRY_BYTES !== 0) return `size ${bytes.length} is not whole entries`;
    for (let at = 0; at < bytes.length; at += ABORTED_TXN_ENTRY_BYTES) {
      const version = bytes.readInt16BE(at);
      if (version !== ENTRY_VERSION) return `entry ${at / ABORTED_TXN_ENTRY_BYTES} has version ${version}`;
    }
    return null;
  }

  get entries(): number {
    return this.count;
  }

  /** The entries exactly as the file stores them. */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.count * ABORTED_TXN_ENTRY_BYTES);
  }

  entry(index: number): AbortedTxnEntry {
    const at = index * ABORTED_TXN_ENTRY_BYTES;
    return {
      producerId: readInt64(this.buffer, at + 2),
      firstOffset: readInt64(this.buffer, at + 10),
      lastOffset: readInt64(this.buffer, at + 18),
      lastStableOffset: readInt64(this.buffer, at + 26),
    };
  }

  append(entry: AbortedTxnEntry): void {
    const at = this.count * ABORTED_TXN_ENTRY_BYTES;
    if (at + ABORTED_TXN_ENTRY_BYTES > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(INITIAL_ENTRIES, this.count * 2) * ABORTED_TXN_ENTRY_BYTES);
      this.buffer.copy(grown, 0, 0, at);
      this.buffer = grown;
    }
    this.buffer.writeInt16BE(ENTRY_VERSION, at);
    writeInt64(this.buffer, at + 2, entry.producerId);
    writeInt64(this.buffer, at + 10, entry.firstOffset);
    writeInt64(this.buffer, at + 18, entry.lastOffset);
    writeInt64(this.buffer, at + 26, entry.lastStableOffset);
    this.count++;
  }

  /** Drops the entries of markers at or after `offset` (the log was cut there); true when any went. */
  truncateTo(offset: number): boolean {
    let keep = this.count;
    while (keep > 0 && readInt64(this.buffer, (keep - 1) * ABORTED_TXN_ENTRY_BYTES + 18) >= offset) keep--;
    const changed = keep !== this.count;
    this.count = keep;
    return changed;
  }

  /**
   * Adds to `out` the transactions overlapping [fetchOffset, upperBoundOffset). Returns true once an entry
   * shows that no later one can overlap: its LSO reaches the bound, so every transaction begun below the bound
   * had ended by then.
   */
  collect(fetchOffset: number, upperBoundOffset: number, out: AbortedTransaction[]): boolean {
    for (let at = 0; at < this.count * ABORTED_TXN_ENTRY_BYTES; at += ABORTED_TXN_ENTRY_BYTES) {
      const firstOffset = readInt64(this.buffer, at + 10);
      if (readInt64(this.buffer, at + 18) >= fetchOffset && firstOffset < upperBoundOffset) {
        out.push({ producerId: readInt64(this.buffer, at + 2), firstOffset });
      }
      if (readInt64(this.buffer, at + 26) >= upperBoundOffset) return true;
    }
    return false;
  }
}
