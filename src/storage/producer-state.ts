// Idempotent and transactional producers' state in one partition (Kafka's ProducerStateManager): per producer
// id, its epoch, the sequence and offset ranges of its last five batches and the first offset of its ongoing
// transaction. An append is checked against it before it gets offsets: a retry of one of those batches is a
// duplicate (answered with the original offsets, written nothing), a sequence gap or an old epoch is refused.
// Transaction markers end transactions; the oldest ongoing one bounds the last stable offset. The state is
// rebuilt on open from a snapshot file plus the batches written after it, so a duplicate is still recognised
// and an open transaction still holds the LSO back after a crash.
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_OFFSET,
  readInt64,
  TRANSACTIONAL_FLAG_MASK,
} from '../protocol/records/layout.js';
import { batchSizeAt } from './batch.js';
import {
  InvalidProducerEpochError,
  InvalidRecordError,
  InvalidSequenceError,
  InvalidTxnStateError,
  OutOfOrderSequenceError,
} from './errors.js';
import type { FileHandlePool } from './resources.js';
import { parseSegmentFileName, readFully } from './segment.js';
import type { AbortedTxnEntry } from './txn-index.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: as many as a producer may have in flight. */
export const RETAINED_BATCHES_PER_PRODUCER = 5;
export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_MAGIC = 'sluice-producer-snapshot';
/** Version 2 added each producer's ongoing transaction, coordinator epoch and last batch timestamp. */
const SNAPSHOT_VERSION = 2;
const SNAPSHOT_END = 'end';
const NO_PRODUCER_EPOCH = -1;
const NO_SEQUENCE = -1;
const NO_OFFSET = -1;
const MAX_SEQUENCE = 0x7fff_ffff;
/** Control record key types (Kafka's ControlRecordType). */
const ABORT_MARKER = 0;
const COMMIT_MARKER = 1;

/** Who wrote an append: a producer's Produce, or the group coordinator (TxnOffsetCommit, baseSequence -1). */
export type AppendOrigin = 'client' | 'coordinator';

interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  firstOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most RETAINED_BATCHES_PER_PRODUCER, all of `epoch`. */
  batches: BatchMetadata[];
  /** Wall-clock time of the producer's last append, for producer.id.expiration.ms. */
  lastAppendMs: number;
  /** First offset of the producer's ongoing transaction, or -1. */
  currentTxnFirstOffset: number;
  /** Of the last marker written for the producer, or -1. */
  coordinatorEpoch: number;
  /** Max timestamp of the producer's last batch (DescribeProducers' lastTimestamp), or -1. */
  lastTimestampMs: number;
}

/** A producer as DescribeProducers reports it. */
export interface ProducerStateSummary {
  producerId: number;
  producerEpoch: number;
  /** -1 when no batch of the current epoch is retained. */
  lastSequence: number;
  lastTimestampMs: number;
  coordinatorEpoch: number;
  /** -1 when the producer has no ongoing transaction. */
  currentTxnStartOffset: number;
}

/** A transaction whose marker is placed but not yet below the high watermark: it still bounds the LSO. */
interface UnreplicatedTxn {
  firstOffset: number;
  lastOffset: number;
}

/** Offsets of the batch an append duplicates. */
export interface DuplicateBatch {
  baseOffset: number;
  lastOffset: number;
}

/** The last sequence of a batch starting at `baseSequence` with `lastOffsetDelta`, wrapping past 2^31-1. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > MAX_SEQUENCE - lastOffsetDelta
    ? lastOffsetDelta - (MAX_SEQUENCE - baseSequence) - 1
    : baseSequence + lastOffsetDelta;
}

function inSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === MAX_SEQUENCE);
}

/** True when any batch in `batches` (whole magic-2 batches) carries a producer id. */
export function hasProducerBatches(batches: Buffer): boolean {
  for (let at = 0; at < batches.length; at += batchSizeAt(batches, at)) {
    if (readInt64(batches, at + PRODUCER_ID_OFFSET) >= 0) return true;
  }
  return false;
}

function newEntry(epoch: number, nowMs: number): ProducerEntry {
  return {
    epoch,
    batches: [],
    lastAppendMs: nowMs,
    currentTxnFirstOffset: NO_OFFSET,
    coordinatorEpoch: -1,
    lastTimestampMs: -1,
  };
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  /** Ongoing transactions, first offset to producer id, in first-offset order. */
  private readonly ongoing = new Map<number, number>();
  /** Ended transactions whose marker is not yet below the high watermark, in marker order. */
  private unreplicated: UnreplicatedTxn[] = [];
  private highWatermark = 0;
  /** The smallest first offset of `ongoing` and `unreplicated`, or -1: kept so the LSO costs nothing to read. */
  private firstUnstable = NO_OFFSET;

  get producerCount(): number {
    return this.producers.size;
  }

  /** The first offset of the oldest transaction not yet decided below the high watermark, or -1 when none. */
  get firstUnstableOffset(): number {
    return this.firstUnstable;
  }

  /** Count of ongoing transactions. */
  get ongoingTransactionCount(): number {
    return this.ongoing.size;
  }

  /**
   * Checks the idempotent batches of an append, in order, each against the state the earlier ones leave.
   * Returns the batch a retry duplicates (the whole append is then answered with its offsets, as Kafka
   * does) or null; throws OutOfOrderSequenceError, InvalidProducerEpochError, InvalidSequenceError,
   * InvalidTxnStateError (a plain batch of a producer whose transaction is open) or InvalidRecordError
   * (control batches: markers go through checkMarker). The coordinator's batches are checked for their
   * epoch only: they carry no sequence.
   */
  check(batches: Buffer, origin: AppendOrigin = 'client'): DuplicateBatch | null {
    // What earlier batches of this append would make the state, for a producer with several batches in it.
    let pending: Map<number, { epoch: number; lastSequence: number }> | null = null;
    for (let at = 0; at < batches.length; at += batchSizeAt(batches, at)) {
      const producerId = readInt64(batches, at + PRODUCER_ID_OFFSET);
      if (producerId < 0) continue;
      if ((batches.readInt16BE(at + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0) {
        throw new InvalidRecordError(`control batch of producer ${producerId} appended as data`);
      }
      const epoch = batches.readInt16BE(at + PRODUCER_EPOCH_OFFSET);
      const baseSequence = batches.readInt32BE(at + BASE_SEQUENCE_OFFSET);
      if (origin === 'coordinator') {
        const knownEpoch = this.producers.get(producerId)?.epoch ?? NO_PRODUCER_EPOCH;
        if (epoch < knownEpoch) {
          throw new InvalidProducerEpochError(
            `producer ${producerId} has epoch ${epoch}, older than the partition's ${knownEpoch}`,
          );
        }
        continue;
      }
      if (baseSequence < 0) {
        throw new InvalidSequenceError(
          `batch of producer ${producerId} has sequence ${baseSequence}; idempotent batches need one`,
        );
      }
      const lastSequence = lastSequenceOf(baseSequence, batches.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET));
      const entry = this.producers.get(producerId);
      if (
        entry !== undefined &&
        entry.currentTxnFirstOffset !== NO_OFFSET &&
        epoch === entry.epoch &&
        (batches.readInt16BE(at + ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG_MASK) === 0
      ) {
        throw new InvalidTxnStateError(
          `producer ${producerId} wrote outside its open transaction (from offset ${entry.currentTxnFirstOffset})`,
        );
      }
      const earlier = pending?.get(producerId);
      const knownEpoch = earlier?.epoch ?? entry?.epoch ?? NO_PRODUCER_EPOCH;
      if (epoch < knownEpoch) {
        throw new InvalidProducerEpochError(
          `producer ${producerId} has epoch ${epoch}, older than the partition's ${knownEpoch}`,
        );
      }
      if (earlier === undefined && entry !== undefined && epoch === entry.epoch) {
        const duplicate = entry.batches.find(
          (b) => b.firstSequence === baseSequence && b.lastSequence === lastSequence,
        );
        if (duplicate !== undefined) {
          return { baseOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset };
        }
      }
      if (epoch !== knownEpoch) {
        // A new epoch starts at sequence 0; a producer the partition does not know may start anywhere (its
        // state may have expired or gone with deleted records).
        if (baseSequence !== 0 && knownEpoch !== NO_PRODUCER_EPOCH) {
          throw new OutOfOrderSequenceError(
            `producer ${producerId} starts epoch ${epoch} at sequence ${baseSequence}, not 0`,
          );
        }
      } else {
        const lastKnown =
          earlier?.lastSequence ?? entry?.batches.at(-1)?.lastSequence ?? (NO_SEQUENCE as number);
        if (!inSequence(lastKnown, baseSequence)) {
          throw new OutOfOrderSequenceError(
            `producer ${producerId} sent sequence ${baseSequence} at epoch ${epoch}; expected ${lastKnown + 1}`,
          );
        }
      }
      pending ??= new Map();
      pending.set(producerId, { epoch, lastSequence });
    }
    return null;
  }

  /**
   * Throws InvalidProducerEpochError when a marker of `producerEpoch` is older than the producer's epoch:
   * it would end a transaction of a newer incarnation of the producer.
   */
  checkMarker(producerId: number, producerEpoch: number): void {
    const known = this.producers.get(producerId)?.epoch ?? NO_PRODUCER_EPOCH;
    if (producerEpoch < known) {
      throw new InvalidProducerEpochError(
        `marker for producer ${producerId} has epoch ${producerEpoch}, older than the partition's ${known}`,
      );
    }
  }

  /**
   * Records the batch at `at`, its offsets written in it: an append's batches after `check`, markers after
   * `checkMarker`, and recovery's replay of what the log holds, unchecked. A transactional batch starts its
   * producer's transaction unless one is ongoing; a marker ends it. Returns the aborted-transaction entry an
   * ABORT marker of an ongoing transaction makes, else null. A control batch must be whole in `buffer`.
   */
  apply(buffer: Buffer, at: number, nowMs: number): AbortedTxnEntry | null {
    const producerId = readInt64(buffer, at + PRODUCER_ID_OFFSET);
    if (producerId < 0) return null;
    const epoch = buffer.readInt16BE(at + PRODUCER_EPOCH_OFFSET);
    const attributes = buffer.readInt16BE(at + ATTRIBUTES_OFFSET);
    const firstOffset = readInt64(buffer, at + BASE_OFFSET_OFFSET);
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = newEntry(epoch, nowMs);
      this.producers.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      // A new epoch (a bumped producer, or a marker that bumped it) restarts the sequences at 0.
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.lastAppendMs = nowMs;
    entry.lastTimestampMs = readInt64(buffer, at + MAX_TIMESTAMP_OFFSET);
    if ((attributes & CONTROL_FLAG_MASK) !== 0) return this.applyMarker(producerId, entry, buffer, at);
    const baseSequence = buffer.readInt32BE(at + BASE_SEQUENCE_OFFSET);
    const lastOffsetDelta = buffer.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    // The coordinator's batches carry no sequence and leave the producer's sequences alone.
    if (baseSequence >= 0) {
      entry.batches.push({
        firstSequence: baseSequence,
        lastSequence: lastSequenceOf(baseSequence, lastOffsetDelta),
        firstOffset,
        lastOffset: firstOffset + lastOffsetDelta,
      });
      if (entry.batches.length > RETAINED_BATCHES_PER_PRODUCER) entry.batches.shift();
    }
    if ((attributes & TRANSACTIONAL_FLAG_MASK) !== 0 && entry.currentTxnFirstOffset === NO_OFFSET) {
      entry.currentTxnFirstOffset = firstOffset;
      this.ongoing.set(firstOffset, producerId);
      if (this.firstUnstable === NO_OFFSET) this.firstUnstable = firstOffset;
    }
    return null;
  }

  private applyMarker(
    producerId: number,
    entry: ProducerEntry,
    buffer: Buffer,
    at: number,
  ): AbortedTxnEntry | null {
    const type = controlRecordType(buffer, at);
    if (type !== ABORT_MARKER && type !== COMMIT_MARKER) return null;
    const coordinatorEpoch = markerCoordinatorEpoch(buffer, at);
    if (coordinatorEpoch !== null) entry.coordinatorEpoch = coordinatorEpoch;
    const firstOffset = entry.currentTxnFirstOffset;
    // A marker for a producer without an ongoing transaction is written and ends nothing, as in Kafka.
    if (firstOffset === NO_OFFSET) return null;
    const lastOffset = readInt64(buffer, at + BASE_OFFSET_OFFSET);
    entry.currentTxnFirstOffset = NO_OFFSET;
    this.ongoing.delete(firstOffset);
    if (lastOffset >= this.highWatermark) this.unreplicated.push({ firstOffset, lastOffset });
    this.refreshFirstUnstable();
    if (type !== ABORT_MARKER) return null;
    // As Kafka: the first offset still undecided among the other producers' transactions, else past the marker.
    const nextOngoing = this.oldestOngoing();
    return {
      producerId,
      firstOffset,
      lastOffset,
      lastStableOffset: nextOngoing === NO_OFFSET ? lastOffset + 1 : nextOngoing,
    };
  }

  /** The high watermark moved: ended transactions whose marker is now below it stop bounding the LSO. */
  onHighWatermarkUpdated(highWatermark: number): void {
    this.highWatermark = highWatermark;
    if (this.unreplicated.length === 0) return;
    this.unreplicated = this.unreplicated.filter((txn) => txn.lastOffset >= highWatermark);
    this.refreshFirstUnstable();
  }

  private oldestOngoing(): number {
    for (const firstOffset of this.ongoing.keys()) return firstOffset;
    return NO_OFFSET;
  }

  private refreshFirstUnstable(): void {
    let first = this.oldestOngoing();
    for (const txn of this.unreplicated) {
      if (first === NO_OFFSET || txn.firstOffset < first) first = txn.firstOffset;
    }
    this.firstUnstable = first;
  }

  /** Every producer the partition knows, for DescribeProducers. */
  activeProducers(): ProducerStateSummary[] {
    const out: ProducerStateSummary[] = [];
    for (const [producerId, entry] of this.producers) {
      out.push({
        producerId,
        producerEpoch: entry.epoch,
        lastSequence: entry.batches.at(-1)?.lastSequence ?? NO_SEQUENCE,
        lastTimestampMs: entry.lastTimestampMs,
        coordinatorEpoch: entry.coordinatorEpoch,
        currentTxnStartOffset: entry.currentTxnFirstOffset,
      });
    }
    return out;
  }

  /**
   * Forgets producers idle for `expirationMs` (producer.id.expiration.ms), never one with an ongoing
   * transaction; returns how many.
   */
  expire(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      if (nowMs - entry.lastAppendMs >= expirationMs && entry.currentTxnFirstOffset === NO_OFFSET) {
        this.producers.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    this.firstUnstable = NO_OFFSET;
  }

  /**
   * The snapshot file's text: a header line, then one line per producer: `producerId epoch lastAppendMs
   * currentTxnFirstOffset coordinatorEpoch lastTimestampMs firstSequence:lastSequence:firstOffset:lastOffset ...`.
   */
  snapshotText(): string {
    const lines = [`${SNAPSHOT_MAGIC} ${SNAPSHOT_VERSION} ${this.producers.size}`];
    for (const [producerId, entry] of this.producers) {
      const batches = entry.batches.map(
        (b) => `${b.firstSequence}:${b.lastSequence}:${b.firstOffset}:${b.lastOffset}`,
      );
      lines.push(
        [
          producerId,
          entry.epoch,
          entry.lastAppendMs,
          entry.currentTxnFirstOffset,
          entry.coordinatorEpoch,
          entry.lastTimestampMs,
          ...batches,
        ].join(' '),
      );
    }
    lines.push(SNAPSHOT_END);
    return `${lines.join('\n')}\n`;
  }

  /**
   * Replaces the state with a snapshot's (version 1, from before transactions, or 2); throws (leaving the
   * state empty) when the text is not one.
   */
  loadSnapshot(text: string): void {
    this.clear();
    try {
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      // Written without fsync: a file cut short by a power failure lacks its last line.
      if (lines.pop() !== SNAPSHOT_END) throw new Error('no end line');
      const [magic, versionText, countText, ...extra] = (lines[0] ?? '').split(' ');
      if (magic !== SNAPSHOT_MAGIC || extra.length > 0) throw new Error('no snapshot header');
      const version = Number(versionText);
      if (version !== 1 && version !== SNAPSHOT_VERSION) throw new Error(`snapshot version ${versionText}`);
      const count = Number(countText);
      if (!Number.isSafeInteger(count) || count !== lines.length - 1) {
        throw new Error(`header counts ${countText} producers, the file has ${lines.length - 1}`);
      }
      const numberFields = version === 1 ? 3 : 6;
      const ongoing: [number, number][] = [];
      for (const line of lines.slice(1)) {
        const fields = line.split(' ');
        if (fields.length < numberFields) throw new Error(`bad producer line '${line}'`);
        const [producerId, epoch, lastAppendMs, txnFirstOffset, coordinatorEpoch, lastTimestampMs] = fields
          .slice(0, numberFields)
          .map(integer);
        const entry: ProducerEntry = {
          epoch: epoch as number,
          lastAppendMs: lastAppendMs as number,
          currentTxnFirstOffset: txnFirstOffset ?? NO_OFFSET,
          coordinatorEpoch: coordinatorEpoch ?? -1,
          lastTimestampMs: lastTimestampMs ?? -1,
          batches: fields.slice(numberFields).map((text) => {
            const [firstSequence, lastSequence, firstOffset, lastOffset] = text.split(':').map(integer);
            if (lastOffset === undefined) throw new Error(`bad batch entry '${text}'`);
            return {
              firstSequence: firstSequence as number,
              lastSequence: lastSequence as number,
              firstOffset: firstOffset as number,
              lastOffset,
            };
          }),
        };
        if (entry.batches.length > RETAINED_BATCHES_PER_PRODUCER) throw new Error('too many batches');
        this.producers.set(producerId as number, entry);
        if (entry.currentTxnFirstOffset !== NO_OFFSET) {
          ongoing.push([entry.currentTxnFirstOffset, producerId as number]);
        }
      }
      for (const [firstOffset, producerId] of ongoing.sort((a, b) => a[0] - b[0])) {
        this.ongoing.set(firstOffset, producerId);
      }
      this.refreshFirstUnstable();
    } catch (error) {
      this.clear();
      throw error;
    }
  }
}

/** The type in a control batch's record key (int16 version, int16 type), or -1 when it cannot be read. */
function controlRecordType(buffer: Buffer, at: number): number {
  const key = controlRecordKeyAt(buffer, at);
  return key === null || key.keyLength < 4 ? -1 : buffer.readInt16BE(key.position + 2);
}

/** The coordinator epoch in an end-transaction marker's value (int16 version, int32 epoch), or null. */
function markerCoordinatorEpoch(buffer: Buffer, at: number): number | null {
  const key = controlRecordKeyAt(buffer, at);
  if (key === null) return null;
  const cursor = { position: key.position + key.keyLength };
  const end = Math.min(at + batchSizeAt(buffer, at), buffer.length);
  const valueLength = readZigzagVarint(buffer, cursor, end);
  if (valueLength === null || valueLength < 6 || cursor.position + 6 > end) return null;
  return buffer.readInt32BE(cursor.position + 2);
}

/** Where the key of a control batch's (only, uncompressed) record starts, and its length. */
function controlRecordKeyAt(buffer: Buffer, at: number): { position: number; keyLength: number } | null {
  const end = Math.min(at + batchSizeAt(buffer, at), buffer.length);
  const cursor = { position: at + RECORDS_OFFSET };
  // Record length, then attributes (one byte), timestamp delta, offset delta, key length.
  if (readZigzagVarint(buffer, cursor, end) === null) return null;
  cursor.position++;
  if (readZigzagVarint(buffer, cursor, end) === null || readZigzagVarint(buffer, cursor, end) === null) {
    return null;
  }
  const keyLength = readZigzagVarint(buffer, cursor, end);
  if (keyLength === null || keyLength < 0 || cursor.position + keyLength > end) return null;
  return { position: cursor.position, keyLength };
}

/** A zigzag varint (at most 10 bytes, values far below 2^53 here) before `end`, or null when cut short. */
function readZigzagVarint(buffer: Buffer, cursor: { position: number }, end: number): number | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (cursor.position >= end) return null;
    const byte = buffer[cursor.position++] as number;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    scale *= 128;
  }
  return null;
}

function integer(text: string): number {
  const value = Number(text);
  if (text === '' || !Number.isSafeInteger(value)) throw new Error(`'${text}' is not an integer`);
  return value;
}

/** `00000000000000001234.snapshot` for offset 1234, as Kafka names producer snapshots. */
export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
}

/** The snapshots in a directory listing, newest first. */
export function snapshotOffsets(names: readonly string[]): number[] {
  const offsets: number[] = [];
  for (const name of names) {
    const offset = parseSegmentFileName(name, SNAPSHOT_SUFFIX);
    if (offset !== null) offsets.push(offset);
  }
  return offsets.sort((a, b) => b - a);
}

/**
 * Writes a snapshot and removes the older ones but the newest. Not fsynced: a snapshot lost or cut short by
 * a power failure fails its end check on load, and the state is replayed from an older one.
 */
export async function writeSnapshot(dir: string, offset: number, text: string): Promise<void> {
  const path = join(dir, snapshotFileName(offset));
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
  const older = snapshotOffsets(await readdir(dir)).filter((o) => o < offset);
  for (const stale of older.slice(1)) await rm(join(dir, snapshotFileName(stale)), { force: true });
}

/** Removes the snapshots after `offset` (the log was cut there) or all of them. */
export async function removeSnapshots(dir: string, after = -1): Promise<void> {
  for (const offset of snapshotOffsets(await readdir(dir))) {
    if (offset > after) await rm(join(dir, snapshotFileName(offset)), { force: true });
  }
}

/** A segment as replay reads it. */
export interface ReplaySegment {
  readonly logPath: string;
  /** Bytes of whole batches in the file. */
  readonly sizeBytes: number;
}

const REPLAY_WINDOW_BYTES = 1024 * 1024;

/**
 * Applies the producers' batches from `fromOffset` on, reading only batch headers (and the small control
 * batches whole): a window moves over the file and skips the records. Calls `onAborted` with each aborted
 * transaction's entry and the index of the segment holding its marker. The segments must be recovered (whole,
 * valid batches).
 */
export async function replaySegments(
  state: ProducerStateManager,
  segments: readonly ReplaySegment[],
  fromOffset: number,
  handles: FileHandlePool,
  nowMs: number,
  onAborted?: (entry: AbortedTxnEntry, segmentIndex: number) => void,
): Promise<void> {
  const window = Buffer.allocUnsafe(REPLAY_WINDOW_BYTES);
  for (const [segmentIndex, segment] of segments.entries()) {
    const lease = await handles.acquire(segment.logPath);
    try {
      let windowStart = 0;
      let windowBytes = 0;
      let position = 0;
      while (position + RECORD_BATCH_OVERHEAD <= segment.sizeBytes) {
        if (
          position + RECORD_BATCH_OVERHEAD > windowStart + windowBytes ||
          cutsControlBatch(window, position - windowStart, windowBytes)
        ) {
          windowStart = position;
          const length = Math.min(window.length, segment.sizeBytes - position);
          windowBytes = await readFully(lease.handle, window, length, position);
          if (windowBytes < RECORD_BATCH_OVERHEAD) break;
        }
        const at = position - windowStart;
        const size = batchSizeAt(window, at);
        if (size < RECORD_BATCH_OVERHEAD) break;
        const lastOffset =
          readInt64(window, at + BASE_OFFSET_OFFSET) + window.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
        if (lastOffset >= fromOffset) {
          const aborted = state.apply(window, at, nowMs);
          if (aborted !== null) onAborted?.(aborted, segmentIndex);
        }
        position += size;
      }
    } finally {
      lease.release();
    }
  }
}

/** Whether the window holds the header of a control batch at `at` but not the rest, which fits in it. */
function cutsControlBatch(window: Buffer, at: number, windowBytes: number): boolean {
  if ((window.readInt16BE(at + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) === 0) return false;
  const size = batchSizeAt(window, at);
  return at + size > windowBytes && size <= window.length;
}
