import { readInt64, writeInt64 } from '../protocol/records/layout.js';

const INITIAL_ENTRIES = 64;

/** An append-only array of fixed-size entries in one Buffer that doubles up to `maxEntries`. */
abstract class EntryArray {
  protected buffer: Buffer;
  private count = 0;

  constructor(
    protected readonly entryBytes: number,
    readonly maxEntries: number,
    contents?: Buffer,
  ) {
    if (contents) {
      this.buffer = contents;
      this.count = contents.length / entryBytes;
    } else {
      this.buffer = Buffer.allocUnsafe(Math.min(INITIAL_ENTRIES, maxEntries + 1) * entryBytes);
    }
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** The entries as bytes, exactly as they are stored in the index file. */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.count * this.entryBytes);
  }

  /** Memory held, for the index cache's budget. */
  get capacityBytes(): number {
    return this.buffer.length;
  }

  protected slotForAppend(): number {
    const at = this.count * this.entryBytes;
    if (at + this.entryBytes > this.buffer.length) {
      // One slot beyond maxEntries: sealing a full segment adds its final time index entry.
      const limitBytes = (this.maxEntries + 1) * this.entryBytes;
      const grown = Buffer.allocUnsafe(
        Math.min(Math.max(this.buffer.length * 2, this.entryBytes), limitBytes),
      );
      if (grown.length < at + this.entryBytes)
        throw new RangeError(`index already holds ${this.count} entries`);
      this.buffer.copy(grown, 0, 0, at);
      this.buffer = grown;
    }
    this.count++;
    return at;
  }

  protected keepFirst(entries: number): void {
    this.count = Math.min(this.count, entries);
  }

  /** Index of the last entry whose key is <= `key` (or < when `strict`), or -1. Keys are non-decreasing. */
  protected floorEntry(key: number, strict: boolean): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const k = this.keyAt(mid);
      if (k < key || (!strict && k === key)) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  protected abstract keyAt(entry: number): number;
}

export interface OffsetPosition {
  relativeOffset: number;
  position: number;
}

/**
 * Sparse offset index of one segment: (base offset of a batch relative to the segment, byte position of that
 * batch). An entry is added whenever more than indexIntervalBytes were appended since the previous one.
 */
export class OffsetIndex extends EntryArray {
  static readonly ENTRY_BYTES = 8;

  constructor(maxEntries: number, contents?: Buffer) {
    super(OffsetIndex.ENTRY_BYTES, maxEntries, contents);
  }

  append(relativeOffset: number, position: number): void {
    const at = this.slotForAppend();
    this.buffer.writeUInt32BE(relativeOffset, at);
    this.buffer.writeUInt32BE(position, at + 4);
  }

  entry(i: number): OffsetPosition {
    const at = i * OffsetIndex.ENTRY_BYTES;
    return { relativeOffset: this.buffer.readUInt32BE(at), position: this.buffer.readUInt32BE(at + 4) };
  }

  /** The last entry at or before `relativeOffset`, or null when the scan must start at position 0. */
  lookup(relativeOffset: number): OffsetPosition | null {
    const i = this.floorEntry(relativeOffset, false);
    return i < 0 ? null : this.entry(i);
  }

  /** Drops the entries for batches at or after `relativeOffset`. */
  truncateFrom(relativeOffset: number): void {
    this.keepFirst(this.floorEntry(relativeOffset, true) + 1);
  }

  protected keyAt(i: number): number {
    return this.buffer.readUInt32BE(i * OffsetIndex.ENTRY_BYTES);
  }

  /** Why a file's bytes cannot be this segment's offset index, or null when they can. */
  static problem(bytes: Buffer, segmentBytes: number, maxRelativeOffset: number): string | null {
    if (bytes.length % OffsetIndex.ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of 8`;
    let previousOffset = -1;
    let previousPosition = -1;
    for (let at = 0; at < bytes.length; at += OffsetIndex.ENTRY_BYTES) {
      const offset = bytes.readUInt32BE(at);
      const position = bytes.readUInt32BE(at + 4);
      if (offset <= previousOffset || position <= previousPosition)
        return `entry ${at / 8} is not increasing`;
      if (offset > maxRelativeOffset || position >= segmentBytes)
        return `entry ${at / 8} points past the segment`;
      previousOffset = offset;
      previousPosition = position;
    }
    return null;
  }
}

export interface TimestampOffset {
  timestampMs: number;
  relativeOffset: number;
}

/**
 * Sparse time index of one segment: (largest timestamp so far, relative base offset of the batch that carried
 * it). Entries only ever increase in timestamp, so a binary search finds where a timestamp query must start.
 */
export class TimeIndex extends EntryArray {
  static readonly ENTRY_BYTES = 12;

  constructor(maxEntries: number, contents?: Buffer) {
    super(TimeIndex.ENTRY_BYTES, maxEntries, contents);
  }

  /** Adds the entry unless it would not raise the largest timestamp recorded. */
  maybeAppend(timestampMs: number, relativeOffset: number): void {
    const last = this.last();
    if (last && timestampMs <= last.timestampMs) return;
    const at = this.slotForAppend();
    writeInt64(this.buffer, at, timestampMs);
    this.buffer.writeUInt32BE(relativeOffset, at + 8);
  }

  entry(i: number): TimestampOffset {
    const at = i * TimeIndex.ENTRY_BYTES;
    return { timestampMs: readInt64(this.buffer, at), relativeOffset: this.buffer.readUInt32BE(at + 8) };
  }

  last(): TimestampOffset | null {
    return this.entries === 0 ? null : this.entry(this.entries - 1);
  }

  /**
   * The last entry with a timestamp strictly below `timestampMs`: every batch up to its offset has a smaller
   * max timestamp, so a search for the first batch reaching `timestampMs` may start there.
   */
  lookupBefore(timestampMs: number): TimestampOffset | null {
    const i = this.floorEntry(timestampMs, true);
    return i < 0 ? null : this.entry(i);
  }

  truncateFrom(relativeOffset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entry(keep - 1).relativeOffset >= relativeOffset) keep--;
    this.keepFirst(keep);
  }

  protected keyAt(i: number): number {
    return readInt64(this.buffer, i * TimeIndex.ENTRY_BYTES);
  }

  static problem(bytes: Buffer, maxRelativeOffset: number): string | null {
    if (bytes.length % TimeIndex.ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of 12`;
    let previousTimestamp = Number.NEGATIVE_INFINITY;
    let previousOffset = -1;
    for (let at = 0; at < bytes.length; at += TimeIndex.ENTRY_BYTES) {
      const timestamp = readInt64(bytes, at);
      const offset = bytes.readUInt32BE(at + 8);
      if (timestamp <= previousTimestamp || offset < previousOffset)
        return `entry ${at / 12} is not increasing`;
      if (offset > maxRelativeOffset) return `entry ${at / 12} points past the segment`;
      previousTimestamp = timestamp;
      previousOffset = offset;
    }
    return null;
  }
}
