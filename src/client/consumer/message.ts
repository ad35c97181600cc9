// Turning one partition's Fetch records into messages, cheaply: a message remembers where its key, value and
// headers sit in the (decompressed) records section and cuts the Buffer views only when asked. Headers are
// parsed only when a record has some and the application reads them. Batches are CRC-checked, control
// batches skipped, records below the fetch offset (a batch can start before it) dropped, aborted
// transactions filtered for read_committed, and a partial batch at the end (the broker cuts at the byte
// limit) left for the next fetch.
import { ErrorCode } from '../../protocol/errors.js';
import { decompressAsync } from '../../protocol/records/compression.js';
import { crc32c } from '../../protocol/records/crc.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  readInt64,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
} from '../../protocol/records/layout.js';
import { RecordError } from '../errors.js';

export interface MessageHeader {
  key: string;
  value: Buffer | null;
}

/** One consumed record. key, value and headers are views into the fetched bytes (copy to keep them long). */
export interface ConsumerMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch: CreateTime, or the batch's LogAppendTime when the topic uses that. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly MessageHeader[];
}

const noHeaders: readonly MessageHeader[] = Object.freeze([]);

/** Fetched bytes that are not valid records (bad CRC, lengths, varints, legacy format): CORRUPT_MESSAGE. */
function corrupt(message: string): RecordError {
  return new RecordError(ErrorCode.CORRUPT_MESSAGE, message);
}

/**
 * Positions are absolute in `memory` (the ArrayBuffer under the records), so a view is cut with Buffer.from,
 * which is cheaper than subarray (no species lookup, no `.buffer` of the source).
 */
class FetchedMessage implements ConsumerMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  private readonly memory: ArrayBuffer;
  /** -1 for a null key. */
  private readonly keyStart: number;
  private readonly keyLength: number;
  /** -1 for a null value. */
  private readonly valueStart: number;
  private readonly valueLength: number;
  /** Where the header count varint starts, or -1 when the record has no headers. */
  private readonly headersStart: number;
  private decodedHeaders: readonly MessageHeader[] | undefined;

  constructor(
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    memory: ArrayBuffer,
    keyStart: number,
    keyLength: number,
    valueStart: number,
    valueLength: number,
    headersStart: number,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.timestamp = timestamp;
    this.memory = memory;
    this.keyStart = keyStart;
    this.keyLength = keyLength;
    this.valueStart = valueStart;
    this.valueLength = valueLength;
    this.headersStart = headersStart;
    this.decodedHeaders = headersStart < 0 ? noHeaders : undefined;
  }

  get key(): Buffer | null {
    return this.keyStart < 0 ? null : Buffer.from(this.memory, this.keyStart, this.keyLength);
  }

  get value(): Buffer | null {
    return this.valueStart < 0 ? null : Buffer.from(this.memory, this.valueStart, this.valueLength);
  }

  get headers(): readonly MessageHeader[] {
    if (this.decodedHeaders === undefined) {
      this.decodedHeaders = parseHeaders(Buffer.from(this.memory), this.headersStart);
    }
    return this.decodedHeaders;
  }

  toJSON(): object {
    return {
      topic: this.topic,
      partition: this.partition,
      offset: this.offset,
      timestamp: this.timestamp,
      key: this.key,
      value: this.value,
      headers: this.headers,
    };
  }
}

// The record was validated when it was scanned, so these reads stay in bounds.
function parseHeaders(data: Buffer, start: number): readonly MessageHeader[] {
  const cursor = { offset: start };
  const count = readVarintAt(data, cursor);
  const headers: MessageHeader[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const keyLength = readVarintAt(data, cursor);
    const key = data.toString('utf8', cursor.offset, cursor.offset + keyLength);
    cursor.offset += keyLength;
    const valueLength = readVarintAt(data, cursor);
    let value: Buffer | null = null;
    if (valueLength >= 0) {
      value = data.subarray(cursor.offset, cursor.offset + valueLength);
      cursor.offset += valueLength;
    }
    headers[i] = { key, value };
  }
  return headers;
}

/** Zig-zag varint (at most 5 bytes); throws RecordError past `end` or when too long. */
function readVarintAt(data: Buffer, cursor: { offset: number }, end = data.length): number {
  let raw = 0;
  let shift = 0;
  let at = cursor.offset;
  for (;;) {
    if (at >= end) throw corrupt('record varint runs past its record');
    const byte = data[at++]!;
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw corrupt('record varint is longer than 5 bytes');
  }
  cursor.offset = at;
  return (raw >>> 1) ^ -(raw & 1);
}

/** Zig-zag varlong as a number (timestamp deltas stay far below 2^53). */
function readVarlongAt(data: Buffer, cursor: { offset: number }, end: number): number {
  let value = 0;
  let multiplier = 1;
  let at = cursor.offset;
  for (let i = 0; ; i++) {
    if (at >= end || i >= 10) throw corrupt('record varlong is malformed');
    const byte = data[at++]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
  }
  cursor.offset = at;
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export interface DecodePartitionOptions {
  topic: string;
  partition: number;
  /** Records below this offset are dropped (a fetched batch may start before the fetch offset). */
  fetchOffset: number;
  verifyCrc: boolean;
  /** read_committed: the response's aborted transactions; null for read_uncommitted. */
  abortedTransactions: AbortedTransaction[] | null;
  maxDecompressedBytes: number;
}

export interface DecodedPartition {
  messages: ConsumerMessage[];
  /** The offset to fetch next: one past the last whole batch, or fetchOffset if there was none. */
  nextOffset: number;
  /** Bytes the messages keep alive (records section plus decompressed sections). */
  bytes: number;
}

const ABORT_MARKER = 0;

/**
 * The offset after the last whole batch that ends at or past `fetchOffset`, from batch headers alone (no CRC
 * check or record parsing), or fetchOffset when there is none. Lets the next Fetch go out before decoding.
 */
export function nextFetchOffset(records: Buffer, fetchOffset: number): number {
  let next = fetchOffset;
  let position = 0;
  while (records.length - position >= LOG_OVERHEAD) {
    const batchLength = records.readInt32BE(position + BATCH_LENGTH_OFFSET);
    if (batchLength < MIN_BATCH_LENGTH) break; // decoding reports it
    const end = position + LOG_OVERHEAD + batchLength;
    if (end > records.length) break;
    const lastOffset =
      readInt64(records, position + BASE_OFFSET_OFFSET) +
      records.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
    if (lastOffset + 1 > next) next = lastOffset + 1;
    position = end;
  }
  return next;
}

/** Decodes the whole batches of one partition's records, in order. */
export async function decodePartitionRecords(
  records: Buffer,
  options: DecodePartitionOptions,
): Promise<DecodedPartition> {
  const messages: ConsumerMessage[] = [];
  let nextOffset = options.fetchOffset;
  let bytes = records.length;
  const aborted = options.abortedTransactions
    ? [...options.abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset)
    : null;
  let abortedIndex = 0;
  const abortingProducers = new Set<number>();

  let position = 0;
  while (records.length - position >= LOG_OVERHEAD) {
    const batchLength = records.readInt32BE(position + BATCH_LENGTH_OFFSET);
    const end = position + LOG_OVERHEAD + batchLength;
    if (batchLength >= 0 && end > records.length) break;
    if (batchLength < MIN_BATCH_LENGTH) {
      throw corrupt(`${describe(options)}: batch has length ${batchLength}`);
    }
    const magic = records[position + MAGIC_OFFSET];
    if (magic !== CURRENT_MAGIC) {
      throw corrupt(`${describe(options)}: batch has magic ${magic} (only 2 is supported)`);
    }
    if (options.verifyCrc) {
      const expected = records.readUInt32BE(position + CRC_OFFSET);
      if (crc32c(records, position + ATTRIBUTES_OFFSET, end) !== expected) {
        throw corrupt(`${describe(options)}: batch fails its CRC check`);
      }
    }
    const baseOffset = readInt64(records, position + BASE_OFFSET_OFFSET);
    const lastOffset = baseOffset + records.readInt32BE(position + LAST_OFFSET_DELTA_OFFSET);
    const attributes = records.readUInt16BE(position + ATTRIBUTES_OFFSET);
    const batchStart = position;
    position = end;
    if (lastOffset < options.fetchOffset) continue;
    nextOffset = lastOffset + 1;

    const isControl = (attributes & CONTROL_FLAG_MASK) !== 0;
    if (aborted !== null && (attributes & TRANSACTIONAL_FLAG_MASK) !== 0) {
      const producerId = readInt64(records, batchStart + PRODUCER_ID_OFFSET);
      while (abortedIndex < aborted.length && aborted[abortedIndex]!.firstOffset <= lastOffset) {
        abortingProducers.add(aborted[abortedIndex++]!.producerId);
      }
      if (isControl) {
        if (abortingProducers.has(producerId) && controlType(records, batchStart, end) === ABORT_MARKER) {
          abortingProducers.delete(producerId);
        }
        continue;
      }
      if (abortingProducers.has(producerId)) continue;
    }
    if (isControl) continue;

    const count = records.readInt32BE(batchStart + RECORD_COUNT_OFFSET);
    if (count <= 0) continue;
    const codec = attributes & COMPRESSION_CODEC_MASK;
    let data = records;
    let sectionStart = batchStart + RECORDS_OFFSET;
    let sectionEnd = end;
    if (codec !== 0) {
      data = await decompressAsync(codec as 1 | 2 | 3 | 4, records.subarray(sectionStart, end), {
        maxBytes: options.maxDecompressedBytes,
      });
      bytes += data.length;
      sectionStart = 0;
      sectionEnd = data.length;
    }
    const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
    const baseTimestamp = logAppendTime
      ? readInt64(records, batchStart + MAX_TIMESTAMP_OFFSET)
      : readInt64(records, batchStart + BASE_TIMESTAMP_OFFSET);
    scanRecords(
      data,
      sectionStart,
      sectionEnd,
      count,
      baseOffset,
      baseTimestamp,
      logAppendTime,
      options,
      messages,
    );
  }
  return { messages, nextOffset, bytes };
}

function describe(options: DecodePartitionOptions): string {
  return `${options.topic}-${options.partition}`;
}

/** The type of a control batch's record (its key is int16 version, int16 type). */
function controlType(records: Buffer, batchStart: number, end: number): number {
  const cursor = { offset: batchStart + RECORDS_OFFSET };
  readVarintAt(records, cursor, end); // length
  cursor.offset += 1; // attributes
  readVarlongAt(records, cursor, end);
  readVarintAt(records, cursor, end);
  const keyLength = readVarintAt(records, cursor, end);
  if (keyLength < 4 || cursor.offset + 4 > end) return -1;
  return records.readInt16BE(cursor.offset + 2);
}

/**
 * Read position of readRecordVarint: module state rather than a cursor object, so the per-record scan
 * allocates nothing but the message.
 */
let scanAt = 0;

/** Zig-zag varint at scanAt (at most 5 bytes, one in the common case); throws RecordError past `end`. */
function readRecordVarint(data: Buffer, end: number): number {
  if (scanAt >= end) throw corrupt('record varint runs past its record');
  let byte = data[scanAt++]!;
  if ((byte & 0x80) === 0) return (byte >>> 1) ^ -(byte & 1);
  let raw = byte & 0x7f;
  let shift = 7;
  for (;;) {
    if (scanAt >= end) throw corrupt('record varint runs past its record');
    byte = data[scanAt++]!;
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
    shift += 7;
    if (shift > 28) throw corrupt('record varint is longer than 5 bytes');
  }
}

function scanRecords(
  data: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime: boolean,
  options: DecodePartitionOptions,
  out: ConsumerMessage[],
): void {
  const { topic, partition, fetchOffset } = options;
  const memory = data.buffer as ArrayBuffer;
  const base = data.byteOffset;
  scanAt = start;
  for (let index = 0; index < count; index++) {
    const bodyLength = readRecordVarint(data, end);
    const bodyEnd = scanAt + bodyLength;
    if (bodyLength < 1 || bodyEnd > end) {
      throw corrupt(`${topic}-${partition}: record ${index} has length ${bodyLength}`);
    }
    scanAt += 1; // record attributes: unused in magic 2
    // Timestamp deltas within a batch fit a varint's range in practice; larger ones take the varlong path.
    let timestampDelta: number;
    if (data[scanAt]! < 0x80) {
      const byte = data[scanAt++]!;
      timestampDelta = (byte >>> 1) ^ -(byte & 1);
    } else {
      const cursor = { offset: scanAt };
      timestampDelta = readVarlongAt(data, cursor, bodyEnd);
      scanAt = cursor.offset;
    }
    const offset = baseOffset + readRecordVarint(data, bodyEnd);
    const keyLength = readRecordVarint(data, bodyEnd);
    const keyStart = keyLength < 0 ? -1 : scanAt;
    if (keyLength > 0) scanAt += keyLength;
    const valueLength = readRecordVarint(data, bodyEnd);
    const valueStart = valueLength < 0 ? -1 : scanAt;
    if (valueLength > 0) scanAt += valueLength;
    if (keyLength < -1 || valueLength < -1 || scanAt >= bodyEnd) {
      throw corrupt(`${topic}-${partition}: record ${index} has bad field lengths`);
    }
    // A header count of 0 is the single byte 0; otherwise the headers are checked now and parsed on demand.
    const headersStart = data[scanAt] === 0 ? -1 : scanAt;
    if (headersStart >= 0) {
      const cursor = { offset: scanAt };
      checkHeaders(data, cursor, bodyEnd, topic, partition);
    } else if (scanAt + 1 !== bodyEnd) {
      throw corrupt(`${topic}-${partition}: record does not fill its length`);
    }
    scanAt = bodyEnd;
    if (offset < fetchOffset) continue;
    out.push(
      new FetchedMessage(
        topic,
        partition,
        offset,
        logAppendTime ? baseTimestamp : baseTimestamp + timestampDelta,
        memory,
        keyStart < 0 ? -1 : base + keyStart,
        keyLength,
        valueStart < 0 ? -1 : base + valueStart,
        valueLength,
        headersStart < 0 ? -1 : base + headersStart,
      ),
    );
  }
  if (scanAt !== end) {
    throw corrupt(`${topic}-${partition}: records do not fill their batch`);
  }
}

function checkHeaders(
  data: Buffer,
  cursor: { offset: number },
  bodyEnd: number,
  topic: string,
  partition: number,
): void {
  const count = readVarintAt(data, cursor, bodyEnd);
  if (count < 0) throw corrupt(`${topic}-${partition}: record has ${count} headers`);
  for (let i = 0; i < count; i++) {
    const keyLength = readVarintAt(data, cursor, bodyEnd);
    if (keyLength < 0) throw corrupt(`${topic}-${partition}: header key is null`);
    cursor.offset += keyLength;
    const valueLength = readVarintAt(data, cursor, bodyEnd);
    if (valueLength > 0) cursor.offset += valueLength;
    if (cursor.offset > bodyEnd) throw corrupt(`${topic}-${partition}: header runs past its record`);
  }
  if (cursor.offset !== bodyEnd) {
    throw corrupt(`${topic}-${partition}: record does not fill its length`);
  }
}
