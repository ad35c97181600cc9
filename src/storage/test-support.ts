import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../protocol/records/crc.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  readInt64,
  TRANSACTIONAL_FLAG_MASK,
  writeInt64,
} from '../protocol/records/layout.js';
import { readBatchHeader } from './batch.js';
import type { LogConfig } from './config.js';

/** Test-only helpers: builds real magic-2 batches and temporary directories. */

function zigzagVarint(value: number): number[] {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** One uncompressed magic-2 batch of `records` records with `valueBytes`-byte values, timestamps from `timestampMs`. */
export function makeBatch(options: {
  records?: number;
  timestampMs?: number;
  valueBytes?: number;
  fill?: number;
  /** An idempotent producer's batch: its id, epoch (default 0) and first sequence (default 0). */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Sets the transactional attribute bit (a transactional producer's batch). */
  transactional?: boolean;
}): Buffer {
  const records = options.records ?? 1;
  const timestampMs = options.timestampMs ?? 1_700_000_000_000;
  const valueBytes = options.valueBytes ?? 10;
  const bodies: Buffer[] = [];
  for (let i = 0; i < records; i++) {
    const value = Buffer.alloc(valueBytes, (options.fill ?? 0) + i);
    const inner = Buffer.concat([
      Buffer.from([
        0,
        ...zigzagVarint(i),
        ...zigzagVarint(i),
        ...zigzagVarint(-1),
        ...zigzagVarint(valueBytes),
      ]),
      value,
      Buffer.from(zigzagVarint(0)),
    ]);
    bodies.push(Buffer.from(zigzagVarint(inner.length)), inner);
  }
  const body = Buffer.concat(bodies);
  const batch = Buffer.alloc(61 + body.length);
  writeInt64(batch, BASE_OFFSET_OFFSET, 0);
  batch.writeInt32BE(batch.length - 12, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
  batch.writeInt8(2, MAGIC_OFFSET);
  batch.writeInt16BE(options.transactional ? TRANSACTIONAL_FLAG_MASK : 0, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(records - 1, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(batch, BASE_TIMESTAMP_OFFSET, timestampMs);
  writeInt64(batch, MAX_TIMESTAMP_OFFSET, timestampMs + records - 1);
  const idempotent = options.producerId !== undefined;
  writeInt64(batch, PRODUCER_ID_OFFSET, options.producerId ?? -1);
  batch.writeInt16BE(idempotent ? (options.producerEpoch ?? 0) : -1, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(idempotent ? (options.baseSequence ?? 0) : -1, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(records, RECORD_COUNT_OFFSET);
  body.copy(batch, 61);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** Splits read chunks back into batches and checks each one's CRC. */
export function splitBatches(chunks: Buffer[]): { baseOffset: number; lastOffset: number; batch: Buffer }[] {
  const out: { baseOffset: number; lastOffset: number; batch: Buffer }[] = [];
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; ) {
      const header = readBatchHeader(chunk, at);
      const batch = chunk.subarray(at, at + header.sizeBytes);
      if (batch.length !== header.sizeBytes) throw new Error(`partial batch at ${at}`);
      if (batch.readUInt32BE(CRC_OFFSET) !== crc32c(batch.subarray(ATTRIBUTES_OFFSET))) {
        throw new Error(`bad crc at offset ${header.baseOffset}`);
      }
      out.push({ baseOffset: readInt64(batch, 0), lastOffset: header.lastOffset, batch });
      at += header.sizeBytes;
    }
  }
  return out;
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return {
    segmentBytes: 1024 * 1024,
    segmentMs: 7 * 24 * 3600 * 1000,
    indexIntervalBytes: 256,
    maxIndexEntries: 1000,
    flushMessages: Number.MAX_SAFE_INTEGER,
    flushMs: Number.MAX_SAFE_INTEGER,
    retentionMs: -1,
    retentionBytes: -1,
    cleanupPolicy: 'delete',
    fileDeleteDelayMs: 0,
    ...overrides,
  };
}

/** Polls `condition` until it holds; fails after `timeoutMs` (for work a log does behind its appends). */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-storage-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CapturedLog {
  level: string;
  message: string;
  fields: object;
}

export function captureLogger(): { logger: { info: Fn; warn: Fn; error: Fn }; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const at = (level: string) => (fields: object, message: string) => lines.push({ level, message, fields });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

type Fn = (fields: object, message: string) => void;
