// Consumer hot path without a broker: Fetch response frames like those `sluice perf produce` data gives (8
// partitions, 1 KiB values, no keys or headers) are decoded the way the fetcher does it (response codec, next
// fetch offset, CRC check and record scan) and every message is read the way `sluice perf consume` reads it.
// Prints CPU milliseconds per 100k records (lower is better) for small and large batches.
//   node dist/bench/client/consume-decode.js [--rounds 40]
import { parseArgs } from 'node:util';
import { decodePartitionRecords, nextFetchOffset } from '../../src/client/consumer/message.js';
import { FetchApi, type FetchResponse, ResponseHeaderCodec } from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';

const PARTITIONS = 8;
const VALUE_BYTES = 1024;
/** max.partition.fetch.bytes: how much of each partition one response carries. */
const PARTITION_BYTES = 1024 * 1024;
const FETCH_VERSION = 12;

function partitionRecords(recordsPerBatch: number): { records: Buffer; count: number } {
  const value = Buffer.alloc(VALUE_BYTES, 'x');
  const batches: Buffer[] = [];
  let bytes = 0;
  let offset = 0;
  const timestamp = Date.now();
  for (;;) {
    const batch = encodeRecordBatch({
      baseOffset: offset,
      records: Array.from({ length: recordsPerBatch }, () => ({ key: null, value, timestamp })),
    });
    if (bytes + batch.length > PARTITION_BYTES) break;
    batches.push(batch);
    bytes += batch.length;
    offset += recordsPerBatch;
  }
  return { records: Buffer.concat(batches), count: offset };
}

/** One Fetch v12 response frame (header included, size prefix not), as the connection hands it over. */
function responseFrame(recordsPerBatch: number): { frame: Buffer; records: number } {
  const { records, count } = partitionRecords(recordsPerBatch);
  const response: FetchResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'bench',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({
          partitionIndex,
          errorCode: 0,
          highWatermark: BigInt(count),
          lastStableOffset: BigInt(count),
          logStartOffset: 0n,
          divergingEpoch: { epoch: -1, endOffset: -1n },
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
          snapshotId: { endOffset: -1n, epoch: -1 },
          abortedTransactions: null,
          preferredReadReplica: -1,
          records,
        })),
      },
    ],
    nodeEndpoints: [],
  };
  const writer = new Writer();
  ResponseHeaderCodec.encode(writer, { correlationId: 1 }, 1);
  FetchApi.encodeResponse(writer, response, FETCH_VERSION);
  return { frame: Buffer.concat(writer.toChunks()), records: count * PARTITIONS };
}

/** What the perf tool's batch handler does with each message. */
let checksum = 0;
function readMessages(messages: readonly { key: Buffer | null; value: Buffer | null; timestamp: number }[]) {
  const arrivedMs = Date.now();
  let bytes = 0;
  let latency = 0;
  for (const message of messages) {
    bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0);
    latency += arrivedMs - message.timestamp;
  }
  checksum += bytes + (latency > 0 ? 1 : 0);
}

async function consumeFrame(frame: Buffer): Promise<number> {
  const reader = new Reader(frame);
  ResponseHeaderCodec.decode(reader, 1);
  const response = FetchApi.decodeResponse(reader, FETCH_VERSION);
  let delivered = 0;
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      if (partition.records === null) continue;
      nextFetchOffset(partition.records, 0);
      const decoded = await decodePartitionRecords(partition.records, {
        topic: topic.topic,
        partition: partition.partitionIndex,
        fetchOffset: 0,
        verifyCrc: true,
        abortedTransactions: null,
        maxDecompressedBytes: 128 * 1024 * 1024,
      });
      readMessages(decoded.messages);
      delivered += decoded.messages.length;
    }
  }
  return delivered;
}

async function measure(recordsPerBatch: number, rounds: number): Promise<void> {
  const { frame, records } = responseFrame(recordsPerBatch);
  // Each round gets its own copy of the frame, as each real response is a new buffer.
  const copies = Array.from({ length: 4 }, () => Buffer.from(frame));
  for (let i = 0; i < 5; i++) await consumeFrame(copies[i % copies.length]!);
  const before = process.cpuUsage();
  const startMs = performance.now();
  let delivered = 0;
  for (let i = 0; i < rounds; i++) delivered += await consumeFrame(copies[i % copies.length]!);
  const cpu = process.cpuUsage(before);
  const elapsedMs = performance.now() - startMs;
  if (delivered !== records * rounds) throw new Error(`delivered ${delivered}, expected ${records * rounds}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    `${String(recordsPerBatch).padStart(4)} records/batch: ${((cpuMs / delivered) * 100_000).toFixed(1)} CPU ms per 100k records, ${Math.round((delivered / elapsedMs) * 1000)} records/s (${delivered} records)`,
  );
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '40' } } });
const rounds = Number(values.rounds);
for (const recordsPerBatch of [15, 250, 1000]) await measure(recordsPerBatch, rounds);
if (checksum === 0) console.log('nothing read');
