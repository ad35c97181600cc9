// The requests the bench sends, hand-encoded: Produce v7, Fetch v11, Metadata v1, CreateTopics v4. All are
// non-flexible versions, so every response has header v0 (just the correlation id, stripped by the connection).
import { FrameWriter, ResponseReader } from './codec.js';

const CLIENT_ID = 'sluice-bench';
const API_PRODUCE = 0;
const API_FETCH = 1;
const API_METADATA = 3;
const API_CREATE_TOPICS = 19;

export class KafkaErrorCodeError extends Error {
  override name = 'KafkaErrorCodeError';
  constructor(
    readonly errorCode: number,
    where: string,
  ) {
    super(`${where}: Kafka error code ${errorCode}`);
  }
}

// ---- Produce v7 ----

export interface ProducePartition {
  partition: number;
  records: Buffer;
}

export function encodeProduceRequest(
  correlationId: number,
  acks: number,
  timeoutMs: number,
  topic: string,
  partitions: readonly ProducePartition[],
): Buffer {
  return new FrameWriter(API_PRODUCE, 7, correlationId, CLIENT_ID)
    .string(null)
    .int16(acks)
    .int32(timeoutMs)
    .array([topic], (w, name) =>
      w.string(name).array(partitions, (pw, p) => pw.int32(p.partition).bytesField(p.records)),
    )
    .finish();
}

export interface ProducePartitionResult {
  partition: number;
  baseOffset: number;
}

/** Throws on the first partition error; returns the base offsets otherwise. */
export function parseProduceResponse(payload: Buffer): ProducePartitionResult[] {
  const reader = new ResponseReader(payload);
  const results: ProducePartitionResult[] = [];
  for (let t = reader.arrayLength(); t > 0; t--) {
    const topic = reader.string();
    for (let p = reader.arrayLength(); p > 0; p--) {
      const partition = reader.int32();
      const errorCode = reader.int16();
      const baseOffset = reader.int64();
      reader.int64(); // log append time
      reader.int64(); // log start offset
      if (errorCode !== 0) throw new KafkaErrorCodeError(errorCode, `produce ${topic}-${partition}`);
      results.push({ partition, baseOffset });
    }
  }
  return results;
}

// ---- Fetch v11 ----

export interface FetchPartitionRequest {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
}

export function encodeFetchRequest(
  correlationId: number,
  options: FetchOptions,
  topics: ReadonlyMap<string, readonly FetchPartitionRequest[]>,
): Buffer {
  return new FrameWriter(API_FETCH, 11, correlationId, CLIENT_ID)
    .int32(-1) // replica id: a consumer
    .int32(options.maxWaitMs)
    .int32(options.minBytes)
    .int32(options.maxBytes)
    .int8(0) // read uncommitted
    .int32(0) // no fetch session
    .int32(-1)
    .array([...topics], (w, [topic, partitions]) =>
      w.string(topic).array(partitions, (pw, p) =>
        pw
          .int32(p.partition)
          .int32(-1) // current leader epoch unknown
          .int64(BigInt(p.fetchOffset))
          .int64(-1n) // log start offset: only followers send it
          .int32(p.partitionMaxBytes),
      ),
    )
    .array([], () => {}) // forgotten topics
    .string('') // rack id
    .finish();
}

/**
 * Walks a Fetch v11 response and hands each partition's records range to `onPartition` without copying.
 * Throws on a top-level or partition error code.
 */
export function walkFetchResponse(
  payload: Buffer,
  onPartition: (topic: string, partition: number, highWatermark: number, start: number, end: number) => void,
): void {
  const reader = new ResponseReader(payload);
  reader.int32(); // throttle time
  const errorCode = reader.int16();
  if (errorCode !== 0) throw new KafkaErrorCodeError(errorCode, 'fetch');
  reader.int32(); // session id
  for (let t = reader.arrayLength(); t > 0; t--) {
    const topic = reader.string() ?? '';
    for (let p = reader.arrayLength(); p > 0; p--) {
      const partition = reader.int32();
      const partitionError = reader.int16();
      const highWatermark = reader.int64();
      reader.int64(); // last stable offset
      reader.int64(); // log start offset
      for (let a = reader.arrayLength(); a > 0; a--) {
        reader.int64();
        reader.int64();
      }
      reader.int32(); // preferred read replica
      const records = reader.bytesRange();
      if (partitionError !== 0) throw new KafkaErrorCodeError(partitionError, `fetch ${topic}-${partition}`);
      if (records !== null) onPartition(topic, partition, highWatermark, records.start, records.end);
    }
  }
}

// ---- Metadata v1 ----

export function encodeMetadataRequest(correlationId: number, topics: readonly string[]): Buffer {
  return new FrameWriter(API_METADATA, 1, correlationId, CLIENT_ID)
    .array(topics, (w, name) => w.string(name))
    .finish();
}

export interface TopicMetadata {
  topic: string;
  errorCode: number;
  /** Leader id per partition index. */
  leaders: Map<number, number>;
}

export function parseMetadataResponse(payload: Buffer): TopicMetadata[] {
  const reader = new ResponseReader(payload);
  for (let b = reader.arrayLength(); b > 0; b--) {
    reader.int32();
    reader.string();
    reader.int32();
    reader.string(); // rack
  }
  reader.int32(); // controller id
  const topics: TopicMetadata[] = [];
  for (let t = reader.arrayLength(); t > 0; t--) {
    const errorCode = reader.int16();
    const topic = reader.string() ?? '';
    reader.int8(); // is internal
    const leaders = new Map<number, number>();
    for (let p = reader.arrayLength(); p > 0; p--) {
      reader.int16(); // partition error
      const partition = reader.int32();
      leaders.set(partition, reader.int32());
      for (let r = reader.arrayLength(); r > 0; r--) reader.int32();
      for (let r = reader.arrayLength(); r > 0; r--) reader.int32();
    }
    topics.push({ topic, errorCode, leaders });
  }
  return topics;
}

// ---- CreateTopics v4 ----

export function encodeCreateTopicsRequest(
  correlationId: number,
  topic: string,
  partitions: number,
  timeoutMs: number,
): Buffer {
  return new FrameWriter(API_CREATE_TOPICS, 4, correlationId, CLIENT_ID)
    .array(
      [topic],
      (w, name) =>
        w
          .string(name)
          .int32(partitions)
          .int16(1)
          .array([], () => {}) // broker chooses assignments
          .array([], () => {}), // default configs
    )
    .int32(timeoutMs)
    .int8(0) // validate only: no
    .finish();
}

export function parseCreateTopicsResponse(payload: Buffer): void {
  const reader = new ResponseReader(payload);
  reader.int32(); // throttle time
  for (let t = reader.arrayLength(); t > 0; t--) {
    const topic = reader.string();
    const errorCode = reader.int16();
    const message = reader.string();
    if (errorCode !== 0) {
      throw new KafkaErrorCodeError(errorCode, `create topic ${topic}${message ? ` (${message})` : ''}`);
    }
  }
}
