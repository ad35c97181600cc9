// Magic-2 record batch encoding in place, shared by the producer (which appends records one at a time as they
// arrive) and encodeRecordBatch (which has them all at once). Records are encoded straight into the caller's
// buffers: strings are UTF-8 encoded into them directly, never through an intermediate Buffer, and the 61-byte
// header is written in front of them when the batch is sealed. A batch may span several buffers ("chunks", the
// producer's pooled memory): records that cross a chunk boundary are split between the two, and the sealed batch
// is the list of chunk views, sent back to back. batch.ts documents the record layout.

import { varintSize, varlongSize, writeVarint, writeVarlong } from '../primitives/varint.js';
import { compressAsync } from './compression.js';
import { crc32c, crc32cUpdate } from './crc.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CodecId,
  type CodecIdValue,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  writeInt64,
} from './layout.js';

/** A record key or value: UTF-8 text, raw bytes, or null. */
export type RecordData = string | Buffer | null;

/** One header value; a header name given several values is written once per value, in order. */
export type HeaderValue = string | Buffer | null;

/** Record headers as a plain object; undefined entries are skipped. */
export type RecordHeaders = Record<string, HeaderValue | readonly HeaderValue[] | undefined>;

/** Record headers as a list, in order (the shape decoded batches carry). */
export type HeaderList = readonly { readonly key: string; readonly value: HeaderValue }[];

/** Fields of the batch header besides the ones the records determine; all default to a plain producer's. */
export interface BatchHeaderFields {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  /** Attribute bits other than the codec (timestamp type, transactional, control). */
  attributeFlags?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/** Byte length of a key, value or header value as written: -1 for null. */
export function dataLength(data: HeaderValue): number {
  if (data === null) return -1;
  return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
}

function fieldSize(length: number): number {
  return length < 0 ? 1 : varintSize(length) + length;
}

function headerSize(name: string, value: HeaderValue): number {
  const nameBytes = Buffer.byteLength(name, 'utf8');
  return varintSize(nameBytes) + nameBytes + fieldSize(dataLength(value));
}

/** Encoded size of the headers section (count varint included). */
export function headersSize(headers: RecordHeaders | HeaderList | undefined): number {
  if (headers === undefined) return 1;
  let size = 0;
  let count = 0;
  if (Array.isArray(headers)) {
    for (const header of headers as HeaderList) size += headerSize(header.key, header.value);
    return size + varintSize(headers.length);
  }
  const named = headers as RecordHeaders;
  for (const name in named) {
    const values = named[name];
    if (values === undefined) continue;
    if (Array.isArray(values)) {
      for (const value of values as readonly HeaderValue[]) size += headerSize(name, value);
      count += values.length;
    } else {
      size += headerSize(name, values as HeaderValue);
      count++;
    }
  }
  return size + varintSize(count);
}

function recordBodySize(
  keyLength: number,
  valueLength: number,
  headerBytes: number,
  offsetDelta: number,
  timestampDelta: number,
): number {
  return (
    1 +
    varlongSize(timestampDelta) +
    varintSize(offsetDelta) +
    fieldSize(keyLength) +
    fieldSize(valueLength) +
    headerBytes
  );
}

/**
 * Encoded size of one record (its length varint included) at `offsetDelta` / `timestampDelta` within a batch.
 * `headerBytes` is headersSize(headers).
 */
export function recordSize(
  keyLength: number,
  valueLength: number,
  headerBytes: number,
  offsetDelta: number,
  timestampDelta: number,
): number {
  const body = recordBodySize(keyLength, valueLength, headerBytes, offsetDelta, timestampDelta);
  return varintSize(body) + body;
}

/** Bytes a batch holding only this record needs, header included: the smallest batch it can go in. */
export function soloBatchSize(keyLength: number, valueLength: number, headerBytes: number): number {
  return RECORDS_OFFSET + recordSize(keyLength, valueLength, headerBytes, 0, 0);
}

/** Records that cross a chunk boundary are encoded here first, then copied across. Grows to the largest record. */
let spillScratch = Buffer.allocUnsafe(0);

/**
 * Encodes one batch into chunks the owner provides. The first chunk must hold at least the header; the batch
 * never grows past `limitBytes`, which the owner may raise (after adding chunks) up to the chunks' total size.
 */
export class RecordBatchEncoder {
  /** Every chunk given so far; the batch's bytes run through them in order. */
  readonly chunks: Buffer[];
  /** The chunk being written, chunks[chunkIndex]. */
  private current: Buffer;
  private chunkIndex = 0;
  /** Write position in `current`. */
  private position = RECORDS_OFFSET;
  /** Bytes of the chunks before `current`. */
  private bytesBefore = 0;
  private capacity: number;
  private limit: number;
  private count = 0;
  private lastOffsetDelta = 0;
  private baseTimestampMs = 0;
  private maxTimestampMs = 0;

  constructor(chunks: Buffer[], limitBytes: number) {
    const first = chunks[0];
    if (first === undefined || first.length < RECORDS_OFFSET) {
      throw new RangeError(`the first chunk of a record batch needs at least ${RECORDS_OFFSET} bytes`);
    }
    this.chunks = chunks;
    this.current = first;
    let capacity = 0;
    for (const chunk of chunks) capacity += chunk.length;
    this.capacity = capacity;
    this.limit = Math.min(limitBytes, capacity);
  }

  get recordCount(): number {
    return this.count;
  }

  /** Bytes of the uncompressed batch so far, header included. */
  get sizeBytes(): number {
    return this.bytesBefore + this.position;
  }

  /** The size the batch may grow to. */
  get limitBytes(): number {
    return this.limit;
  }

  /** Total size of the chunks. */
  get capacityBytes(): number {
    return this.capacity;
  }

  /** Adds a chunk at the end (room for raiseLimit). */
  addChunk(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.capacity += chunk.length;
  }

  /** Lets the batch grow to `limitBytes`, or as far as its chunks reach. */
  raiseLimit(limitBytes: number): void {
    this.limit = Math.max(this.limit, Math.min(limitBytes, this.capacity));
  }

  /** The batch size after appending a record of these sizes (record sizes depend on the batch's deltas). */
  sizeWith(keyLength: number, valueLength: number, headerBytes: number, timestampMs: number): number {
    const timestampDelta = this.count === 0 ? 0 : timestampMs - this.baseTimestampMs;
    return this.sizeBytes + recordSize(keyLength, valueLength, headerBytes, this.count, timestampDelta);
  }

  /**
   * Appends one record if it fits within the limit and returns true; returns false (writing nothing) when it
   * does not. keyLength/valueLength are dataLength() of key/value and headerBytes is headersSize(headers): the
   * caller usually has them already, so they are not computed twice. offsetDelta defaults to the record's index.
   */
  tryAppend(
    key: RecordData,
    keyLength: number,
    value: RecordData,
    valueLength: number,
    headers: RecordHeaders | HeaderList | undefined,
    headerBytes: number,
    timestampMs: number,
    offsetDelta: number = this.count,
  ): boolean {
    const baseTimestampMs = this.count === 0 ? timestampMs : this.baseTimestampMs;
    const timestampDelta = timestampMs - baseTimestampMs;
    const body = recordBodySize(keyLength, valueLength, headerBytes, offsetDelta, timestampDelta);
    const total = varintSize(body) + body;
    if (this.bytesBefore + this.position + total > this.limit) return false;
    const at = this.position;
    if (at + total <= this.current.length) {
      this.position = writeRecord(
        this.current,
        at,
        body,
        timestampDelta,
        offsetDelta,
        key,
        keyLength,
        value,
        valueLength,
        headers,
      );
    } else {
      if (spillScratch.length < total) spillScratch = Buffer.allocUnsafe(total);
      writeRecord(
        spillScratch,
        0,
        body,
        timestampDelta,
        offsetDelta,
        key,
        keyLength,
        value,
        valueLength,
        headers,
      );
      this.spill(spillScratch, total);
    }
    if (this.count === 0) {
      this.baseTimestampMs = timestampMs;
      this.maxTimestampMs = timestampMs;
    } else if (timestampMs > this.maxTimestampMs) {
      this.maxTimestampMs = timestampMs;
    }
    if (offsetDelta > this.lastOffsetDelta) this.lastOffsetDelta = offsetDelta;
    this.count++;
    return true;
  }

  /** The uncompressed records section (after the header), as views of the chunks. */
  recordsSection(): Buffer[] {
    const views = this.views();
    views[0] = views[0]!.subarray(RECORDS_OFFSET);
    return views;
  }

  /**
   * The finished batch as views of the chunks, sent back to back: the header written in front of the records
   * and the CRC over all of it. No copy. Call after the last append.
   */
  sealUncompressed(fields: BatchHeaderFields = {}): Buffer[] {
    const views = this.views();
    this.writeHeader(views, this.sizeBytes, CodecId.none, fields);
    return views;
  }

  /** The finished batch compressed with `codec` (off the event loop), or sealUncompressed() for none. */
  async seal(codec: CodecIdValue, fields: BatchHeaderFields = {}): Promise<Buffer[]> {
    if (codec === CodecId.none) return this.sealUncompressed(fields);
    const section = this.recordsSection();
    const compressed = await compressAsync(
      codec,
      section.length === 1 ? section[0]! : Buffer.concat(section, this.sizeBytes - RECORDS_OFFSET),
    );
    return [this.sealCompressed(compressed, codec, fields)];
  }

  /** A batch of `compressed` (this batch's records section, compressed with `codec`) under this batch's header. */
  sealCompressed(compressed: Buffer, codec: CodecIdValue, fields: BatchHeaderFields = {}): Buffer {
    const batch = Buffer.allocUnsafe(RECORDS_OFFSET + compressed.length);
    compressed.copy(batch, RECORDS_OFFSET);
    this.writeHeader([batch], batch.length, codec, fields);
    return batch;
  }

  private views(): Buffer[] {
    const views = this.chunks.slice(0, this.chunkIndex + 1);
    views[this.chunkIndex] = this.current.subarray(0, this.position);
    return views;
  }

  /** Copies an encoded record across the chunk boundary (the limit guarantees the chunks can take it). */
  private spill(source: Buffer, length: number): void {
    let copied = 0;
    for (;;) {
      const room = this.current.length - this.position;
      const part = Math.min(room, length - copied);
      source.copy(this.current, this.position, copied, copied + part);
      this.position += part;
      copied += part;
      if (copied === length) return;
      this.bytesBefore += this.current.length;
      this.current = this.chunks[++this.chunkIndex]!;
      this.position = 0;
    }
  }

  private writeHeader(
    views: Buffer[],
    batchBytes: number,
    codec: CodecIdValue,
    fields: BatchHeaderFields,
  ): void {
    if (this.count === 0) throw new RangeError('a record batch needs at least one record');
    const header = views[0]!;
    writeInt64(header, BASE_OFFSET_OFFSET, fields.baseOffset ?? 0);
    header.writeInt32BE(batchBytes - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    header.writeInt32BE(
      fields.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
      PARTITION_LEADER_EPOCH_OFFSET,
    );
    header[MAGIC_OFFSET] = CURRENT_MAGIC;
    header.writeUInt16BE(codec | (fields.attributeFlags ?? 0), ATTRIBUTES_OFFSET);
    header.writeInt32BE(this.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
    writeInt64(header, BASE_TIMESTAMP_OFFSET, this.baseTimestampMs);
    writeInt64(header, MAX_TIMESTAMP_OFFSET, this.maxTimestampMs);
    writeInt64(header, PRODUCER_ID_OFFSET, fields.producerId ?? NO_PRODUCER_ID);
    header.writeInt16BE(fields.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    header.writeInt32BE(fields.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
    header.writeInt32BE(this.count, RECORD_COUNT_OFFSET);
    // The CRC covers the attributes to the end, chained across the chunks.
    let crc = crc32c(header, ATTRIBUTES_OFFSET);
    for (let index = 1; index < views.length; index++) crc = crc32cUpdate(views[index]!, crc);
    header.writeUInt32BE(crc >>> 0, CRC_OFFSET);
  }
}

/** Writes one record (its body size computed by the caller) at `at`; returns the position after it. */
function writeRecord(
  buf: Buffer,
  at: number,
  body: number,
  timestampDelta: number,
  offsetDelta: number,
  key: RecordData,
  keyLength: number,
  value: RecordData,
  valueLength: number,
  headers: RecordHeaders | HeaderList | undefined,
): number {
  at = writeVarint(buf, at, body);
  buf[at++] = 0;
  at = writeVarlong(buf, at, timestampDelta);
  at = writeVarint(buf, at, offsetDelta);
  at = writeData(buf, at, key, keyLength);
  at = writeData(buf, at, value, valueLength);
  if (headers === undefined) {
    buf[at] = 0;
    return at + 1;
  }
  return writeHeaders(buf, at, headers);
}

/** Writes a length-prefixed key, value or header value whose byte length the caller measured. */
function writeData(buf: Buffer, at: number, data: HeaderValue, length: number): number {
  at = writeVarint(buf, at, length);
  if (data === null) return at;
  if (typeof data === 'string') buf.write(data, at, length, 'utf8');
  else buf.set(data, at);
  return at + length;
}

function writeHeader(buf: Buffer, at: number, name: string, value: HeaderValue): number {
  const nameBytes = Buffer.byteLength(name, 'utf8');
  at = writeVarint(buf, at, nameBytes);
  at += buf.write(name, at, nameBytes, 'utf8');
  return writeData(buf, at, value, dataLength(value));
}

function writeHeaders(buf: Buffer, at: number, headers: RecordHeaders | HeaderList): number {
  if (Array.isArray(headers)) {
    at = writeVarint(buf, at, headers.length);
    for (const header of headers as HeaderList) at = writeHeader(buf, at, header.key, header.value);
    return at;
  }
  const named = headers as RecordHeaders;
  let count = 0;
  for (const name in named) {
    const values = named[name];
    if (values !== undefined) count += Array.isArray(values) ? values.length : 1;
  }
  at = writeVarint(buf, at, count);
  for (const name in named) {
    const values = named[name];
    if (values === undefined) continue;
    if (Array.isArray(values)) {
      for (const value of values as readonly HeaderValue[]) at = writeHeader(buf, at, name, value);
    } else {
      at = writeHeader(buf, at, name, values as HeaderValue);
    }
  }
  return at;
}
