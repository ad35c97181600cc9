// Idempotent producers' state in one partition (Kafka's ProducerStateManager): per producer id, its epoch and
// the sequence and offset ranges of its last five batches. An append is checked against it before it gets
// offsets: a retry of one of those batches is a duplicate (answered with the original offsets, written
// nothing), a sequence gap or an old epoch is refused. The state is rebuilt on open from a snapshot file plus
// the batches written after it, so a duplicate is still recognised after a crash.
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readInt64,
} from '../protocol/records/layout.js';
import { batchSizeAt } from './batch.js';
import { InvalidProducerEpochError, InvalidSequenceError, OutOfOrderSequenceError } from './errors.js';
import type { FileHandlePool } from './resources.js';
import { parseSegmentFileName, readFully } from './segment.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: as many as a producer may have in flight. */
export const RETAINED_BATCHES_PER_PRODUCER = 5;
export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_HEADER = 'sluice-producer-snapshot 1';
const SNAPSHOT_END = 'end';
const NO_PRODUCER_EPOCH = -1;
const NO_SEQUENCE = -1;
const MAX_SEQUENCE = 0x7fff_ffff;

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

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();

  get producerCount(): number {
    return this.producers.size;
  }

  /**
   * Checks the idempotent batches of an append, in order, each against the state the earlier ones leave.
   * Returns the batch a retry duplicates (the whole append is then answered with its offsets, as Kafka
   * does) or null; throws OutOfOrderSequenceError, InvalidProducerEpochError or InvalidSequenceError.
   */
  check(batches: Buffer): DuplicateBatch | null {
    // What earlier batches of this append would make the state, for a producer with several batches in it.
    let pending: Map<number, { epoch: number; lastSequence: number }> | null = null;
    for (let at = 0; at < batches.length; at += batchSizeAt(batches, at)) {
      const producerId = readInt64(batches, at + PRODUCER_ID_OFFSET);
      if (producerId < 0) continue;
      const epoch = batches.readInt16BE(at + PRODUCER_EPOCH_OFFSET);
      const baseSequence = batches.readInt32BE(at + BASE_SEQUENCE_OFFSET);
      if (baseSequence < 0) {
        throw new InvalidSequenceError(
          `batch of producer ${producerId} has sequence ${baseSequence}; idempotent batches need one`,
        );
      }
      const lastSequence = lastSequenceOf(baseSequence, batches.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET));
      const entry = this.producers.get(producerId);
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
   * Records the batch at `at`, its offsets written in it: an append's batches after `check`, and recovery's
   * replay of what the log holds, unchecked.
   */
  apply(buffer: Buffer, at: number, nowMs: number): void {
    const producerId = readInt64(buffer, at + PRODUCER_ID_OFFSET);
    if (producerId < 0) return;
    const epoch = buffer.readInt16BE(at + PRODUCER_EPOCH_OFFSET);
    const baseSequence = buffer.readInt32BE(at + BASE_SEQUENCE_OFFSET);
    const lastOffsetDelta = buffer.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    const firstOffset = readInt64(buffer, at + BASE_OFFSET_OFFSET);
    const batch: BatchMetadata = {
      firstSequence: baseSequence,
      lastSequence: lastSequenceOf(baseSequence, lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + lastOffsetDelta,
    };
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = { epoch, batches: [], lastAppendMs: nowMs };
      this.producers.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push(batch);
    if (entry.batches.length > RETAINED_BATCHES_PER_PRODUCER) entry.batches.shift();
    entry.lastAppendMs = nowMs;
  }

  /** Forgets producers idle for `expirationMs` (producer.id.expiration.ms); returns how many. */
  expire(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      if (nowMs - entry.lastAppendMs >= expirationMs) {
        this.producers.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
  }

  /**
   * The snapshot file's text: a header line, then one line per producer:
   * `producerId epoch lastAppendMs firstSequence:lastSequence:firstOffset:lastOffset ...`.
   */
  snapshotText(): string {
    const lines = [`${SNAPSHOT_HEADER} ${this.producers.size}`];
    for (const [producerId, entry] of this.producers) {
      const batches = entry.batches.map(
        (b) => `${b.firstSequence}:${b.lastSequence}:${b.firstOffset}:${b.lastOffset}`,
      );
      lines.push([producerId, entry.epoch, entry.lastAppendMs, ...batches].join(' '));
    }
    lines.push(SNAPSHOT_END);
    return `${lines.join('\n')}\n`;
  }

  /** Replaces the state with a snapshot's; throws (leaving the state empty) when the text is not one. */
  loadSnapshot(text: string): void {
    this.producers.clear();
    try {
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      // Written without fsync: a file cut short by a power failure lacks its last line.
      if (lines.pop() !== SNAPSHOT_END) throw new Error('no end line');
      const header = lines[0] ?? '';
      if (!header.startsWith(`${SNAPSHOT_HEADER} `)) throw new Error('no snapshot header');
      const count = Number(header.slice(SNAPSHOT_HEADER.length + 1));
      if (!Number.isSafeInteger(count) || count !== lines.length - 1) {
        throw new Error(`header counts ${count} producers, the file has ${lines.length - 1}`);
      }
      for (const line of lines.slice(1)) {
        const [producerId, epoch, lastAppendMs, ...batches] = line
          .split(' ')
          .map((field, i) => (i < 3 ? integer(field) : field));
        const entry: ProducerEntry = {
          epoch: epoch as number,
          lastAppendMs: lastAppendMs as number,
          batches: (batches as string[]).map((text) => {
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
      }
    } catch (error) {
      this.producers.clear();
      throw error;
    }
  }
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
 * Applies the idempotent batches from `fromOffset` on, reading only batch headers: a window moves over the
 * file and skips the records. The segments must be recovered (whole, valid batches).
 */
export async function replaySegments(
  state: ProducerStateManager,
  segments: readonly ReplaySegment[],
  fromOffset: number,
  handles: FileHandlePool,
  nowMs: number,
): Promise<void> {
  const window = Buffer.allocUnsafe(REPLAY_WINDOW_BYTES);
  for (const segment of segments) {
    const lease = await handles.acquire(segment.logPath);
    try {
      let windowStart = 0;
      let windowBytes = 0;
      let position = 0;
      while (position + RECORD_BATCH_OVERHEAD <= segment.sizeBytes) {
        if (position + RECORD_BATCH_OVERHEAD > windowStart + windowBytes) {
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
        if (lastOffset >= fromOffset) state.apply(window, at, nowMs);
        position += size;
      }
    } finally {
      lease.release();
    }
  }
}
