// Reading transactional partitions the way the transaction tests compare them: the raw log with its markers
// (Fetch read_uncommitted through the generated codecs), what a read_committed Fetch reports (last stable offset,
// aborted transactions), ListOffsets per isolation level, and what kcat and a kafkajs consumer group deliver.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import {
  AddPartitionsToTxnApi,
  CreateTopicsApi,
  EndTxnApi,
  FetchApi,
  FindCoordinatorApi,
  type FindCoordinatorResponse,
  InitProducerIdApi,
  type InitProducerIdResponse,
  ListOffsetsApi,
  ProduceApi,
} from '../../src/protocol/generated/index.js';
import {
  type DecodedRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
} from '../../src/protocol/records/index.js';
import { runProgramOk } from './process.js';
import { singlePartitionFetch, type WireClient } from './wire-client.js';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;
/** A non-flexible Fetch with isolation level, last stable offset and aborted transactions (v4+). */
const FETCH_VERSION = 11;
const LIST_OFFSETS_VERSION = 7;
const LATEST_TIMESTAMP = -1n;

/** The two control record types of a transaction marker (key: int16 version, int16 type). */
export const ABORT = 'ABORT';
export const COMMIT = 'COMMIT';

/** [offset, value] of a data record, or [offset, 'COMMIT' | 'ABORT'] of a transaction marker. */
export type LogEntry = [offset: number, value: string];

export interface AbortedTransactionEntry {
  producerId: number;
  firstOffset: number;
}

export interface FetchedPartition {
  highWatermark: number;
  lastStableOffset: number;
  /** null when the response carries none (read_uncommitted). */
  abortedTransactions: AbortedTransactionEntry[] | null;
  batches: DecodedRecordBatch[];
}

export function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export async function createTopic(wire: WireClient, name: string, partitions: number): Promise<void> {
  const response = await wire.call(CreateTopicsApi, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  assert.equal(response.topics[0]?.errorCode, 0, `CreateTopics ${name}: ${JSON.stringify(response.topics)}`);
}

/** One Fetch of one partition (maxWaitMs 0). */
export async function fetchPartition(
  wire: WireClient,
  topic: string,
  partition: number,
  fetchOffset: number,
  isolationLevel: number,
): Promise<FetchedPartition> {
  const response = await wire.call(
    FetchApi,
    FETCH_VERSION,
    singlePartitionFetch(topic, partition, BigInt(fetchOffset), isolationLevel),
  );
  const data = response.responses[0]?.partitions[0];
  assert.ok(data, `Fetch ${topic}-${partition}: no partition in ${JSON.stringify(response, bigintJson)}`);
  assert.equal(data.errorCode, 0, `Fetch ${topic}-${partition} at ${fetchOffset}: error ${data.errorCode}`);
  return {
    highWatermark: Number(data.highWatermark),
    lastStableOffset: Number(data.lastStableOffset),
    abortedTransactions:
      data.abortedTransactions === null
        ? null
        : data.abortedTransactions.map((t) => ({
            producerId: Number(t.producerId),
            firstOffset: Number(t.firstOffset),
          })),
    batches: decodeRecordBatches(data.records ?? Buffer.alloc(0)),
  };
}

export interface PartitionLog {
  entries: LogEntry[];
  batches: DecodedRecordBatch[];
  highWatermark: number;
  lastStableOffset: number;
}

/** What one control batch holds, checked to be a well-formed transaction marker. */
function markerType(batch: DecodedRecordBatch): string {
  const where = `marker batch at ${batch.baseOffset}`;
  assert.equal(batch.isTransactional, true, `${where}: transactional flag`);
  assert.equal(batch.records.length, 1, `${where}: one record`);
  assert.equal(batch.baseSequence, -1, `${where}: base sequence`);
  assert.ok(batch.producerId >= 0, `${where}: producer id ${batch.producerId}`);
  const record = batch.records[0]!;
  assert.ok(record.key !== null && record.key.length === 4, `${where}: key of 4 bytes`);
  assert.equal(record.key.readInt16BE(0), 0, `${where}: key version`);
  const type = record.key.readInt16BE(2);
  assert.ok(type === 0 || type === 1, `${where}: control type ${type}`);
  assert.ok(record.value !== null && record.value.length === 6, `${where}: value of 6 bytes`);
  assert.equal(record.value.readInt16BE(0), 0, `${where}: value version`);
  return type === 1 ? COMMIT : ABORT;
}

/**
 * Every record of the partition from offset 0 to the high watermark (read_uncommitted), markers included and
 * checked: each one has the producer id of a transactional data batch before it in the partition.
 */
export async function readLog(wire: WireClient, topic: string, partition: number): Promise<PartitionLog> {
  const entries: LogEntry[] = [];
  const batches: DecodedRecordBatch[] = [];
  let fetchOffset = 0;
  for (let round = 0; round < 100; round++) {
    const fetched = await fetchPartition(wire, topic, partition, fetchOffset, READ_UNCOMMITTED);
    if (fetchOffset >= fetched.highWatermark) {
      const transactionalProducers = new Set(
        batches.filter((b) => b.isTransactional && !b.isControl).map((b) => b.producerId),
      );
      for (const batch of batches.filter((b) => b.isControl)) {
        assert.ok(
          transactionalProducers.has(batch.producerId),
          `${topic}-${partition}: marker at ${batch.baseOffset} of producer ${batch.producerId}, which wrote no transactional batch`,
        );
      }
      return {
        entries,
        batches,
        highWatermark: fetched.highWatermark,
        lastStableOffset: fetched.lastStableOffset,
      };
    }
    assert.ok(fetched.batches.length > 0, `Fetch ${topic}-${partition} at ${fetchOffset}: no whole batch`);
    for (const batch of fetched.batches) {
      batches.push(batch);
      if (batch.isControl) {
        entries.push([batch.baseOffset, markerType(batch)]);
      } else {
        for (const record of batch.records) {
          if (record.offset >= fetchOffset)
            entries.push([record.offset, record.value?.toString() ?? '<null>']);
        }
      }
      fetchOffset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
  }
  throw new Error(`Fetch ${topic}-${partition}: still short of the high watermark after 100 rounds`);
}

/** ListOffsets LATEST (or another timestamp) for one partition at one isolation level. */
export async function listOffset(
  wire: WireClient,
  topic: string,
  partition: number,
  isolationLevel: number,
  timestamp: bigint = LATEST_TIMESTAMP,
): Promise<number> {
  const response = await wire.call(ListOffsetsApi, LIST_OFFSETS_VERSION, {
    replicaId: -1,
    isolationLevel,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }],
      },
    ],
  });
  const answer = response.topics[0]?.partitions[0];
  assert.ok(answer, `ListOffsets ${topic}-${partition}: ${JSON.stringify(response, bigintJson)}`);
  assert.equal(answer.errorCode, 0, `ListOffsets ${topic}-${partition}: error ${answer.errorCode}`);
  return Number(answer.offset);
}

/** [partition, offset, value] as a consumer delivered them. */
export type Delivered = [partition: number, offset: number, value: string];

/** Groups by partition (stable: each partition keeps the order of delivery). */
export function byPartitionInOrder(delivered: Delivered[]): Delivered[] {
  return [...delivered].sort((a, b) => a[0] - b[0]);
}

/** kcat -C -e from the beginning with this isolation level: what librdkafka delivers up to its end of partition. */
export async function kcatRead(
  bootstrap: string,
  topic: string,
  isolationLevel: 'read_committed' | 'read_uncommitted',
  timeoutMs = 20_000,
): Promise<Delivered[]> {
  const { stdout } = await runProgramOk(
    'kcat',
    [
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-X',
      `isolation.level=${isolationLevel}`,
      '-f',
      '%p|%o|%s\\n',
    ],
    { timeoutMs },
  );
  const delivered = stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line): Delivered => {
      const [partition, offset, ...value] = line.split('|');
      return [Number(partition), Number(offset), value.join('|')];
    });
  return byPartitionInOrder(delivered);
}

/**
 * Consumes `topic` from the beginning through a fresh kafkajs group until every partition named in `untilOffsets`
 * has delivered a message at or past that offset; returns everything delivered, grouped by partition. Fails
 * after timeoutMs with what it got.
 */
export async function kafkajsRead(
  kafka: Kafka,
  topic: string,
  untilOffsets: Record<number, number>,
  options: { readUncommitted: boolean; timeoutMs?: number },
): Promise<Delivered[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const remaining = new Map(Object.entries(untilOffsets).map(([p, o]) => [Number(p), o]));
  const delivered: Delivered[] = [];
  const consumer = kafka.consumer({
    groupId: `txn-test-${randomUUID()}`,
    readUncommitted: options.readUncommitted,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `kafkajsRead(${topic}): timed out after ${timeoutMs} ms waiting for ${JSON.stringify([...remaining])}; got ${JSON.stringify(delivered)}`,
          ),
        );
      }, timeoutMs);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) {
          clearTimeout(timer);
          reject(new Error(`kafkajsRead(${topic}): consumer crashed: ${payload.error.message}`));
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const offset = Number(message.offset);
            delivered.push([partition, offset, message.value?.toString() ?? '<null>']);
            const until = remaining.get(partition);
            if (until !== undefined && offset >= until) remaining.delete(partition);
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
  return byPartitionInOrder(delivered);
}

/**
 * FindCoordinator v3 for a transactional id (key type 1), asked again while the coordinator is not available yet:
 * Kafka answers COORDINATOR_NOT_AVAILABLE while it creates __transaction_state, and clients retry, as here.
 */
export async function findTransactionCoordinator(
  wire: WireClient,
  transactionalId: string,
  timeoutMs = 10_000,
): Promise<FindCoordinatorResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await wire.call(FindCoordinatorApi, 3, {
      key: transactionalId,
      keyType: 1,
      coordinatorKeys: [],
    });
    if (response.errorCode !== COORDINATOR_NOT_AVAILABLE || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const COORDINATOR_NOT_AVAILABLE = 15;

/** What a Produce answered for one partition: the error code, and the base offset when there is none. */
export type ProduceOutcome = { errorCode: 0; baseOffset: number } | { errorCode: number };

/**
 * A transactional producer spoken in raw requests (InitProducerId, AddPartitionsToTxn v3, transactional Produce
 * v9 batches with their own sequences, EndTxn v3), for tests that need exact control over each step.
 */
export class RawTransactionalProducer {
  producerId = -1n;
  producerEpoch = -1;
  private readonly sequences = new Map<string, number>();

  constructor(
    private readonly wire: WireClient,
    readonly transactionalId: string,
    private readonly transactionTimeoutMs = 60_000,
  ) {}

  /** InitProducerId v3 (no producer id of its own yet: -1/-1); remembers the grant. */
  async init(): Promise<InitProducerIdResponse> {
    const response = await this.wire.call(InitProducerIdApi, 3, {
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.transactionTimeoutMs,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (response.errorCode === 0) {
      this.producerId = response.producerId;
      this.producerEpoch = response.producerEpoch;
      this.sequences.clear();
    }
    return response;
  }

  /** AddPartitionsToTxn v3: the error code of each partition, in request order. */
  async addPartitions(
    topic: string,
    partitions: number[],
    producerEpoch = this.producerEpoch,
  ): Promise<number[]> {
    const response = await this.wire.call(AddPartitionsToTxnApi, 3, {
      transactions: [],
      v3AndBelowTransactionalId: this.transactionalId,
      v3AndBelowProducerId: this.producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions }],
    });
    const results = response.resultsByTopicV3AndBelow.find((t) => t.name === topic)?.resultsByPartition ?? [];
    return partitions.map(
      (partition) => results.find((r) => r.partitionIndex === partition)?.partitionErrorCode ?? -999,
    );
  }

  /** One transactional batch of these values (next sequence of the partition), Produce v9, acks -1. */
  async produce(topic: string, partition: number, values: string[]): Promise<ProduceOutcome> {
    const key = `${topic}-${partition}`;
    const baseSequence = this.sequences.get(key) ?? 0;
    const records = encodeRecordBatch({
      records: values.map((value) => ({ key: null, value: Buffer.from(value), timestamp: Date.now() })),
      producerId: Number(this.producerId),
      producerEpoch: this.producerEpoch,
      baseSequence,
      isTransactional: true,
    });
    const response = await this.wire.call(ProduceApi, 9, {
      transactionalId: this.transactionalId,
      acks: -1,
      timeoutMs: 5_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    const answer = response.responses[0]?.partitionResponses[0];
    assert.ok(answer, `Produce ${key}: ${JSON.stringify(response, bigintJson)}`);
    if (answer.errorCode !== 0) return { errorCode: answer.errorCode };
    this.sequences.set(key, baseSequence + values.length);
    return { errorCode: 0, baseOffset: Number(answer.baseOffset) };
  }

  /** EndTxn v3: the error code. */
  async end(commit: boolean, producerEpoch = this.producerEpoch): Promise<number> {
    const response = await this.wire.call(EndTxnApi, 3, {
      transactionalId: this.transactionalId,
      producerId: this.producerId,
      producerEpoch,
      committed: commit,
    });
    return response.errorCode;
  }
}

export const produced = (baseOffset: number): ProduceOutcome => ({ errorCode: 0, baseOffset });
export const refused = (errorCode: number): ProduceOutcome => ({ errorCode });
