// kafkajs plumbing shared by the integration tests: a client that fails fast, codecs for the compression types
// kafkajs lacks, and a reader that consumes a topic up to its high watermarks through a consumer group.
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka as KafkaClient, KafkaConfig } from 'kafkajs';
import kafkajs from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';

const { Kafka, CompressionCodecs, CompressionTypes, logLevel } = kafkajs;

export { CompressionTypes };

export function createKafka(bootstrap: string, overrides: Partial<KafkaConfig> = {}): KafkaClient {
  return new Kafka({
    clientId: 'sluice-test',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    ...overrides,
  });
}

/** A kafkajs compression codec: kafkajs hands compress() an encoder whose `buffer` is the plain records. */
interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

// Java's SnappyOutputStream (xerial) framing, which Kafka uses for snappy batches: an 8-byte magic, two int32
// versions, then chunks of [int32 compressed length][raw snappy block].
const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeaderBytes = 16;
const xerialChunkBytes = 32 * 1024;

export function xerialSnappyCompress(plain: Buffer): Buffer {
  const header = Buffer.alloc(xerialHeaderBytes);
  xerialMagic.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let start = 0; start < plain.length; start += xerialChunkBytes) {
    const block = snappyCompress(plain.subarray(start, start + xerialChunkBytes), { copyOutputData: true });
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/** Reads xerial-framed snappy (what Java and Sluice write) and raw snappy blocks (what some clients write). */
export function snappyDecompressAnyFraming(data: Buffer): Buffer {
  if (data.length < xerialHeaderBytes || !data.subarray(0, xerialMagic.length).equals(xerialMagic)) {
    return snappyUncompress(data, { asBuffer: true }) as Buffer;
  }
  const parts: Buffer[] = [];
  let offset = xerialHeaderBytes;
  while (offset < data.length) {
    if (offset + 4 > data.length) throw new Error('xerial snappy: truncated chunk length');
    const length = data.readInt32BE(offset);
    offset += 4;
    if (length < 0 || offset + length > data.length)
      throw new Error('xerial snappy: chunk runs past the end');
    parts.push(snappyUncompress(data.subarray(offset, offset + length), { asBuffer: true }) as Buffer);
    offset += length;
  }
  return Buffer.concat(parts);
}

const snappyCodec: KafkajsCodec = {
  compress: async (encoder) => xerialSnappyCompress(encoder.buffer),
  decompress: async (buffer) => snappyDecompressAnyFraming(buffer),
};
const lz4Codec: KafkajsCodec = {
  compress: async (encoder) => compressFrameSync(encoder.buffer),
  decompress: async (buffer) => decompressFrameSync(buffer),
};
const zstdCodec: KafkajsCodec = {
  compress: async (encoder) => zstdCompress(encoder.buffer),
  decompress: async (buffer) => zstdDecompress(buffer),
};

/** Plugs snappy, lz4 and zstd into kafkajs (which only ships gzip). Idempotent. */
export function registerCompressionCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[name] = Array.isArray(value) ? value.map((v) => v.toString()).join(',') : value.toString();
  }
  return result;
}

export interface ReadAllOptions {
  timeoutMs?: number;
  groupId?: string;
}

/**
 * Reads every message of `topic` from the beginning up to the high watermarks measured at the start, through a
 * fresh consumer group. Fails (with what it got) if that takes longer than timeoutMs.
 */
export async function readAll(
  kafka: KafkaClient,
  topic: string,
  options: ReadAllOptions = {},
): Promise<ConsumedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const admin = kafka.admin();
  await admin.connect();
  let offsets: Array<{ partition: number; offset: string; low: string; high: string }>;
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map<number, bigint>();
  for (const { partition, low, high } of offsets) {
    if (BigInt(high) > BigInt(low)) remaining.set(partition, BigInt(high));
  }
  const messages: ConsumedMessage[] = [];
  if (remaining.size === 0) return messages;

  const consumer = kafka.consumer({
    groupId: options.groupId ?? `sluice-test-${randomUUID()}`,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // kafkajs reports group and fetch failures as crash events rather than through run()'s promise.
      let lastCrash = '';
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        lastCrash = `${payload.error.name}: ${payload.error.message}`;
        if (!payload.restart) {
          clearTimeout(timer);
          reject(new Error(`readAll(${topic}): consumer crashed: ${lastCrash}`));
        }
      });
      const timer = setTimeout(() => {
        const pending = [...remaining]
          .map(([p, high]) => `partition ${p} until offset ${high - 1n}`)
          .join(', ');
        const crash = lastCrash ? `; last consumer crash: ${lastCrash}` : '';
        reject(
          new Error(
            `readAll(${topic}): timed out after ${timeoutMs} ms waiting for ${pending}; got ${messages.length} messages${crash}`,
          ),
        );
      }, timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic: t, partition, message }) => {
            messages.push({
              topic: t,
              partition,
              offset: message.offset,
              key: message.key === null ? null : message.key.toString(),
              value: message.value === null ? null : message.value.toString(),
              headers: headersToStrings(message.headers),
              timestamp: message.timestamp,
            });
            const high = remaining.get(partition);
            if (high !== undefined && BigInt(message.offset) >= high - 1n) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Messages grouped by partition, each list in the order consumed. */
export function byPartition(messages: ConsumedMessage[]): Map<number, ConsumedMessage[]> {
  const result = new Map<number, ConsumedMessage[]>();
  for (const message of messages) {
    const list = result.get(message.partition) ?? [];
    list.push(message);
    result.set(message.partition, list);
  }
  return result;
}
